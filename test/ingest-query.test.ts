/**
 * End to end on real servers: enable through GraphQL on PostgreSQL 15 + pgaudit, run a SQL workload,
 * ingest the server's csvlog into OpenSearch, and read every event back through GraphQL. Each event is
 * compared field by field with the csvlog line, which PostgreSQL itself parses here (COPY ... CSV), and
 * its AUDIT message is re-formatted from the event's fields and must equal the logged text exactly.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { pgauditMessage } from '../bench/csvlog-generator';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { createPostgresLogTable, createTenant, ENABLE, env, ingestOnce, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

const DB = 'ingest_e2e';
const EVENTS = `query($serviceId: ID!, $filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(serviceId: $serviceId, filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id timestamp auditType statementId substatementId class command objectType objectName statement parameters rows
      user database sessionId sessionLineNum applicationName remoteHost } } } }`;
const STATS = `query($serviceId: ID!, $filter: AuditEventFilter, $groupBy: AuditEventGroupBy, $interval: String) {
  auditEventStats(serviceId: $serviceId, filter: $filter, groupBy: $groupBy, interval: $interval) { totalCount groups { key count } overTime { start count } } }`;

let g: TestGateway;
let a: Tenant;
let b: Tenant;
let logDir: string;

/** The csvlog as PostgreSQL parses it: an independent reading of the same files. */
interface CsvRow { session_id: string; session_line_num: string; user_name: string; database_name: string; log_time: Date; message: string; application_name: string; connection_from: string | null }
async function csvlogAuditRows(): Promise<CsvRow[]> {
  const files = readdirSync(logDir).filter((f) => f.endsWith('.csv')).sort();
  const client = new Client({ connectionString: urls.pgaudit });
  await client.connect();
  try {
    await createPostgresLogTable(client);
    for (const f of files) await client.query(`COPY postgres_log FROM '${path.join(logDir, f).replace(/'/g, "''")}' WITH csv`);
    return (await client.query<CsvRow>(`SELECT session_id, session_line_num::text, user_name, database_name, log_time, message,
      application_name, connection_from FROM postgres_log WHERE message LIKE 'AUDIT: %' AND database_name = $1
      ORDER BY log_time, session_id, session_line_num`, [DB])).rows;
  } finally { await client.end(); }
}

/** The AUDIT message re-formatted from an event's fields, by pgaudit's own CSV rule (the generators' writer). */
function auditMessage(e: any): string {
  return pgauditMessage({ ...e, objectType: e.objectType ?? '', objectName: e.objectName ?? '', statement: e.statement ?? '<not logged>',
    parameters: e.parameters ?? '<not logged>', rows: e.rows ?? undefined });
}

async function allEvents(t: Tenant, filter: Record<string, unknown>, pageSize = 100): Promise<any[]> {
  const out: any[] = [];
  let after: string | null = null;
  for (;;) {
    const r: { data?: any; errors?: unknown } = await g.exec(t.token, EVENTS, { serviceId: t.serviceId, filter, first: pageSize, after });
    expect(r.errors).toBeUndefined();
    const c: any = r.data!.auditEvents;
    out.push(...c.edges.map((e: any) => e.node));
    if (!c.pageInfo.hasNextPage) return out;
    after = c.pageInfo.endCursor;
  }
}

function ingest(t: Tenant): Promise<{ events: number }> {
  return ingestOnce(g, t.serviceId, logDir, { batchSize: 25 });
}

/** The logging collector writes asynchronously: wait until the csvlog holds `n` audit lines of the workload. */
async function csvRowsAtLeast(n: number): Promise<CsvRow[]> {
  for (let i = 0; i < 200; i++) {
    const rows = await csvlogAuditRows();
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the csvlog never reached ${n} audit lines`);
}

beforeAll(async () => {
  logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  const r = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: DB,
    settings: { log: ['ALL'], logExclude: ['MISC_SET'], logRows: true, logParameter: true, logCatalog: false, logRelation: true } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);

  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB), application_name: 'e2e-app' });
  await c.connect();
  await c.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text, note text)');
  await c.query('INSERT INTO accounts VALUES ($1, $2, $3)', [1, 'ålice, "the" owner', 'multi\nline note']);
  await c.query('SELECT owner,\n       note\n  FROM accounts\n WHERE id = $1', [1]);
  for (let i = 2; i <= 40; i++) await c.query('INSERT INTO accounts VALUES ($1, $2, NULL)', [i, `owner ${i} 日本`]);
  await c.query("UPDATE accounts SET note = 'it''s, \"quoted\"' WHERE id < 5");
  await c.query("DO $$ BEGIN PERFORM count(*) FROM accounts; END $$");
  await c.query('DELETE FROM accounts WHERE id > 35');
  await c.query("SELECT 'needle-in-a-haystack' AS marker, count(*) FROM accounts");
  await c.end();
});
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

describe('ingest + auditEvents', () => {
  /** The workload's csvlog rows and the events read back after the first ingest: every test below starts from them. */
  let rows: CsvRow[];
  let events: any[];

  beforeAll(async () => {
    await csvRowsAtLeast(47);
    await ingest(a);
    events = await allEvents(a, { databases: [DB] });
    rows = await csvlogAuditRows();     // what the files hold now (the ingester read at least this much)
  });

  it('successful-ingest: every audit line of the workload becomes exactly one event, field by field', async () => {
    expect(rows.length).toBeGreaterThanOrEqual(47);
    expect(events.length).toBe(rows.length);
    const byKey = new Map(events.map((e) => [`${e.sessionId}/${e.sessionLineNum}`, e]));
    expect(byKey.size).toBe(events.length);
    for (const row of rows) {
      const e = byKey.get(`${row.session_id}/${row.session_line_num}`);
      expect(e).toBeDefined();
      expect(auditMessage(e)).toBe(row.message);
      expect(e).toMatchObject({ user: row.user_name, database: row.database_name, applicationName: row.application_name,
        timestamp: row.log_time.toISOString() });
    }
    const insert = events.find((e) => e.command === 'INSERT' && e.parameters?.[1] === 'ålice, "the" owner');
    expect(insert).toMatchObject({ class: 'WRITE', auditType: 'SESSION', objectName: 'public.accounts', rows: 1,
      parameters: ['1', 'ålice, "the" owner', 'multi\nline note'] });
    expect(events.find((e) => e.statement?.startsWith('SELECT owner,\n'))).toMatchObject({ class: 'READ', command: 'SELECT', rows: 1 });
  });

  it('newest first, and paging with small pages neither skips nor repeats, even while new events arrive', async () => {
    const ts = events.map((e) => Date.parse(e.timestamp));
    expect([...ts].sort((x, y) => y - x)).toEqual(ts);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      const r: { data?: any } = await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB] }, first: 7, after });
      const c: any = r.data!.auditEvents;
      seen.push(...c.edges.map((e: any) => e.node.id));
      if (page === 1) {   // new audit events land between two pages
        await sql(urls.pgaudit, "SELECT 'arrived later'", [], DB);
        await csvRowsAtLeast(rows.length + 1);
        await ingest(a);
      }
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);                       // no repeats
    expect(seen.filter((id) => events.some((e) => e.id === id)).length).toBe(events.length);   // no skips
  });

  it('re-ingesting, even from scratch, adds nothing', async () => {
    const before = (await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB] }, first: 1 })).data!.auditEvents.totalCount;
    expect((await ingest(a)).events).toBe(0);
    await g.gateway.db.prisma.ingestCheckpoint.deleteMany({ where: { serviceId: a.serviceId } });
    expect((await ingest(a)).events).toBeGreaterThan(0);             // everything read again...
    const after = (await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB] }, first: 1 })).data!.auditEvents.totalCount;
    expect(after).toBe(before);                                          // ...and overwritten, not duplicated
  });

  it('filters: text as plain words, commands, classes, users, time; counts agree with the events', async () => {
    const count = async (filter: Record<string, unknown>) =>
      (await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB], ...filter }, first: 1 })).data!.auditEvents.totalCount;
    const all = await allEvents(a, { databases: [DB] });
    expect(await count({ text: 'needle-in-a-haystack' })).toBe(1);
    expect(await count({ text: 'statement:* OR id:*' })).toBe(0);         // query syntax is just words here
    expect(await count({ commands: ['INSERT'] })).toBe(all.filter((e) => e.command === 'INSERT').length);
    expect(await count({ classes: ['READ', 'DDL'] })).toBe(all.filter((e) => ['READ', 'DDL'].includes(e.class)).length);
    expect(await count({ users: ['nobody'] })).toBe(0);
    expect(await count({ auditTypes: ['SESSION'] })).toBe(all.length);
    expect(await count({ from: new Date(Date.now() + 3_600_000).toISOString() })).toBe(0);
    const stats = (await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { databases: [DB] }, groupBy: 'COMMAND', interval: '1m' })).data!.auditEventStats;
    expect(stats.totalCount).toBe(all.length);
    expect(stats.groups.reduce((s: number, x: any) => s + x.count, 0)).toBe(all.length);
    expect(stats.groups.find((x: any) => x.key === 'INSERT').count).toBe(all.filter((e) => e.command === 'INSERT').length);
    expect(stats.overTime.reduce((s: number, x: any) => s + x.count, 0)).toBe(all.length);
  });

  it('bad arguments are BAD_USER_INPUT naming the argument', async () => {
    const bad = async (vars: Record<string, unknown>, q = EVENTS) => (await g.exec(a.token, q, { serviceId: a.serviceId, ...vars })).errors?.[0]?.extensions;
    expect(await bad({ after: 'not-a-cursor' })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(await bad({ filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } })).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.from' });
    expect((await bad({ first: 1000 }))?.code).toBe('BAD_USER_INPUT');
    expect(await bad({ interval: '1s' }, STATS)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'interval' });
  });

  it('isolation: another project sees none of these events', async () => {
    const own = (await g.exec(b.token, EVENTS, { serviceId: b.serviceId, first: 100 })).data!.auditEvents;
    expect(own.totalCount).toBe(0);                                       // same server, but not its events
    const theirs = await g.exec(b.token, EVENTS, { serviceId: a.serviceId, first: 100 });
    expect(theirs.data).toBeNull();
    expect(theirs.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const stats = await g.exec(b.token, STATS, { serviceId: a.serviceId });
    expect(stats.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('OpenSearch unreachable: SERVICE_UNAVAILABLE without internals, while the control path keeps working', async () => {
    const down = await startTestGateway({ OPENSEARCH_URL: 'http://127.0.0.1:9' });
    try {
      const r = await down.exec(a.token, EVENTS, { serviceId: a.serviceId, first: 5 });
      expect(r.errors![0]).toEqual({ message: expect.any(String), path: ['auditEvents'], locations: expect.any(Array), extensions: { code: 'SERVICE_UNAVAILABLE' } });
      expect(JSON.stringify(r)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stack/);
      const e = await down.exec(a.token, `query($s: ID!) { auditEligibility(serviceId: $s) { eligible } }`, { s: a.serviceId });
      expect(e.data!.auditEligibility.eligible).toBe(true);
    } finally { await down.close(); }
  });
});

describe('retention', () => {
  it('deletes whole daily indices older than the retention, and only those', async () => {
    const store = g.gateway.eventStore!;
    const old = { id: 'retention-old-0000000000000000', serviceId: a.serviceId, projectId: a.projectId, organizationId: a.organizationId,
      timestamp: '2020-01-01T12:00:00.000Z', auditType: 'SESSION' as const, statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT',
      objectType: null, objectName: null, statement: 'select 1', statementStatus: 'LOGGED' as const, parameters: null, rows: null,
      user: 'u', database: 'retention', sessionId: 's', sessionLineNum: 1, applicationName: null, remoteHost: null };
    expect((await store.bulkIndex([old])).rejected).toEqual([]);
    await store.refresh();
    const count = async (db: string) => (await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [db] }, first: 1 })).data!.auditEvents.totalCount;
    expect(await count('retention')).toBe(1);
    const before = await count(DB);
    expect(await store.expire(30)).toEqual(['pgaudit-events-2020.01.01']);
    await store.refresh();
    expect(await count('retention')).toBe(0);
    expect(await count(DB)).toBe(before);            // today's events stay
    expect(await store.expire(30)).toEqual([]);      // idempotent
  });
});
