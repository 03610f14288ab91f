/**
 * Exports end to end on real servers: pgaudit events of a real workload ingested into the real OpenSearch,
 * exported over HTTP (POST /export) and by the CLI while more events keep being written and ingested, and
 * compared exactly with what the index holds for the filter as of the export's point in time.
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { EXPORT_COLUMNS } from '../src/modules/audit-events/export.format';
import { createTenant, ENABLE, env, ingestOnce, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { startHttp } from './support/http';
import { waitForAudit } from './support/pgaudit-log';
import { runCli } from './support/cli';
import { parseCsv } from './support/csv';

const DB = 'export_e2e';
const FILTER = { databases: [DB] };
const EVENTS = `query($serviceId: ID!, $filter: AuditEventFilter, $after: String) {
  auditEvents(serviceId: $serviceId, filter: $filter, first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`;
const ONE = `query($serviceId: ID!, $id: ID!) { auditEvent(serviceId: $serviceId, id: $id) { id timestamp auditType statementId substatementId class
  command objectType objectName statement parameters rows user database sessionId sessionLineNum applicationName remoteHost
  redaction { rulesVersion parametersDropped literalsMasked patternsMasked } } }`;

let g: TestGateway;
let a: Tenant;
let b: Tenant;
let server: { port: number; base: string; close(): Promise<void> };
let logDir: string;
let round = 0;

/** Serialises ingest rounds with taking a snapshot of the index: while held, the index does not change. */
let held: Promise<void> = Promise.resolve();
function lock(): Promise<() => void> {
  let release!: () => void;
  const previous = held;
  held = new Promise<void>((r) => { release = r; });
  return previous.then(() => release);
}

/** Some audited statements in DB (with a value a spreadsheet would run), fenced, then ingested (under the lock). */
async function writeRound(n: number, big = false): Promise<void> {
  const marker = `export-round-${process.pid}-${++round}`;
  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB), application_name: '=2+5' });
  await c.connect();
  try {
    for (let i = 0; i < n; i++) await c.query('INSERT INTO items VALUES ($1, $2)', [`${marker}-${i}`,
      i % 3 === 0 ? '=HYPERLINK("http://x")' : big ? `${i}`.padEnd(160_000, 'x') : `v,"${i}"\n`]);
    await c.query(`SELECT '${marker}'`);
  } finally { await c.end(); }
  await waitForAudit(marker);
  const release = await lock();
  try {
    await ingestOnce(g, a.serviceId, logDir, { batchSize: 200 });
  } finally { release(); }
}

/** Every id the index holds for the filter now, newest first (auditEvents, the query path). */
async function indexIds(t: Tenant = a): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const r: any = await g.exec(t.token, EVENTS, { serviceId: t.serviceId, filter: FILTER, after });
    expect(r.errors).toBeUndefined();
    ids.push(...r.data.auditEvents.edges.map((e: any) => e.node.id));
    if (!r.data.auditEvents.pageInfo.hasNextPage) return ids;
    after = r.data.auditEvents.pageInfo.endCursor;
  }
}

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; trailers: NodeJS.Dict<string>; cut: boolean }

/**
 * POST /export with node:http (trailers readable). `onStart` runs once headers arrive; `pauseMs` pauses reading
 * after the first chunk; `cutAfterLines` destroys the connection once that many lines arrived.
 */
function exportRequest(body: unknown, token: string | null, opts: { onStart?: () => void | Promise<void>; pauseUntil?: Promise<unknown>; cutAfterLines?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: '/export', method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let text = '';
      let first = true;
      res.setEncoding('utf8');
      void Promise.resolve(opts.onStart?.()).catch(reject);
      res.on('data', (chunk: string) => {
        text += chunk;
        if (first && opts.pauseUntil) { first = false; res.pause(); void opts.pauseUntil.then(() => res.resume(), reject); }
        if (opts.cutAfterLines !== undefined && text.split('\n').length > opts.cutAfterLines) {
          req.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body: text, trailers: {}, cut: true });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, trailers: res.trailers, cut: false }));
      res.on('error', () => undefined);
    });
    req.on('error', (err) => { if (opts.cutAfterLines === undefined) reject(err); });
    req.end(JSON.stringify(body));
  });
}

/** NDJSON export text: the complete event lines and the end marker (null when the stream was cut). */
function ndjson(text: string): { events: any[]; end: any | null } {
  const lines = text.split('\n');
  lines.pop();                                  // after the last newline: '' or a partial line (cut)
  const parsed = lines.map((l) => JSON.parse(l));
  const end = parsed.length && parsed.at(-1)['@export'] ? parsed.pop()['@export'] : null;
  return { events: parsed, end };
}

/** PITs open in the cluster now. */
async function openPits(): Promise<number> {
  const res = await fetch(`${env('OPENSEARCH_URL')}/_search/point_in_time/_all`);
  const body = await res.json() as { pits?: unknown[] };
  return body.pits?.length ?? 0;
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  g = await startTestGateway({ EXPORT_PAGE_SIZE: '25' });
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  await sql(urls.pgaudit, 'CREATE TABLE items (k text PRIMARY KEY, v text)', [], DB);
  const r = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: DB,
    settings: { log: ['WRITE', 'READ'], logRows: true, logParameter: true, logCatalog: false, logRelation: true } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  server = await startHttp(g, 64 * 1024);
  await writeRound(150, true);   // ~16 MB of parameters: more than the sockets buffer, so an export waits for its reader
}, 120_000);
afterAll(async () => { await server?.close(); await g?.close(); await resetServer(urls.pgaudit); });

describe('export', () => {
  it('successful-export: exactly the index content as of its point in time, while events keep arriving', async () => {
    let writing = true;
    let rounds = 0;
    const writer = (async () => { while (writing) { await writeRound(20); rounds++; } })();
    // a snapshot of the index, and the export's PIT opened before the next ingest round
    const release = await lock();
    const expected = await indexIds();
    let released = false;
    let pitsWhileWriting = -1;
    const twoMoreRounds = until(async () => rounds >= 2, 60_000).then(async () => { pitsWhileWriting = await openPits(); });
    const answer = await exportRequest({ serviceId: a.serviceId, format: 'ndjson', filter: FILTER }, a.token, {
      onStart: () => { released = true; release(); }, pauseUntil: twoMoreRounds,
    });
    if (!released) release();
    writing = false;
    await writer;
    expect(answer.status).toBe(200);
    expect(pitsWhileWriting).toBe(1);                                 // the export was still reading while events were written
    expect(answer.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(answer.headers['x-export-token']).toMatch(/^[\w-]+\.[\w-]{43}$/);
    const { events, end } = ndjson(answer.body);
    expect(end).toEqual({ status: 'complete', events: expected.length, resume: null });
    expect(answer.trailers['x-export-status']).toBe('complete');
    expect(answer.trailers['x-export-events']).toBe(String(expected.length));
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);                       // each once
    expect(ids).toEqual(expected);                                    // the same events, in the same order (newest first)
    expect((await indexIds()).length).toBeGreaterThan(expected.length); // events did arrive meanwhile, and are not in it
    // field by field, whole, against the query path's single-event answer
    for (const e of events.filter((_, i) => i % 17 === 0)) {
      const one = (await g.exec(a.token, ONE, { serviceId: a.serviceId, id: e.id })).data!.auditEvent;
      expect(Object.keys(e)).toEqual(EXPORT_COLUMNS);
      expect({ ...e, serviceId: undefined, statementStatus: undefined }).toEqual({ ...one, serviceId: undefined, statementStatus: undefined });
      expect(e.serviceId).toBe(a.serviceId);
    }
    expect(events.some((e) => e.applicationName === '=2+5' && e.parameters?.[1] === '=HYPERLINK("http://x")')).toBe(true);
    await until(async () => (await openPits()) === 0);                // the PIT is freed at the end
  }, 180_000);

  it('a cut connection resumes exactly after the last event kept; a PIT freed on disconnect falls back to a new one', async () => {
    const expected = await indexIds();
    const cut = await exportRequest({ serviceId: a.serviceId, filter: FILTER }, a.token, { cutAfterLines: 60 });
    expect(cut.cut).toBe(true);
    const kept = ndjson(cut.body).events;
    expect(kept.length).toBeGreaterThanOrEqual(60);
    await until(async () => (await openPits()) === 0);                // reads stopped, PIT freed
    await writeRound(5);                                              // newer events: after the snapshot, before the cursor
    const rest = await exportRequest({ serviceId: a.serviceId, filter: FILTER, resume: cut.headers['x-export-token'], after: kept.at(-1).id }, a.token);
    expect(rest.status).toBe(200);
    const { events, end } = ndjson(rest.body);
    expect(end.status).toBe('complete');
    expect([...kept, ...events].map((e) => e.id)).toEqual(expected);
  }, 120_000);

  it('a request bound ends partial with a resume token that continues through the same PIT', async () => {
    const expected = await indexIds();
    const got: string[] = [];
    let resume: string | null = null;
    let requests = 0;
    for (;;) {
      const r = await exportRequest({ serviceId: a.serviceId, filter: FILTER, limit: 70, ...(resume ? { resume } : {}) }, a.token);
      expect(r.status).toBe(200);
      requests++;
      const { events, end } = ndjson(r.body);
      got.push(...events.map((e) => e.id));
      expect(r.trailers['x-export-status']).toBe(end.status);
      if (end.status === 'complete') break;
      expect(end).toMatchObject({ status: 'partial', events: 70 });
      expect(await openPits()).toBe(1);                               // kept for the resume
      resume = end.resume;
      if (requests === 1) await writeRound(5);                        // arrives after the PIT: not exported
    }
    expect(requests).toBe(Math.ceil(expected.length / 70) + (expected.length % 70 === 0 ? 1 : 0));
    expect(got).toEqual(expected);
    await until(async () => (await openPits()) === 0);
  }, 120_000);

  it('CSV: RFC 4180, a header row, every event once, formula cells neutralised, the end in the trailers', async () => {
    const expected = await indexIds();
    const r = await exportRequest({ serviceId: a.serviceId, format: 'csv', filter: FILTER }, a.token);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.trailers).toMatchObject({ 'x-export-status': 'complete', 'x-export-events': String(expected.length), 'x-export-resume': '' });
    const rows = parseCsv(r.body);
    expect(rows[0]).toEqual(EXPORT_COLUMNS);
    const col = (name: string) => EXPORT_COLUMNS.indexOf(name as never);
    expect(rows.slice(1).map((row) => unquote(row[col('id')]!))).toEqual(expected);   // ids may start with '-': neutralised too
    expect(rows.some((row) => row[col('id')]!.startsWith("'-"))).toBe(expected.some((id) => id.startsWith('-')));
    const risky = rows.find((row) => row[col('parameters')]!.includes('HYPERLINK'))!;
    expect(risky[col('applicationName')]).toBe("'=2+5");
    expect(JSON.parse(risky[col('parameters')]!)[1]).toBe('=HYPERLINK("http://x")');   // inside JSON text, nothing to neutralise
    expect(rows.some((row) => row[col('parameters')]!.includes('\\n'))).toBe(true);
  }, 60_000);

  it('failing-export: no token 401, wrong scope 403, another tenant\'s service 404, bad input 400, nothing opened', async () => {
    const pits = await openPits();
    const body = { serviceId: a.serviceId, filter: FILTER };
    const noToken = await exportRequest(body, null);
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const { token: policyOnly } = await g.gateway.tenancy.createToken(a.projectId, `policy-only-${Date.now()}`, 'avnadmin', { scopes: 'read:policy' });
    const wrongScope = await exportRequest(body, policyOnly);
    expect(wrongScope.status).toBe(403);
    expect(JSON.parse(wrongScope.body).errors[0].extensions).toMatchObject({ code: 'INSUFFICIENT_SCOPE', missingScopes: ['read:events'] });
    const foreign = await exportRequest(body, b.token);
    expect(foreign.status).toBe(404);
    expect(JSON.parse(foreign.body).errors[0].extensions.code).toBe('NOT_FOUND');
    const bad = async (x: Record<string, unknown>) => { const r = await exportRequest({ ...body, ...x }, a.token); expect(r.status).toBe(400); return JSON.parse(r.body).errors[0].extensions; };
    expect(await bad({ format: 'xlsx' })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'format' });
    expect(await bad({ filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.from' });
    expect(await bad({ filter: { databases: Array.from({ length: 101 }, (_, i) => `d${i}`) } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.databases' });
    expect(await bad({ filter: { nope: 1 } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter' });
    expect(await bad({ resume: 'forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'resume' });
    expect(await bad({ limit: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'limit' });
    expect(await bad({ after: 'x' })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    // a token of this export does not resume another filter, nor another tenant's service
    const partial = ndjson((await exportRequest({ ...body, limit: 5 }, a.token)).body).end;
    expect(await bad({ filter: { databases: [DB, 'other'] }, resume: partial.resume })).toMatchObject({ argument: 'resume' });
    const theirs = await exportRequest({ serviceId: b.serviceId, resume: partial.resume }, b.token);
    expect(JSON.parse(theirs.body).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'resume' });
    await until(async () => (await openPits()) <= pits + 1);          // only the partial export's PIT (expires on its own)
  }, 60_000);

  it('CLI: export to a file, csv and ndjson, the same events; --resume appends exactly the rest', async () => {
    const expected = await indexIds();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-cli-'));
    const cliEnv = { ...process.env };
    const csvFile = path.join(dir, 'out.csv');
    const r = runCli(['export', '--service', a.serviceId, '--format', 'csv', '--filter', JSON.stringify(FILTER), '--out', csvFile, '--json'], cliEnv);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: 'complete', events: expected.length, resume: null });
    const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
    expect(rows.slice(1).map((row) => unquote(row[0]!))).toEqual(expected);
    const ndFile = path.join(dir, 'out.ndjson');
    const first = runCli(['export', '--service', a.serviceId, '--filter', JSON.stringify(FILTER), '--out', ndFile, '--limit', '40', '--json'], cliEnv);
    const partial = JSON.parse(first.stdout);
    expect(partial).toMatchObject({ status: 'partial', events: 40 });
    const rest = runCli(['export', '--service', a.serviceId, '--filter', JSON.stringify(FILTER), '--out', ndFile, '--resume', partial.resume, '--json'], cliEnv);
    expect(JSON.parse(rest.stdout)).toMatchObject({ status: 'complete', events: expected.length - 40 });
    const lines = fs.readFileSync(ndFile, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(expected);
    const wrong = runCli(['export', '--service', a.serviceId, '--format', 'xml'], cliEnv);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/--format takes ndjson or csv/);
  }, 120_000);
});

/** A neutralised cell as a program reads it back: the one leading quote before = + - @ TAB CR removed. */
const unquote = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

