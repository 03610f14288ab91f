/**
 * The raw-index source's shared mode on the real OpenSearch and PostgreSQL: one index pattern many services' servers
 * write to (an integration's `logs-YYYY.MM.DD`), told apart by HOSTNAME, read once by `ingest --raw-index P
 * --raw-hosts` (the built CLI) and routed by the gateway's host mapping (`admin raw-host`, the built CLI too).
 * Two mapped services' logs (the real PG15 + pgaudit stderr log of the fixtures; the second's a day later, so that
 * a document routed to the wrong service shows) and unmapped hosts' are interleaved piece by piece, with
 * statements split over several documents for every host at once, in two daily indices. Each service gets exactly
 * the events of its log read as a stream (`ingest --stdin`), field for field; the unmapped hosts' documents are
 * skipped (no event of any tenant, no dead letter) and counted (`unmapped`, `unmappedHosts`, the recorder, one
 * warning per pass naming the hosts, never a MESSAGE); a pass that dies after a checkpoint, then a restart, then a
 * second pass store nothing twice; a host mapped later is read from the next pass on; a run of skipped documents
 * moves the checkpoint page by page; refused admin commands change nothing.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, silentLogger } from '../src/base/logger';
import { RawIndexRepository } from '../src/modules/ingest/raw-index.repository';
import { RedactionWatcher } from '../src/modules/redaction/redaction.watcher';
import { SharedRawIndexSource } from '../src/modules/ingest/raw-shared.source';
import { CLI, ROOT } from './support/cli';
import { createTenant, env, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { openSearch } from './support/opensearch';
import { eventsOf, RAW_MAPPING, recordDocuments, stderrRecords, storeRaw } from './support/raw-index';

const SAMPLE = readFileSync(path.join(ROOT, 'src/modules/ingest/fixtures/pgaudit-pg15/postgresql.stderr'), 'utf8');
const PREFIX = `sharedlogs-${process.pid}-`;
const PATTERN = `${PREFIX}*`;
const SOURCE = `raw:${PATTERN}`;
const DAY = 86_400_000;
// the fixture is dated 2026-11-24: a long retention keeps it inside the event-time window whenever the suite runs
const INGEST_ENV = { ...process.env, EVENT_RETENTION_DAYS: '3650', LOG_LEVEL: 'warn' };

/** The fixture's log with every line's time moved `days` later (another server's log, told apart by its times). */
const shifted = (days: number) => SAMPLE.replace(/^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) UTC/gm,
  (_m, t: string) => `${new Date(Date.parse(`${t.replace(' ', 'T')}Z`) + days * DAY).toISOString().replace('T', ' ').slice(0, 23)} UTC`);

let g: TestGateway;
const t: Record<'a' | 'b' | 'c' | 'streamA' | 'streamB' | 'streamC', Tenant> = {} as never;
const logs = { a: stderrRecords(SAMPLE), b: stderrRecords(shifted(1)), x: stderrRecords(SAMPLE), c: stderrRecords(shifted(2)) };
/** C's records before it is mapped (read as an unmapped host's), and after. */
const C_BEFORE = 20;
const seq = { a: new Map<string, number>(), b: new Map<string, number>(), x: new Map<string, number>(), c: new Map<string, number>() };
let nextId = 0;
const indexOf = (d: Record<string, unknown>) => `${PREFIX}${String(d.timestamp).slice(0, 10).replace(/-/g, '.')}`;

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input, encoding: 'utf8', env: INGEST_ENV, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(args: string[], input?: string): Record<string, any> {
  const r = run([...args, '--json'], input);
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, any>;
}

/** A command that must be refused: non-zero, nothing on stdout, one line on stderr. */
function refused(args: string[]): string {
  const r = run([...args, '--json']);
  expect(r.status).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

const mappings = () => json(['admin', 'list-raw-hosts', '--raw-index', PATTERN]).hosts as Record<string, string>[];
const sharedPass = () => json(['ingest', '--raw-index', PATTERN, '--raw-hosts', '--once']);

/** A pass of the built CLI: its --json stats and its warnings (stderr, one JSON object a line). */
function loggedPass(): { stats: Record<string, any>; warnings: Record<string, any>[] } {
  const r = run(['ingest', '--raw-index', PATTERN, '--raw-hosts', '--once', '--json']);
  if (r.status !== 0) throw new Error(`ingest exited ${r.status}: ${r.stderr}`);
  const warnings = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>).filter((l) => l.level === 'warn');
  return { stats: JSON.parse(r.stdout) as Record<string, any>, warnings };
}

/** This pattern's dead letters (of any tenant, or of none): there must be none, the unmapped hosts' included. */
async function lettersOfPattern(): Promise<number> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_refresh');
  return (await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_count', { query: { term: { source: SOURCE } } })).count;
}

/** Events of no tenant (what an unmapped document would be if it were kept as anyone's). */
async function eventsOfNobody(): Promise<number> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_refresh');
  return (await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_count', { query: { term: { serviceId: 'unauthenticated' } } })).count;
}

/** The unmapped hosts' documents among `docs`, by host, the most first. */
function unmappedOf(docs: Record<string, unknown>[]): { host: string; documents: number }[] {
  const by = new Map<string, number>();
  for (const d of docs) if (d.HOSTNAME === 'pg-x' || d.HOSTNAME === 'pg-c') by.set(String(d.HOSTNAME), (by.get(String(d.HOSTNAME)) ?? 0) + 1);
  return [...by].map(([host, documents]) => ({ host, documents })).sort((a, b) => b.documents - a.documents || a.host.localeCompare(b.host));
}

/** `docs` stored from id `first` on, in the order a pass reads them: (timestamp, _id). */
const readOrder = (docs: Record<string, unknown>[], first: number) => docs.map((d, i) => ({ d, id: String(first + i).padStart(10, '0') }))
  .sort((a, b) => Date.parse(String(a.d.timestamp)) - Date.parse(String(b.d.timestamp)) || a.id.localeCompare(b.id)).map((x) => x.d);

async function deadLettersOf(serviceId: string): Promise<number> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_refresh');
  return (await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_count', { query: { term: { serviceId } } })).count;
}

/**
 * The documents of records [from, to) of each host, interleaved piece by piece as an integration receives them
 * (a's first piece, b's, x's, a's second...), each record's documents stamped with the time the first host's
 * record was received: the first half on its day, the second half a day later (the second daily index).
 */
function interleaved(hosts: ('a' | 'b' | 'x' | 'c')[], from: number, to: number, dayOffset: (i: number) => number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = from; i < to; i++) {
    const base = logs[hosts[0]!][i]!;
    const time = new Date(Date.parse(`${base.slice(0, 23).replace(' ', 'T')}Z`) + dayOffset(i) * DAY).toISOString();
    const pieces = hosts.map((h) => (logs[h][i] === undefined ? [] : recordDocuments(logs[h][i]!, `pg-${h}`, seq[h], time)));
    for (let k = 0; pieces.some((p) => k < p.length); k++) for (const p of pieces) if (k < p.length) out.push(p[k]!);
  }
  return out;
}

async function store(docs: Record<string, unknown>[]): Promise<void> {
  await storeRaw(docs, nextId, indexOf);
  nextId += docs.length;
}

beforeAll(async () => {
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  for (const k of ['a', 'b', 'c', 'streamA', 'streamB', 'streamC'] as const) t[k] = await createTenant(g, { serviceUrl: urls.pgaudit });
  for (const day of ['2026.11.24', '2026.11.25', '2026.11.26', '2026.11.27']) await openSearch(env('OPENSEARCH_URL'), 'PUT', `/${PREFIX}${day}`, RAW_MAPPING);
  // the baselines: each log read as a stream (C: only what it logs once mapped)
  json(['ingest', '--service', t.streamA.serviceId, '--stdin', '--source', 'pg-a:postgresql.log', '--format', 'stderr'], SAMPLE);
  json(['ingest', '--service', t.streamB.serviceId, '--stdin', '--source', 'pg-b:postgresql.log', '--format', 'stderr'], shifted(1));
  json(['ingest', '--service', t.streamC.serviceId, '--stdin', '--source', 'pg-c:postgresql.log', '--format', 'stderr'], `${logs.c.slice(C_BEFORE).join('\n')}\n`);
}, 120_000);

afterAll(async () => {
  await openSearch(env('OPENSEARCH_URL'), 'DELETE', `/${PATTERN}`).catch(() => undefined);
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_delete_by_query?refresh=true', { query: { term: { source: SOURCE } } }).catch(() => undefined);
  await g?.close();
});

it('admin raw-host maps hosts, lists them, and refuses a bad pattern, a bad host, an unknown service or a taken host, changing nothing', () => {
  const a = json(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'PG-A', '--service', t.a.serviceId]);
  expect(a).toMatchObject({ indexPattern: PATTERN, host: 'pg-a', serviceId: t.a.serviceId, alreadyMapped: false });
  json(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-b', '--service', t.b.serviceId]);
  const before = mappings();
  expect(before.map((m) => [m.host, m.serviceId])).toEqual([['pg-a', t.a.serviceId], ['pg-b', t.b.serviceId]]);

  expect(refused(['admin', 'raw-host', '--raw-index', 'Shared,logs-*', '--host', 'pg-c', '--service', t.c.serviceId])).toMatch(/--raw-index takes an index name or pattern/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg_c;drop', '--service', t.c.serviceId])).toMatch(/--host takes a hostname/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-c', '--service', randomUUID()])).toMatch(/service .* does not exist/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-c', '--service', 'not-a-service'])).toMatch(/--service takes a service id/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-a', '--service', t.b.serviceId])).toMatch(/mapped to service .*remove that mapping first/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-c', '--remove'])).toMatch(/is not mapped/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-a', '--remove', '--service', t.b.serviceId])).toMatch(/is not mapped to service/);
  expect(refused(['admin', 'raw-host', '--raw-index', PATTERN, '--service', t.c.serviceId])).toMatch(/--host is required/);
  expect(refused(['ingest', '--raw-index', PATTERN, '--raw-hosts', '--service', t.a.serviceId, '--once'])).toMatch(/without --service/);
  // the same mapping again changes nothing and says so
  expect(json(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-b.', '--service', t.b.serviceId])).toMatchObject({ alreadyMapped: true });
  expect(mappings()).toEqual(before);
  expect(json(['admin', 'list-raw-hosts']).hosts).toEqual(expect.arrayContaining(before));
}, 120_000);

it('two services and unmapped hosts in two daily indices: each service gets its own events field for field, the unmapped hosts\' documents are skipped and counted; a pass that dies after a checkpoint, a restart and a second pass store nothing twice', async () => {
  const half = Math.floor(logs.a.length / 2);
  const docs = [...interleaved(['a', 'b', 'x', 'c'], 0, C_BEFORE, () => 0), ...interleaved(['a', 'b', 'x'], C_BEFORE, logs.a.length, (i) => (i < half ? 0 : 1))];
  // statements split over several documents, for both services at once: an open message of each when the other's piece comes
  const multi = (h: string) => docs.findIndex((d) => d.HOSTNAME === h && /^\[\d+-2\] /.test(String(d.MESSAGE)));
  expect(multi('pg-a')).toBeGreaterThan(0);
  expect(docs[multi('pg-a') - 1]!.HOSTNAME).not.toBe('pg-a');
  expect(multi('pg-b')).toBeGreaterThan(0);
  const first = nextId;
  await store(docs);
  expect(new Set(docs.map(indexOf)).size).toBe(2);
  expect(unmappedOf(docs).map((u) => u.host).sort()).toEqual(['pg-c', 'pg-x']);

  // the first pass dies right after its third checkpoint (batches after it may be indexed already: read again);
  // what it skipped is counted and said all the same
  const repository = new RawIndexRepository(g.gateway.db.prisma);
  let saves = 0;
  let recorded = 0;
  const warned: Record<string, any>[] = [];
  const logger = createLogger('warn', {}, (line) => { warned.push(JSON.parse(line) as Record<string, any>); });
  const dying = new SharedRawIndexSource({ store: g.gateway.eventStore!, logger, redaction: (id) => new RedactionWatcher(g.gateway.redactionRepository, id),
    recorder: { unmapped: (n) => { recorded += n; } },
    repository: { hosts: (p, n) => repository.hosts(p, n), patternCheckpoint: (p) => {
      const c = repository.patternCheckpoint(p);
      return { load: () => c.load(), save: async (after, n) => { if (++saves > 3) throw new Error('killed'); await c.save(after, n); } };
    } } }, { url: env('OPENSEARCH_URL'), indexPattern: PATTERN, pageSize: 5, batchSize: 8, maxInFlight: 3, window: { retentionDays: 3650, maxFutureSkewMs: DAY } });
  await expect(dying.runOnce()).rejects.toThrow('killed');
  const checkpoint = await repository.patternCheckpoint(PATTERN).load();
  expect(checkpoint.after).not.toBeNull();
  expect(checkpoint.documents).toBeGreaterThan(0);
  expect(checkpoint.documents).toBeLessThan(docs.length);   // really mid-way
  expect(recorded).toBeGreaterThan(0);
  expect(warned.filter((w) => /mapped to no service skipped/.test(w.msg))).toEqual([expect.objectContaining({ level: 'warn', documents: recorded })]);

  // restarted: the built CLI goes on from the checkpoint
  const { stats: resumed, warnings } = loggedPass();
  expect(resumed.documents).toBeGreaterThanOrEqual(docs.length - checkpoint.documents);
  expect(resumed.documents).toBeLessThan(docs.length);
  // what it skipped: the unmapped hosts' documents among those it read (the last ones in read order), by host
  const skipped = unmappedOf(readOrder(docs, first).slice(docs.length - resumed.documents));
  expect(skipped).toHaveLength(2);
  const skippedDocs = skipped.reduce((n, u) => n + u.documents, 0);
  expect(resumed).toMatchObject({ hosts: 2, malformed: 0, unmapped: skippedDocs, unmappedHosts: 2 });
  // one warning of the pass: the hosts with their counts, the most first, and none left unnamed; never a MESSAGE
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ msg: expect.stringMatching(/mapped to no service skipped/), source: SOURCE,
    documents: skippedDocs, unmappedHosts: 2, top: skipped, moreHosts: 0 });
  expect(JSON.stringify(warnings[0])).not.toMatch(/AUDIT:|LOG:|statement/i);

  const expectedA = await eventsOf(t.streamA.serviceId);
  const expectedB = await eventsOf(t.streamB.serviceId);
  expect(expectedA).toHaveLength(67);
  expect(expectedB).toHaveLength(67);
  expect(expectedB).not.toEqual(expectedA);
  expect(await eventsOf(t.a.serviceId)).toEqual(expectedA);
  expect(await eventsOf(t.b.serviceId)).toEqual(expectedB);
  expect(await eventsOf(t.c.serviceId)).toEqual([]);
  expect(await deadLettersOf(t.a.serviceId) + await deadLettersOf(t.b.serviceId)).toBe(0);
  // the unmapped hosts' documents are nobody's: no event of no tenant, no dead letter of the pattern at all
  expect(await eventsOfNobody()).toBe(0);
  expect(await lettersOfPattern()).toBe(0);

  // a second pass reads nothing and says nothing; the checkpoint is at the end
  const again = loggedPass();
  expect(again.stats).toMatchObject({ documents: 0, events: 0, malformed: 0, unmapped: 0, unmappedHosts: 0 });
  expect(again.warnings).toEqual([]);
  expect(await eventsOf(t.a.serviceId)).toHaveLength(67);
  expect(await lettersOfPattern()).toBe(0);
}, 180_000);

it('a host mapped later is read from the next pass on (what was read before is not read back); the others are untouched', async () => {
  expect(json(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-c', '--service', t.c.serviceId])).toMatchObject({ alreadyMapped: false });
  // C logs on (its own times, two days later: a third daily index), interleaved with the unmapped host's
  logs.x = stderrRecords(shifted(2));
  seq.x.clear();
  const later = interleaved(['c', 'x'], C_BEFORE, logs.c.length, () => 0);
  await store(later);
  const pass = sharedPass();
  expect(pass).toMatchObject({ documents: later.length, malformed: 0, hosts: 3,
    unmapped: later.filter((d) => d.HOSTNAME === 'pg-x').length, unmappedHosts: 1 });
  const expectedC = await eventsOf(t.streamC.serviceId);
  expect(expectedC.length).toBeGreaterThan(0);
  expect(await eventsOf(t.c.serviceId)).toEqual(expectedC);
  expect(await eventsOf(t.a.serviceId)).toEqual(await eventsOf(t.streamA.serviceId));
  expect(await eventsOf(t.b.serviceId)).toEqual(await eventsOf(t.streamB.serviceId));
  expect(await lettersOfPattern()).toBe(0);
  expect(await eventsOfNobody()).toBe(0);
  expect(sharedPass().documents).toBe(0);
  // unmapped again: C's documents from then on are skipped; the mapping is gone from the list
  json(['admin', 'raw-host', '--raw-index', PATTERN, '--host', 'pg-c', '--remove', '--service', t.c.serviceId]);
  expect(mappings().map((m) => m.host)).toEqual(['pg-a', 'pg-b']);
}, 180_000);

it('a run of skipped documents moves the checkpoint page by page, not only at the end of the pass', async () => {
  // an unmapped host logs on alone, a day after everything read (a fourth daily index)
  logs.x = stderrRecords(shifted(3));
  seq.x.clear();
  const alone = interleaved(['x'], 0, 16, () => 0);
  expect(alone.length).toBeGreaterThan(10);
  await store(alone);
  const repository = new RawIndexRepository(g.gateway.db.prisma);
  const base = (await repository.patternCheckpoint(PATTERN).load()).documents;
  const saved: number[] = [];
  const source = new SharedRawIndexSource({ store: g.gateway.eventStore!, logger: silentLogger, redaction: (id) => new RedactionWatcher(g.gateway.redactionRepository, id),
    repository: { hosts: (p, n) => repository.hosts(p, n), patternCheckpoint: (p) => {
      const c = repository.patternCheckpoint(p);
      return { load: () => c.load(), save: async (after, n) => { saved.push(n - base); await c.save(after, n); } };
    } } }, { url: env('OPENSEARCH_URL'), indexPattern: PATTERN, pageSize: 5, window: { retentionDays: 3650, maxFutureSkewMs: DAY } });
  expect(await source.runOnce()).toMatchObject({ documents: alone.length, events: 0, malformed: 0, unmapped: alone.length, unmappedHosts: 1, hosts: 2 });
  // one checkpoint per page of 5 (no bulk request: nothing to index), then the end of the pass
  const pages = Array.from({ length: Math.ceil(alone.length / 5) }, (_, i) => Math.min(5 * (i + 1), alone.length));
  expect(saved.slice(0, pages.length)).toEqual(pages);
  expect(saved.at(-1)).toBe(alone.length);
  expect(await lettersOfPattern()).toBe(0);
  expect(await eventsOfNobody()).toBe(0);
}, 120_000);
