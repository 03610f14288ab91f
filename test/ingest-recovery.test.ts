/**
 * The ingester's recovery promise, on real servers: "kill -9 the ingester mid-file, or stop OpenSearch
 * for a while, and after restart the index holds exactly the lines of the file".
 *
 * The input is a generated csvlog (test/support/csvlog-generator.ts on bench/csvlog-generator.ts's row writer: seeded, 20,000 pgaudit lines among
 * ~3,000 other rows, written as PostgreSQL 15 writes csvlog; PostgreSQL's own COPY ... CSV checks that).
 * "Exactly" is checked three ways: the service's event count, every expected document fetched by id
 * (so nothing is missing, and with the count, nothing is extra) and compared field by field, and the
 * checkpoint (offset = file size, events/malformed = the file's audit/forged lines). After each kill or
 * outage, every event before the saved checkpoint must already be in the index: the checkpoint never
 * runs ahead of what OpenSearch acknowledged.
 *
 *   failing-crash    the built CLI (`ingest --once`) killed with SIGKILL twice mid-file, then run to the end
 *   failing-outage   a second OpenSearch node of this file's own, stopped (SIGTERM) mid-file and started
 *                    again on the same data dir and port ~10 s later; one ingester rides it out on its
 *                    backoff, another gives up (STORE_UNAVAILABLE) and is simply run again
 *   files            appended lines (the last one half-written first), a file replaced under the same
 *                    name, a file truncated below its checkpoint
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import { clusterBaseDir } from '../dev/local/postgres-cluster';
import { OpenSearchNode } from '../dev/local/opensearch-node';
import { silentLogger } from '../src/base/logger';
import { indexFor, tiebreakOf } from '../src/modules/audit-events/event.index';
import { searchTerms } from '../src/modules/audit-events/event.terms';
import { AuditEventsError, AuditEventsErrorCode } from '../src/modules/audit-events/audit-events.errors';
import { EventStore } from '../src/modules/audit-events/event.store';
import { eventId } from '../src/modules/ingest/audit-event';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester, IngestStats } from '../src/modules/ingest/ingester';
import { CLI, ROOT } from './support/cli';
import { CsvlogRow, generateCsvlog, GeneratedCsvlog } from './support/csvlog-generator';
import { createPostgresLogTable, createTenant, env, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { openSearch } from './support/opensearch';

const LOG_FILE = 'postgresql-2026-11-24_190000.csv';
const AUDIT_LINES = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let g: TestGateway;
let checkpoints: CheckpointRepository;
let tmp: string;
let big: GeneratedCsvlog;                  // the 20,000-line file of the crash and outage tests
// Recent times (ingest-query.test.ts expires indices older than 30 days in the shared node); files
// generated from different start times never share a session id.
const base = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;
const at = (minutes: number) => new Date(base + minutes * 60_000);

// The outage test's own OpenSearch node (started in beforeAll, beside the gateway).
const nodeBase = clusterBaseDir(path.join(ROOT, '.local/test-clusters', `ingest-recovery-${process.pid}`), `ingest-recovery-${process.pid}`);
const NODE_NAME = 'opensearch-outage';
let node: OpenSearchNode | undefined;

beforeAll(async () => {
  const starting = OpenSearchNode.start({ name: NODE_NAME, baseDir: nodeBase, fresh: true }).then((n) => { node = n; });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-recovery-'));
  fs.chmodSync(tmp, 0o755);                // PostgreSQL (another user) reads the file in the first test
  big = generateCsvlog({ seed: 20261124, auditLines: AUDIT_LINES, start: at(0) });
  const gateway = (async () => {
    g = await startTestGateway();
    await g.gateway.eventStore!.ensureTemplate();
    checkpoints = new CheckpointRepository(g.gateway.db.prisma);
  })();
  // All settled before failing: a node still starting when afterAll runs would outlive the test.
  const failed = (await Promise.allSettled([starting, gateway])).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}, 180_000);

afterAll(async () => {
  await node?.stop();
  fs.rmSync(nodeBase, { recursive: true, force: true });
  await g?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------------
// helpers

/** A new log directory holding `LOG_FILE` with these bytes. */
function logDir(name: string, bytes: Buffer): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, LOG_FILE), bytes, { mode: 0o644 });
  return dir;
}

/** Events (or dead letters) of the service, after a refresh. */
async function countOf(url: string, serviceId: string, index = 'pgaudit-events-*'): Promise<number> {
  await openSearch(url, 'POST', `/${index}/_refresh?allow_no_indices=true&ignore_unavailable=true`);
  return (await openSearch(url, 'POST', `/${index}/_count?allow_no_indices=true&ignore_unavailable=true`, { query: { term: { serviceId } } })).count;
}

/** The document the ingester must store for an audit row of `t`'s file. */
function expectedDoc(t: Tenant, row: CsvlogRow) {
  const e = row.event!;
  const id = eventId(t.serviceId, e.sessionId, e.sessionLineNum);
  const terms = searchTerms(e.statement, e.objectName);
  return { id, tiebreak: tiebreakOf(id), serviceId: t.serviceId, projectId: t.projectId, organizationId: t.organizationId, ...e,
    ...(terms.length > 0 ? { searchTerms: terms } : {}) };
}

/**
 * Fetches the expected documents by id (realtime: no refresh needed). Returns the ids not found and,
 * with `compare`, the first documents that differ from what the rows say.
 */
async function lookUp(url: string, t: Tenant, rows: readonly CsvlogRow[], compare = false): Promise<{ missing: string[]; differing: unknown[] }> {
  const missing: string[] = [];
  const differing: unknown[] = [];
  for (let i = 0; i < rows.length; i += 2000) {
    const expected = rows.slice(i, i + 2000).map((r) => expectedDoc(t, r));
    const res = await openSearch<{ docs: { _id: string; found?: boolean; _source?: Record<string, unknown> }[] }>(url, 'POST', '/_mget',
      { docs: expected.map((d) => ({ _index: indexFor(d.timestamp), _id: d.id })) });
    res.docs.forEach((doc, j) => {
      if (!doc.found) missing.push(expected[j]!.id);
      else if (compare && differing.length < 3) {
        // ingestedAt is the ingester's clock as it wrote the event: any valid time, the rest exactly what the row says
        const { ingestedAt, ...stored } = doc._source ?? {};
        if (typeof ingestedAt !== 'string' || Number.isNaN(Date.parse(ingestedAt)) || !isDeepStrictEqual(stored, expected[j])) {
          differing.push({ stored: doc._source, expected: expected[j] });
        }
      }
    });
  }
  return { missing, differing };
}

/** All these rows' events are stored (fetched by id): a short message naming the first few that are not. */
async function expectStored(url: string, t: Tenant, rows: readonly CsvlogRow[]): Promise<void> {
  const { missing } = await lookUp(url, t, rows);
  expect({ missing: missing.length, first: missing.slice(0, 3) }).toEqual({ missing: 0, first: [] });
}

const auditBefore = (gen: GeneratedCsvlog, offset: number) => gen.audit.filter((r) => r.endOffset <= offset);
const auditAfter = (gen: GeneratedCsvlog, offset: number) => gen.audit.filter((r) => r.endOffset > offset);

/** The ingest CLI as a child process (json output). */
function spawnIngest(serviceId: string, dir: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, 'ingest', '--service', serviceId, '--log-dir', dir, '--once', '--json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: urls.gatewayDb, OPENSEARCH_URL: env('OPENSEARCH_URL'), LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Polls the checkpoint until its offset passes `beyond`; fails if `stop()` says the work ended first. */
async function progressBeyond(serviceId: string, beyond: number, stop: () => string | null, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await checkpoints.get(serviceId, LOG_FILE);
    if (c && c.offset > beyond) return c.offset;
    const why = stop();
    if (why) throw new Error(`no checkpoint progress beyond ${beyond} before ${why}`);
    if (Date.now() > deadline) throw new Error(`no checkpoint progress beyond ${beyond} in ${timeoutMs} ms`);
    await sleep(10);
  }
}

function ingester(t: Tenant, dir: string, store: EventStore, batchSize?: number): Promise<Ingester> {
  return g.gateway.tenancy.serviceById(t.serviceId).then((service) =>
    new Ingester(service!, dir, store, checkpoints, silentLogger, batchSize ? { batchSize } : {}));
}

/** Everything "exactly the lines of the file" means, for a service that ingested only `gen`. */
async function expectExactly(url: string, t: Tenant, gen: GeneratedCsvlog, compare = false): Promise<void> {
  expect(await countOf(url, t.serviceId)).toBe(gen.audit.length);
  const { missing, differing } = await lookUp(url, t, gen.audit, compare);
  expect({ missing: missing.length, first: missing.slice(0, 3) }).toEqual({ missing: 0, first: [] });
  expect(differing).toEqual([]);
  expect(await countOf(url, t.serviceId, 'pgaudit-deadletter*')).toBe(gen.forged.length);
  expect(await checkpoints.get(t.serviceId, LOG_FILE)).toMatchObject({ offset: gen.bytes.length, events: gen.audit.length, malformed: gen.forged.length });
}

// ---------------------------------------------------------------------------------------------------

it('the generated file is csvlog as PostgreSQL itself reads it: every row, 26 columns, unique (session_id, session_line_num)', async () => {
  const dir = logDir('copy', big.bytes);
  const client = new Client({ connectionString: urls.pgaudit });
  await client.connect();
  try {
    await createPostgresLogTable(client, true);
    await client.query(`COPY postgres_log FROM '${path.join(dir, LOG_FILE).replace(/'/g, "''")}' WITH csv`);
    const rows = (await client.query(`SELECT session_id, session_line_num::int AS n, log_time, user_name, database_name, application_name,
      message, context FROM postgres_log`)).rows;
    expect(rows.length).toBe(big.rows.length);
    const byKey = new Map(rows.map((r) => [`${r.session_id}/${r.n}`, r]));
    for (const row of big.rows) {
      const r = byKey.get(`${row.sessionId}/${row.sessionLineNum}`);
      expect(r).toBeDefined();
      if (row.kind === 'other') continue;
      expect(r.message.startsWith('AUDIT: ')).toBe(true);
      expect(r.context !== null).toBe(row.kind === 'forged');
      expect(row.event !== undefined).toBe(row.kind === 'audit');   // every audit row is checked below
      if (row.event) {
        expect([r.log_time.toISOString(), r.user_name, r.database_name, r.application_name || null])
          .toEqual([row.event.timestamp, row.event.user, row.event.database, row.event.applicationName]);
      }
    }
  } finally { await client.end(); }
  expect(big.audit.length).toBe(AUDIT_LINES);
  expect(big.forged.length).toBeGreaterThan(0);
  expect(big.bytes.equals(generateCsvlog({ seed: 20261124, auditLines: AUDIT_LINES, start: at(0) }).bytes)).toBe(true);   // deterministic
});

it('failing-crash: `ingest --once` killed with SIGKILL twice mid-file, then run again: exactly the lines of the file', async () => {
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const dir = logDir('crash', big.bytes);
  const size = big.bytes.length;

  let offset = 0;
  for (const delayMs of [0, 150]) {       // kill right after a checkpoint, then somewhere inside a batch
    const { child, done } = spawnIngest(t.serviceId, dir);
    let exited: string | null = null;
    void done.then((r) => { exited = `the CLI exited (${r.code ?? r.signal}): ${r.stderr.slice(0, 500)}`; });
    try {
      await progressBeyond(t.serviceId, offset, () => exited);
      await sleep(delayMs);
    } finally { child.kill('SIGKILL'); }
    expect((await done).signal).toBe('SIGKILL');
    const c = (await checkpoints.get(t.serviceId, LOG_FILE))!;
    expect(c.offset).toBeGreaterThan(offset);
    expect(c.offset).toBeLessThan(size);                                    // really mid-file
    expect(big.rows.some((r) => r.endOffset === c.offset)).toBe(true);     // at a row boundary
    expect(c.events).toBe(auditBefore(big, c.offset).length);
    // The checkpoint never runs ahead of OpenSearch: every event before it is stored.
    await expectStored(env('OPENSEARCH_URL'), t, auditBefore(big, c.offset));
    offset = c.offset;
  }

  const { done } = spawnIngest(t.serviceId, dir);
  const r = await done;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // It resumed at the checkpoint: it read exactly the rest of the file.
  expect(JSON.parse(r.stdout)).toEqual({ files: 1, events: auditAfter(big, offset).length, malformed: big.forged.filter((x) => x.endOffset > offset).length, bytes: size - offset, sessionEvents: expect.any(Number), seconds: expect.any(Number) });

  await expectExactly(env('OPENSEARCH_URL'), t, big, true);
  const q = await g.exec(t.token, `query($s: ID!) { auditEvents(serviceId: $s, first: 1) { totalCount } }`, { s: t.serviceId });
  expect(q.data!.auditEvents.totalCount).toBe(AUDIT_LINES);
});

it('failing-outage: OpenSearch stopped mid-file and restarted on the same data ~10 s later: exactly the lines of the file', async () => {
  expect(node).toBeDefined();
  const url = node!.url;
  const dir = logDir('outage', big.bytes);
  const size = big.bytes.length;
  const setup = new EventStore(url);
  // Retries after 0.1, 0.3, 0.7, ... 25.5 and 51.1 s: rides out an outage of up to ~50 s (and, should this
  // test fail with the node down, gives up after that instead of keeping jest alive for many minutes).
  const patient = new EventStore(url, { backoffMs: 100, maxBulkAttempts: 10 });
  const impatient = new EventStore(url, { backoffMs: 100, maxBulkAttempts: 3 });  // gives up after ~0.3 s
  try {
    await setup.ensureTemplate();
    const rider = await createTenant(g, { serviceUrl: urls.pgaudit });
    const quitter = await createTenant(g, { serviceUrl: urls.pgaudit });
    // Small batches: many checkpoints, so the stop lands mid-file.
    const riding = (await ingester(rider, dir, patient, 200)).runOnce();
    const quitting = (await ingester(quitter, dir, impatient, 200)).runOnce().then((s) => s, (err: Error) => err);
    riding.catch(() => undefined);         // awaited below; no unhandled rejection meanwhile
    let ended: string | null = null;
    void riding.then(() => { ended = 'the riding ingester finished'; }, () => { ended = 'the riding ingester failed'; });
    void quitting.then((x) => { if (!(x instanceof Error)) ended = 'the quitting ingester finished'; });
    await progressBeyond(rider.serviceId, 0, () => ended);
    await progressBeyond(quitter.serviceId, 0, () => ended);

    await node!.stop();                    // SIGTERM; resolves once the process is gone
    const stoppedAt = Date.now();
    // The impatient one gives up while OpenSearch is down.
    const outcome = await quitting;
    expect(outcome).toBeInstanceOf(AuditEventsError);
    expect((outcome as AuditEventsError).code).toBe(AuditEventsErrorCode.STORE_UNAVAILABLE);
    await sleep(2000);                     // a save for a batch acknowledged just before the stop has landed by now
    const quitterCheckpoint = (await checkpoints.get(quitter.serviceId, LOG_FILE))!;
    const riderAtStop = (await checkpoints.get(rider.serviceId, LOG_FILE))!;
    expect(quitterCheckpoint.offset).toBeLessThan(size);                  // both really stopped mid-file
    expect(riderAtStop.offset).toBeLessThan(size);

    await sleep(Math.max(0, stoppedAt + 10_000 - Date.now()));
    expect((await checkpoints.get(rider.serviceId, LOG_FILE))!.offset).toBe(riderAtStop.offset);   // nothing moved while it was down
    node = await OpenSearchNode.start({ name: NODE_NAME, baseDir: nodeBase, port: node!.port, fresh: false });
    expect(node.url).toBe(url);

    // What was acknowledged before the stop survived it: every event before each checkpoint is stored.
    await expectStored(url, quitter, auditBefore(big, quitterCheckpoint.offset));
    await expectStored(url, rider, auditBefore(big, riderAtStop.offset));

    // The impatient one, run again, reads exactly the rest of the file.
    const again = await (await ingester(quitter, dir, impatient, 200)).runOnce();
    expect(again.events).toBe(auditAfter(big, quitterCheckpoint.offset).length);
    // The patient one finishes its run by itself, each event counted once.
    const rode: IngestStats = await riding;
    expect(rode).toEqual({ files: 1, events: AUDIT_LINES, malformed: big.forged.length, bytes: size, sessionEvents: expect.any(Number) });

    await expectExactly(url, rider, big, true);
    await expectExactly(url, quitter, big);
  } finally {
    await Promise.all([setup.close(), patient.close(), impatient.close()]);
  }
}, 120_000);

describe('files that change between runs', () => {
  const run = async (t: Tenant, dir: string) => (await ingester(t, dir, g.gateway.eventStore!)).runOnce();
  const url = () => env('OPENSEARCH_URL');

  it('appended lines are read, and only they; a half-written last row waits until it is complete', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const gen = generateCsvlog({ seed: 7, auditLines: 3000, start: at(10) });
    const mid = gen.rows[Math.floor(gen.rows.length / 2)]!.endOffset;
    // The second append stops inside a quoted statement, right after one of its line breaks.
    const torn = gen.audit.find((r) => r.startOffset > mid && /\n./.test(r.text))!;
    const cut = torn.startOffset + Buffer.byteLength(torn.text.slice(0, torn.text.indexOf('\n') + 1));
    const dir = logDir('append', gen.bytes.subarray(0, mid));
    const file = path.join(dir, LOG_FILE);

    expect((await run(t, dir)).events).toBe(auditBefore(gen, mid).length);
    fs.appendFileSync(file, gen.bytes.subarray(mid, cut));
    expect((await run(t, dir)).events).toBe(auditBefore(gen, torn.startOffset).length - auditBefore(gen, mid).length);
    expect((await checkpoints.get(t.serviceId, LOG_FILE))!.offset).toBe(torn.startOffset);
    fs.appendFileSync(file, gen.bytes.subarray(cut));
    expect((await run(t, dir)).events).toBe(auditAfter(gen, torn.startOffset).length);
    expect((await run(t, dir)).events).toBe(0);
    await expectExactly(url(), t, gen, true);
  });

  it('a file replaced under the same name (new inode, larger) is read from the start', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const first = generateCsvlog({ seed: 11, auditLines: 600, start: at(20) });
    const second = generateCsvlog({ seed: 12, auditLines: 1500, start: at(30) });
    expect(second.bytes.length).toBeGreaterThan(first.bytes.length);   // so only the identity can tell
    const dir = logDir('replace', first.bytes);
    const file = path.join(dir, LOG_FILE);
    expect((await run(t, dir)).events).toBe(600);
    const before = (await checkpoints.get(t.serviceId, LOG_FILE))!;

    fs.writeFileSync(`${file}.new`, second.bytes);
    const inode = fs.statSync(file).ino;
    fs.renameSync(`${file}.new`, file);
    expect(fs.statSync(file).ino).not.toBe(inode);
    expect((await run(t, dir)).events).toBe(1500);
    const after = (await checkpoints.get(t.serviceId, LOG_FILE))!;
    expect(after).toMatchObject({ offset: second.bytes.length, events: 1500, malformed: second.forged.length });
    expect(after.fileIdentity).not.toBe(before.fileIdentity);
    expect(await countOf(url(), t.serviceId)).toBe(2100);
    expect((await lookUp(url(), t, second.audit, true))).toEqual({ missing: [], differing: [] });
  });

  it('a file truncated below its checkpoint (same inode, new content) is read from the start', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const first = generateCsvlog({ seed: 21, auditLines: 1500, start: at(40) });
    const second = generateCsvlog({ seed: 22, auditLines: 400, start: at(50) });
    const dir = logDir('truncate', first.bytes);
    const file = path.join(dir, LOG_FILE);
    expect((await run(t, dir)).events).toBe(1500);

    const inode = fs.statSync(file).ino;
    fs.truncateSync(file, 0);              // copytruncate-style rotation, then the server writes on
    fs.appendFileSync(file, second.bytes);
    expect(fs.statSync(file).ino).toBe(inode);
    expect(second.bytes.length).toBeLessThan(first.bytes.length);
    expect((await run(t, dir)).events).toBe(400);
    expect(await checkpoints.get(t.serviceId, LOG_FILE)).toMatchObject({ offset: second.bytes.length, events: 400, malformed: second.forged.length });
    expect(await countOf(url(), t.serviceId)).toBe(1900);
    expect((await lookUp(url(), t, second.audit, true))).toEqual({ missing: [], differing: [] });
  });

  it('a file truncated and rewritten PAST its checkpoint (same inode, log_truncate_on_rotation) is read from the start', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const first = generateCsvlog({ seed: 31, auditLines: 400, start: at(60) });
    const second = generateCsvlog({ seed: 32, auditLines: 1500, start: at(70) });
    expect(second.bytes.length).toBeGreaterThan(first.bytes.length);   // size alone cannot tell
    const dir = logDir('truncate-past', first.bytes);
    const file = path.join(dir, LOG_FILE);
    expect((await run(t, dir)).events).toBe(400);
    const inode = fs.statSync(file).ino;
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, second.bytes);
    expect(fs.statSync(file).ino).toBe(inode);
    expect((await run(t, dir)).events).toBe(1500);
    expect(await countOf(url(), t.serviceId)).toBe(1900);
    expect((await lookUp(url(), t, second.audit, true))).toEqual({ missing: [], differing: [] });
  });

  it('following a directory: rotated files are picked up as they appear, until stopped', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const one = generateCsvlog({ seed: 41, auditLines: 300, start: at(80) });
    const two = generateCsvlog({ seed: 42, auditLines: 500, start: at(90) });
    const dir = logDir('follow', one.bytes.subarray(0, 0));
    const stop = new AbortController();
    const following = (await ingester(t, dir, g.gateway.eventStore!)).follow(stop.signal, 100);
    const until = async (n: number) => {
      for (let i = 0; i < 300 && (await countOf(url(), t.serviceId)) !== n; i++) await new Promise((r) => setTimeout(r, 50));
      return countOf(url(), t.serviceId);
    };
    try {
      fs.writeFileSync(path.join(dir, LOG_FILE), one.bytes);
      expect(await until(300)).toBe(300);
      fs.writeFileSync(path.join(dir, 'postgresql-2026-11-25_000000.csv'), two.bytes);   // PostgreSQL rotated
      expect(await until(800)).toBe(800);
    } finally {
      stop.abort();
      await following;                     // returns promptly once stopped
    }
  });
});
