/**
 * The live tail end to end on real servers: pgaudit events of PostgreSQL 15 (a real workload, its real
 * csvlog) ingested into the real OpenSearch by the real Ingester, in several bulk requests and out of time
 * order, delivered by auditEventTail over Server-Sent Events from the gateway's real HTTP server.
 * Each test compares what a subscriber received with what auditEvents finds in the index: every event once.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startHttpServer } from '../src/api/http-server';
import { silentLogger } from '../src/base/logger';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester } from '../src/modules/ingest/ingester';
import { createTenant, ENABLE, env, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { waitForCsvlog } from './support/pgaudit-log';
import { collect, subscribe, Subscription } from './support/sse';

const DB = 'tail_e2e';
const SETTLE_MS = 2000;
const TAIL = `subscription($serviceId: ID!, $filter: AuditEventFilter, $after: String) {
  auditEventTail(serviceId: $serviceId, filter: $filter, after: $after) { cursor event { id timestamp ingestedAt command statement database } } }`;
const EVENTS = `query($serviceId: ID!, $filter: AuditEventFilter, $after: String) {
  auditEvents(serviceId: $serviceId, filter: $filter, first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id command } } } }`;

let g: TestGateway;
let base: string;
let closeHttp: () => Promise<void>;
let a: Tenant;
let b: Tenant;
let logDir: string;
let copies = 0;

/** Every event of `t` in the test database, as auditEvents finds it (after a refresh). */
async function indexed(t: Tenant, filter: Record<string, unknown> = {}): Promise<Map<string, string>> {
  await g.gateway.eventStore!.refresh();
  const out = new Map<string, string>();
  let after: string | null = null;
  for (;;) {
    const r: any = await g.exec(t.token, EVENTS, { serviceId: t.serviceId, filter: { databases: [DB], ...filter }, after });
    expect(r.errors).toBeUndefined();
    for (const e of r.data.auditEvents.edges) out.set(e.node.id, e.node.command);
    if (!r.data.auditEvents.pageInfo.hasNextPage) return out;
    after = r.data.auditEvents.pageInfo.endCursor;
  }
}

/** The csvlog file PostgreSQL writes now (the newest). */
function currentCsv(): string {
  const files = readdirSync(logDir).filter((f) => f.endsWith('.csv')).sort();
  return path.join(logDir, files.at(-1)!);
}

/** Runs `statements` in the test database and waits until the csvlog holds an audit line of the last one and has stopped growing. */
async function workload(statements: string[]): Promise<void> {
  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB), application_name: 'tail-e2e' });
  await c.connect();
  try { for (const s of statements) await c.query(s); } finally { await c.end(); }
  await waitForCsvlog(statements.at(-1)!, logDir);
  let size = -1;
  while (statSync(currentCsv()).size !== size) { size = statSync(currentCsv()).size; await new Promise((r) => setTimeout(r, 200)); }
}

/** Bytes [from, to) of the current csvlog as a log directory of its own (one file), for an ingester to read. */
function slice(from: number, to: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tail-e2e-'));
  writeFileSync(path.join(dir, `part-${++copies}.csv`), readFileSync(currentCsv()).subarray(from, to));
  return dir;
}

/** The real ingester over `dir` for tenant `t`, in bulk requests of `batchSize` events. */
async function ingest(t: Tenant, dir: string, batchSize: number): Promise<number> {
  const service = (await g.gateway.tenancy.serviceById(t.serviceId))!;
  const ingester = new Ingester(service, dir, g.gateway.eventStore!, new CheckpointRepository(g.gateway.db.prisma), silentLogger, { batchSize });
  return (await ingester.runOnce()).events;
}

const statements = (marker: string, n: number) => [
  ...Array.from({ length: n }, (_, i) => `INSERT INTO items VALUES (${i}, '${marker}-${i}') ON CONFLICT (id) DO UPDATE SET note = excluded.note`),
  `UPDATE items SET note = '${marker}-updated' WHERE id < 3`,
  `SELECT count(*), '${marker}-fence' FROM items`,
];

const ids = (payloads: any[]) => payloads.map((p) => p.data.auditEventTail.event.id as string);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  g = await startTestGateway({ TAIL_SETTLE_MS: String(SETTLE_MS), TAIL_POLL_INTERVAL_MS: '250', TAIL_MAX_PER_TOKEN: '3' });
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  const http = await startHttpServer({ ...g.gateway, logger: silentLogger, maxBodyBytes: 1 << 20 }, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
  closeHttp = () => http.close();
  const r = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: DB, settings: { log: ['READ', 'WRITE'], logRows: true } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  await sql(urls.pgaudit, 'CREATE TABLE items (id int PRIMARY KEY, note text)', [], DB);
}, 120_000);
afterAll(async () => {
  await closeHttp?.();
  expect(g.gateway.events.tails.size).toBe(0);   // every tail closed with its client or at shutdown
  await g?.close();
  await resetServer(urls.pgaudit);
});

describe('events indexed before ingestedAt existed', () => {
  const OLD = 'pgaudit-events-1999.01.02';
  const os = (method: string, p: string, body?: unknown) => fetch(`${env('OPENSEARCH_URL')}${p}`,
    { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
  afterAll(async () => { await os('DELETE', `/${OLD}`); });

  it('are never delivered, a daily index whose mapping lacks the field does not fail a poll, and they read back with ingestedAt null', async () => {
    const { INDEX_TEMPLATE } = await import('../src/modules/audit-events/event.index');
    const { ingestedAt: _i, tiebreak: _t, ...oldProperties } = INDEX_TEMPLATE.template.mappings.properties;
    await os('PUT', `/${OLD}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { dynamic: 'strict', properties: oldProperties } });
    const id = 'legacyTailAAAAAAAAAAAAAAAAAAAAAAA';
    await os('PUT', `/${OLD}/_doc/${id}?refresh=true`, { id, serviceId: a.serviceId, projectId: a.projectId, organizationId: a.organizationId,
      timestamp: '1999-01-02T00:00:00.000Z', auditType: 'SESSION', statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT',
      objectType: null, objectName: null, statement: 'SELECT 1', statementStatus: 'LOGGED', parameters: [], rows: null, user: 'u', database: 'legacy',
      sessionId: 's', sessionLineNum: 1, applicationName: null, remoteHost: null });
    const hits = await g.gateway.eventStore!.tailPage(a.serviceId, null, { ingestedAtMs: 0, tiebreak: 0 }, Date.now(), 100);
    expect(hits.map((h) => h.doc.id)).not.toContain(id);
    const r: any = await g.exec(a.token, `query($s: ID!, $id: ID!) { auditEvent(serviceId: $s, id: $id) { id ingestedAt } }`, { s: a.serviceId, id });
    expect(r.data.auditEvent).toEqual({ id, ingestedAt: null });
  });
});

describe('auditEventTail over /graphql/stream', () => {
  const open: Subscription[] = [];
  // each test's clients go away after it; the server closes their tails (asynchronously: wait for it)
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    for (let i = 0; i < 200 && g.gateway.events.tails.size > 0; i++) await sleep(20);
    expect(g.gateway.events.tails.size).toBe(0);
  });
  const sub = async (token: string | null, variables: Record<string, unknown>, headers?: Record<string, string>) => {
    const s = await subscribe(base, token, TAIL, variables, headers);
    open.push(s);
    return s;
  };

  it('successful-tail: every event written while it listens arrives exactly once, within seconds, also when written late with older timestamps and in several batches; never another tenant\'s', async () => {
    const mine = await sub(a.token, { serviceId: a.serviceId, filter: { databases: [DB] } });
    expect(mine.status).toBe(200);
    const theirs = await sub(b.token, { serviceId: b.serviceId, filter: { databases: [DB] } });
    const startSize = statSync(currentCsv()).size;
    await workload(statements('tail-a', 8));
    const middle = statSync(currentCsv()).size;
    await workload(statements('tail-b', 8));
    const end = statSync(currentCsv()).size;
    const older = slice(startSize, middle);
    const newer = slice(middle, end);
    // the newer events first, then the older ones: an ingester catching up writes old timestamps late
    const written = await ingest(a, newer, 3) + await ingest(a, older, 4);
    const ackedAt = Date.now();
    // read as they arrive, while another tenant's copies are written
    const collecting = collect(mine, (p) => p.length >= written, SETTLE_MS + 10_000).then((p) => ({ got: p, at: Date.now() }));
    await ingest(b, newer, 50);   // the same lines as another tenant's events
    await ingest(b, older, 50);
    const expected = await indexed(a);
    expect(expected.size).toBe(written);
    expect(written).toBeGreaterThanOrEqual(20);

    const { got, at: deliveredAt } = await collecting;
    expect(got.filter((p) => p.errors)).toEqual([]);
    expect(deliveredAt - ackedAt).toBeLessThan(SETTLE_MS + 5000);   // the last one within a few seconds of being indexed
    // nothing more comes (no repeats), once a further settle time has passed
    got.push(...await collect(mine, () => false, SETTLE_MS + 1000));
    expect(ids(got).sort()).toEqual([...expected.keys()].sort());
    // in the order they were indexed: ingestedAt never goes back
    const stamps = got.map((p) => Date.parse(p.data.auditEventTail.event.ingestedAt));
    expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
    // some were written after events with later timestamps (the older slice went in second)
    const times = got.map((p) => Date.parse(p.data.auditEventTail.event.timestamp));
    expect(times.some((t, i) => i > 0 && t < times[i - 1]!)).toBe(true);

    const other = await collect(theirs, (p) => p.length >= expected.size, SETTLE_MS + 10_000);
    const otherExpected = await indexed(b);
    expect(ids(other).sort()).toEqual([...otherExpected.keys()].sort());
    expect(ids(other).some((id) => expected.has(id))).toBe(false);
  }, 90_000);

  it('resume: after a disconnect, subscribing with the last cursor delivers exactly the rest; a filter narrows', async () => {
    await sleep(SETTLE_MS + 500);   // what the test before indexed is behind the horizon now
    const before = new Set((await indexed(a)).keys());
    const first = await sub(a.token, { serviceId: a.serviceId, filter: { databases: [DB] } });
    const updates = await sub(a.token, { serviceId: a.serviceId, filter: { databases: [DB], commands: ['UPDATE'] } });
    let from = statSync(currentCsv()).size;
    await workload(statements('tail-c', 6));
    let to = statSync(currentCsv()).size;
    await ingest(a, slice(from, to), 2);
    const got = await collect(first, (p) => p.length >= 5, SETTLE_MS + 10_000);
    expect(got).toHaveLength(5);
    first.close();
    from = to;
    await workload(statements('tail-d', 6));
    to = statSync(currentCsv()).size;
    await ingest(a, slice(from, to), 3);
    const all = await indexed(a);
    const fresh = [...all.keys()].filter((id) => !before.has(id));
    const cursor = got.at(-1).data.auditEventTail.cursor;
    const resumed = await sub(a.token, { serviceId: a.serviceId, filter: { databases: [DB] }, after: cursor });
    const rest = await collect(resumed, (p) => p.length >= fresh.length - 5, SETTLE_MS + 10_000);
    rest.push(...await collect(resumed, () => false, SETTLE_MS + 1000));
    const delivered = [...ids(got), ...ids(rest)];
    expect(delivered.length).toBe(fresh.length);   // nothing twice
    expect([...delivered].sort()).toEqual([...fresh].sort());   // nothing lost

    const expectedUpdates = fresh.filter((id) => all.get(id) === 'UPDATE');
    expect(expectedUpdates.length).toBeGreaterThan(0);
    // its own poll loop: the last one may come a poll interval after the resumed tail's
    const updated = await collect(updates, (p) => p.length >= expectedUpdates.length, SETTLE_MS + 5000);
    updated.push(...await collect(updates, () => false, 1000));
    expect(updated.map((p) => p.data.auditEventTail.event.command)).toEqual(expectedUpdates.map(() => 'UPDATE'));
    expect(ids(updated).sort()).toEqual(expectedUpdates.sort());
  }, 90_000);

  it('failing-tail: no token (401), a token without read:events (403), /graphql itself: refused before anything opens', async () => {
    const tails = g.gateway.events.tails.size;
    const none = await sub(null, { serviceId: a.serviceId });
    expect(none.status).toBe(401);
    expect(none.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const policyOnly = await g.gateway.tenancy.createToken(a.projectId, `tail-policy-${Date.now()}`, 'avnadmin', { scopes: 'read:policy' });
    const scoped = await sub(policyOnly.token, { serviceId: a.serviceId });
    expect(scoped.status).toBe(403);
    expect(scoped.json.errors[0].extensions).toEqual({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['read:events'], missingScopes: ['read:events'] });
    const post = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
      body: JSON.stringify({ query: TAIL, variables: { serviceId: a.serviceId } }) });
    expect(post.status).toBe(400);
    expect(((await post.json()) as any).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(g.gateway.events.tails.size).toBe(tails);
  });

  it('failing-tail: another tenant\'s service, a bad cursor or filter: an error in the stream, then it ends; nothing stays open', async () => {
    const tails = g.gateway.events.tails.size;
    const cases: [Record<string, unknown>, string][] = [
      [{ serviceId: b.serviceId }, 'NOT_FOUND'],
      [{ serviceId: a.serviceId, after: 'not-a-cursor' }, 'BAD_USER_INPUT'],
      [{ serviceId: a.serviceId, filter: { text: 'x'.repeat(501) } }, 'BAD_USER_INPUT'],
    ];
    for (const [variables, code] of cases) {
      const s = await sub(a.token, variables);
      expect(s.status).toBe(200);
      const e = await s.next();
      expect(e!.event).toBe('next');
      expect(e!.data.errors[0].extensions.code).toBe(code);
      expect((await s.next())!.event).toBe('complete');
    }
    expect(g.gateway.events.tails.size).toBe(tails);
  });

  it('the per-token limit refuses the N+1th subscription (SUBSCRIPTION_LIMIT_REACHED); a client that goes away gives its slot back', async () => {
    const t = await g.gateway.tenancy.createToken(a.projectId, `tail-limit-${Date.now()}`, 'avnadmin', { scopes: 'read:events' });
    const before = g.gateway.events.tails.size;
    const three = [await sub(t.token, { serviceId: a.serviceId }), await sub(t.token, { serviceId: a.serviceId }), await sub(t.token, { serviceId: a.serviceId })];
    expect(three.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(g.gateway.events.tails.size).toBe(before + 3);
    const fourth = await sub(t.token, { serviceId: a.serviceId });
    const refused = await fourth.next();
    expect(refused!.data.errors[0].extensions).toEqual({ code: 'SUBSCRIPTION_LIMIT_REACHED', limit: 'PER_TOKEN', max: '3' });
    expect((await fourth.next())!.event).toBe('complete');
    expect(g.gateway.events.tails.size).toBe(before + 3);
    // another token is not affected
    const other = await sub(a.token, { serviceId: a.serviceId });
    expect(other.status).toBe(200);
    three[0]!.close();
    for (let i = 0; i < 100 && g.gateway.events.tails.size > before + 3; i++) await sleep(20);
    expect(g.gateway.events.tails.size).toBe(before + 3);   // 2 of t's + the other token's
    const again = await sub(t.token, { serviceId: a.serviceId });
    expect(again.status).toBe(200);
    expect(await again.next(SETTLE_MS)).toBeNull();   // open, nothing refused
    for (const s of [...three, again, other]) s.close();
    for (let i = 0; i < 100 && g.gateway.events.tails.size > before; i++) await sleep(20);
    expect(g.gateway.events.tails.size).toBe(before);
  }, 30_000);
});
