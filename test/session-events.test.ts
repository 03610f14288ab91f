/**
 * Session events end to end on real servers: a PostgreSQL 15 + pgaudit cluster of this file's own (its
 * pg_hba.conf asks app roles for a scram-sha-256 password, so a wrong password really fails) with
 * log_connections and log_disconnections on; real logins, a logout, a wrong password and unknown roles;
 * the jsonlog ingested (twice, and once more from scratch: exactly once) into the real OpenSearch and read
 * back through GraphQL, every field compared with the jsonlog lines PostgreSQL wrote (an independent
 * reading: JSON.parse of the files).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { silentLogger } from '../src/base/logger';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester } from '../src/modules/ingest/ingester';
import { ROOT } from './support/cli';
import { createTenant, ingestOnce, startTestGateway, Tenant, TestGateway } from './support/harness';

const BASE = clusterBaseDir(path.join(ROOT, '.local/test-clusters', `${process.pid}-sessions`), `test-sessions-${process.pid}`);
const HBA = path.join(BASE, 'pg_hba.conf');
const SESSIONS = `query($serviceId: ID!, $filter: SessionEventFilter, $first: Int, $after: String) {
  sessionEvents(serviceId: $serviceId, filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id timestamp kind user database remoteHost remotePort applicationName sessionId sessionLineNum durationMs
      failureReason replication sslProtocol sslCipher sslBits message } } } }`;
const STATS = `query($serviceId: ID!, $filter: SessionEventFilter, $groupBy: SessionEventGroupBy) {
  sessionEventStats(serviceId: $serviceId, filter: $filter, groupBy: $groupBy, interval: "1h") { totalCount groups { key count } } }`;
const AUDIT_COUNT = `query($serviceId: ID!) { auditEvents(serviceId: $serviceId, first: 1) { totalCount } }`;

let cluster: PostgresCluster;
let g: TestGateway;
let a: Tenant;
let b: Tenant;

interface JsonLine { timestamp: string; user?: string; dbname?: string; remote_host?: string; remote_port?: number; session_id: string;
  line_num: number; error_severity: string; message: string; application_name?: string }
function jsonLines(): JsonLine[] {
  return fs.readdirSync(cluster.logDir).filter((f) => f.endsWith('.json')).sort()
    .flatMap((f) => fs.readFileSync(path.join(cluster.logDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonLine));
}
async function linesUntil(done: (lines: JsonLine[]) => boolean): Promise<JsonLine[]> {
  for (let i = 0; i < 200; i++) {
    const lines = jsonLines();
    if (done(lines)) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the jsonlog never showed the expected lines');
}
async function login(user: string, password: string, application_name: string, work?: (c: Client) => Promise<void>): Promise<string | null> {
  const url = new URL(cluster.url());
  url.username = user;
  url.password = password;
  const c = new Client({ connectionString: url.toString(), application_name });
  try {
    await c.connect();
    if (work) await work(c);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally { await c.end().catch(() => undefined); }
}
async function ingest(t: Tenant) {
  return ingestOnce(g, t.serviceId, cluster.logDir, { batchSize: 3 });
}
async function all(t: Tenant, filter: Record<string, unknown> = {}, first = 100): Promise<any[]> {
  const out: any[] = [];
  let after: string | null = null;
  for (;;) {
    const r: any = await g.exec(t.token, SESSIONS, { serviceId: t.serviceId, filter, first, after });
    expect(r.errors).toBeUndefined();
    out.push(...r.data.sessionEvents.edges.map((e: any) => e.node));
    if (!r.data.sessionEvents.pageInfo.hasNextPage) return out;
    after = r.data.sessionEvents.pageInfo.endCursor;
  }
}

beforeAll(async () => {
  fs.rmSync(BASE, { recursive: true, force: true });
  fs.mkdirSync(BASE, { recursive: true });
  fs.writeFileSync(HBA, ['local all all trust', 'host all avnadmin 127.0.0.1/32 trust', 'host all ghost_trust 127.0.0.1/32 trust',
    'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'));
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:', BASE]);
  cluster = await PostgresCluster.start({ name: 'pg15-sessions', baseDir: BASE, binDir: debianPgBinDir(15), fresh: true, preloadPgaudit: true,
    settings: { hba_file: `'${HBA}'`, log_connections: 'on', log_disconnections: 'on', log_timezone: `'UTC'` } });
  const admin = new Client({ connectionString: cluster.url() });
  await admin.connect();
  await admin.query(`CREATE ROLE app_user LOGIN PASSWORD 'right-password'`);
  await admin.end();
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: cluster.url() });
  b = await createTenant(g, { serviceUrl: cluster.url() });
}, 120_000);
afterAll(async () => {
  await g?.close();
  await cluster?.stop();
  fs.rmSync(BASE, { recursive: true, force: true });
});

describe('session events from real logins', () => {
  let lines: JsonLine[];
  let events: any[];
  let pid: number;

  beforeAll(async () => {
    expect(await login('app_user', 'right-password', 'billing-e2e', async (c) => {
      pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    })).toBeNull();
    expect(await login('app_user', 'wrong-password', 'wrong-e2e')).toMatch(/password authentication failed for user "app_user"/);
    expect(await login('ghost_scram', 'x', 'ghost-e2e')).toMatch(/password authentication failed for user "ghost_scram"/);
    expect(await login('ghost_trust', '', 'ghost-e2e')).toMatch(/role "ghost_trust" does not exist/);
    lines = await linesUntil((ls) => ls.some((l) => l.message.includes('role "ghost_trust" does not exist'))
      && ls.some((l) => l.message.startsWith('disconnection:') && l.user === 'app_user'));
    const first = await ingest(a);
    expect(first.sessionEvents).toBeGreaterThanOrEqual(7);
    events = await all(a, { users: ['app_user', 'ghost_scram', 'ghost_trust'] });
  });

  it('a login, its logout, a wrong password and unknown roles, every field as the jsonlog says', () => {
    const mine = (l: JsonLine) => ['app_user', 'ghost_scram', 'ghost_trust'].includes(l.user ?? '');
    // newest first, as sessionEvents answers; lines of one millisecond come in the order of the ids' tiebreaker
    const at = (l: JsonLine) => events.findIndex((e) => e.sessionId === l.session_id && e.sessionLineNum === l.line_num);
    const expected = lines.filter((l) => mine(l) && (/^(connection authorized|disconnection): /.test(l.message) || l.error_severity === 'FATAL'))
      .sort((x, y) => y.timestamp.localeCompare(x.timestamp) || at(x) - at(y));
    expect(events.map((e) => e.message)).toEqual(expected.map((l) => l.message));
    for (const [i, l] of expected.entries()) {
      const e = events[i];
      expect(e).toMatchObject({ timestamp: new Date(l.timestamp.replace(' UTC', 'Z').replace(' ', 'T')).toISOString(), user: l.user, database: l.dbname,
        remoteHost: l.remote_host, remotePort: l.remote_port, sessionId: l.session_id, sessionLineNum: l.line_num, replication: false,
        sslProtocol: null, sslCipher: null, sslBits: null });
      expect(e.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
    const [loginE] = events.filter((e) => e.kind === 'LOGIN' && e.user === 'app_user');
    expect(loginE).toMatchObject({ database: 'postgres', applicationName: 'billing-e2e', durationMs: null, failureReason: null });
    expect(loginE.sessionId).toBe(`${lines.find((l) => l.session_id.endsWith(`.${pid.toString(16)}`))!.session_id}`);
    const logout = events.find((e) => e.kind === 'LOGOUT' && e.user === 'app_user');
    expect(logout).toMatchObject({ sessionId: loginE.sessionId, applicationName: 'billing-e2e', failureReason: null });
    expect(logout.durationMs).toBeGreaterThanOrEqual(0);
    expect(logout.durationMs).toBeLessThan(60_000);
    expect(Date.parse(logout.timestamp) - Date.parse(loginE.timestamp)).toBeLessThanOrEqual(logout.durationMs);
    expect(events.filter((e) => e.kind === 'LOGIN_FAILED').map((e) => [e.user, e.failureReason, e.database]).reverse()).toEqual([
      ['app_user', 'PASSWORD', 'postgres'], ['ghost_scram', 'PASSWORD', 'postgres'], ['ghost_trust', 'UNKNOWN_ROLE', 'postgres'],
    ]);
    // under trust the role that does not exist was authenticated first: a LOGIN, then its LOGIN_FAILED, one session
    const ghost = events.filter((e) => e.user === 'ghost_trust').sort((x, y) => x.sessionLineNum - y.sessionLineNum);
    expect(ghost.map((e) => e.kind)).toEqual(['LOGIN', 'LOGIN_FAILED']);
    expect(ghost[0].sessionId).toBe(ghost[1].sessionId);
  });

  it('ingesting again writes nothing new; from scratch (no checkpoint) every event is found already stored', async () => {
    const before = await all(a);
    expect((await ingest(a)).sessionEvents).toBe(0);
    await g.gateway.db.prisma.ingestCheckpoint.deleteMany({ where: { serviceId: a.serviceId } });
    const again = await ingest(a);
    expect(again.sessionEvents).toBeGreaterThanOrEqual(before.length);   // read and sent again: 409s, nothing added
    expect(await all(a)).toEqual(before);
  });

  it('filters and paging: one at a time gives exactly the whole list; kinds, hosts, applications filter', async () => {
    const whole = await all(a);
    const oneByOne = await all(a, {}, 1);
    expect(oneByOne).toEqual(whole);
    expect((await all(a, { kinds: ['LOGIN_FAILED'] })).every((e) => e.kind === 'LOGIN_FAILED')).toBe(true);
    expect((await all(a, { applicationNames: ['billing-e2e'] })).map((e) => e.kind)).toEqual(['LOGOUT', 'LOGIN']);
    expect((await all(a, { remoteHosts: ['127.0.0.1'], users: ['ghost_trust'], failureReasons: ['UNKNOWN_ROLE'] })).length).toBe(1);
    expect(await all(a, { remoteHosts: ['10.9.9.9'] })).toEqual([]);
    const stats: any = await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { users: ['app_user'] }, groupBy: 'KIND' });
    expect(stats.errors).toBeUndefined();
    expect(stats.data.sessionEventStats.groups).toEqual(expect.arrayContaining([{ key: 'LOGIN', count: 1 }, { key: 'LOGOUT', count: 1 }, { key: 'LOGIN_FAILED', count: 1 }]));
  });

  it('session events are never audit events; another tenant sees none of them', async () => {
    const audit: any = await g.exec(a.token, AUDIT_COUNT, { serviceId: a.serviceId });
    expect(audit.data.auditEvents.totalCount).toBe(0);
    const theirs: any = await g.exec(b.token, SESSIONS, { serviceId: a.serviceId, first: 10 });
    expect(theirs.errors[0].extensions.code).toBe('NOT_FOUND');
    const theirStats: any = await g.exec(b.token, STATS, { serviceId: a.serviceId });
    expect(theirStats.errors[0].extensions.code).toBe('NOT_FOUND');
    const own: any = await g.exec(b.token, SESSIONS, { serviceId: b.serviceId, first: 10, filter: { users: ['app_user', 'ghost_scram', 'ghost_trust'] } });
    expect(own.data.sessionEvents.totalCount).toBe(0);   // the same server, but b's service never ingested its log
  });

  it('a stderr stream (the fixture of the unit tests, ids by position): every session event once, however often it is sent', async () => {
    const stderr = fs.readFileSync(path.join(ROOT, 'src/modules/ingest/fixtures/sessions-pg15/postgresql.stderr'));
    const service = (await g.gateway.tenancy.serviceById(b.serviceId))!;
    // the fixture is dated 2026-12-04: a long retention keeps it inside the event-time window whenever this runs
    const ingester = new Ingester(service, cluster.logDir, g.gateway.eventStore!, new CheckpointRepository(g.gateway.db.prisma), silentLogger,
      { window: { retentionDays: 36500, maxFutureSkewMs: 86_400_000 } });
    async function* once() { yield stderr; }
    expect(await ingester.ingestStream(once(), { source: 'host-b:postgresql.log', format: 'stderr' })).toEqual({ events: 0, malformed: 0, sessionEvents: 36 });
    expect(await ingester.ingestStream(once(), { source: 'host-b:postgresql.log', format: 'stderr' })).toEqual({ events: 0, malformed: 0, sessionEvents: 36 });
    await g.gateway.eventStore!.refresh();
    const got = await all(b);
    expect(got.length).toBe(36);
    expect(got.filter((e) => e.kind === 'LOGIN_FAILED').length).toBe(18);
    expect(got.find((e) => e.kind === 'LOGOUT' && e.user === 'app_user')).toMatchObject({ remoteHost: '127.0.0.1', remotePort: 47558, durationMs: 34, sessionId: null });
    expect((await all(a, { applicationNames: ['billing'] })).length).toBe(0);   // b's stream is b's alone
  });

  it('bad arguments are refused (BAD_USER_INPUT)', async () => {
    const r: any = await g.exec(a.token, SESSIONS, { serviceId: a.serviceId, first: 101 });
    expect(r.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const c: any = await g.exec(a.token, SESSIONS, { serviceId: a.serviceId, after: 'not-a-cursor' });
    expect(c.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
