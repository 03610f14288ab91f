/**
 * A policy turns on the session events' server settings: on a PostgreSQL 15 + pgaudit cluster of this file's own,
 * with log_connections and log_disconnections off as PostgreSQL ships them, the service-level policy sets them with
 * ALTER SYSTEM, new connections then log their login and logout (read with SHOW, in the jsonlog, and as LOGIN /
 * LOGOUT session events after ingest); turning them off RESETs them; a database or role policy, or one with
 * targetDatabases, is refused and nothing changes; a hand RESET shows as drift; disable leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { ROOT } from './support/cli';
import { createTenant, ingestOnce, sql, startTestGateway, Tenant, TestGateway } from './support/harness';
import { unchanged } from './support/unchanged';

const BASE = clusterBaseDir(path.join(ROOT, '.local/test-clusters', `${process.pid}-session-logging`), `test-session-logging-${process.pid}`);
const SETTINGS = 'settings { log logConnections logDisconnections }';
const PAYLOAD = `policy { version enabled ${SETTINGS} } revision { version changes { setting from to } } statements userErrors { code message field }`;
const ENABLE = `mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { ${PAYLOAD} } }`;
const CONFIGURE = `mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { ${PAYLOAD} } }`;
const DISABLE = `mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { ${PAYLOAD} } }`;
const POLICY = `query($serviceId: ID!, $database: String) { auditPolicy(serviceId: $serviceId, database: $database) {
  version enabled ${SETTINGS} driftChecked drift { setting applied live } } }`;
const SESSIONS = `query($serviceId: ID!, $filter: SessionEventFilter) {
  sessionEvents(serviceId: $serviceId, filter: $filter, first: 50) { totalCount edges { node { kind user applicationName durationMs } } } }`;

let cluster: PostgresCluster;
let g: TestGateway;
let t: Tenant;

type Payload = { policy: any; revision: any; statements: string[]; userErrors: { code: string; message: string; field: string[] | null }[] };
async function mutate(query: string, input: Record<string, unknown>): Promise<Payload> {
  const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
  expect(r.errors).toBeUndefined();
  return Object.values(r.data!)[0] as Payload;
}
async function policy(database?: string): Promise<any> {
  const r = await g.exec(t.token, POLICY, { serviceId: t.serviceId, database });
  expect(r.errors).toBeUndefined();
  return r.data!.auditPolicy;
}
/** What a NEW connection gets: backend-start settings change for new sessions only. */
async function fresh(guc: string): Promise<string> {
  const [row] = await sql<{ v: string }>(cluster.url(), 'SELECT current_setting($1) AS v', [guc]);
  return row!.v;
}
async function systemEntries(): Promise<{ name: string; setting: string }[]> {
  return sql(cluster.url(), `SELECT name, setting FROM pg_file_settings
    WHERE name IN ('log_connections', 'log_disconnections') AND sourcefile LIKE '%/postgresql.auto.conf' ORDER BY seqno`);
}
/** Waits until new connections get `value` (the postmaster has processed the reload). */
async function newSessionsGet(guc: string, value: string): Promise<void> {
  for (let i = 0; i < 100 && (await fresh(guc)) !== value; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await fresh(guc)).toBe(value);
}
function jsonlog(): string {
  return fs.readdirSync(cluster.logDir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => fs.readFileSync(path.join(cluster.logDir, f), 'utf8')).join('');
}
async function connectAs(applicationName: string): Promise<void> {
  const c = new Client({ connectionString: cluster.url(), application_name: applicationName });
  await c.connect();
  await c.query('SELECT 1');
  await c.end();
}
async function sessionEvents(applicationName: string): Promise<string[]> {
  await ingestOnce(g, t.serviceId, cluster.logDir);
  const r: any = await g.exec(t.token, SESSIONS, { serviceId: t.serviceId, filter: { applicationNames: [applicationName] } });
  expect(r.errors).toBeUndefined();
  return r.data.sessionEvents.edges.map((e: any) => e.node.kind);
}

beforeAll(async () => {
  fs.rmSync(BASE, { recursive: true, force: true });
  cluster = await PostgresCluster.start({ name: 'pg15-session-logging', baseDir: BASE, binDir: debianPgBinDir(15), fresh: true,
    preloadPgaudit: true, settings: { log_timezone: `'UTC'` } });
  await sql(cluster.url(), 'CREATE DATABASE sales');
  await sql(cluster.url(), 'CREATE ROLE etl LOGIN');
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  t = await createTenant(g, { serviceUrl: cluster.url() });
}, 120_000);
afterAll(async () => {
  await g?.close();
  await cluster?.stop();
  fs.rmSync(BASE, { recursive: true, force: true });
});

describe('a service-level policy turns on log_connections and log_disconnections', () => {
  it('the server starts with both off, and an enable that does not name them leaves them alone', async () => {
    expect(await fresh('log_connections')).toBe('off');
    const p = await mutate(ENABLE, { reason: 'baseline' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements.some((s) => /log_(dis)?connections/.test(s))).toBe(false);
    expect(p.policy.settings).toMatchObject({ logConnections: false, logDisconnections: false });
    expect(await systemEntries()).toEqual([]);
  });

  it('configure sets both with ALTER SYSTEM; the history records them; new sessions log their login and logout', async () => {
    const p = await mutate(CONFIGURE, { settings: { logConnections: true, logDisconnections: true }, reason: 'auditors want logins' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([`ALTER SYSTEM SET log_connections = 'on'`, `ALTER SYSTEM SET log_disconnections = 'on'`, 'SELECT pg_reload_conf()']);
    expect(p.revision.changes).toEqual([{ setting: 'log_connections', from: null, to: 'on' }, { setting: 'log_disconnections', from: null, to: 'on' }]);
    expect(p.policy.settings).toMatchObject({ logConnections: true, logDisconnections: true });
    expect(await systemEntries()).toEqual([{ name: 'log_connections', setting: 'on' }, { name: 'log_disconnections', setting: 'on' }]);
    await newSessionsGet('log_connections', 'on');
    expect(await policy()).toMatchObject({ driftChecked: true, drift: [] });

    await connectAs('policy-login-e2e');
    for (let i = 0; i < 100 && !/disconnection: .*policy-login-e2e|policy-login-e2e.*disconnection/.test(jsonlog()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sessionEvents('policy-login-e2e')).toEqual(['LOGOUT', 'LOGIN']);
  });

  it('refused below the service and with targetDatabases, with the field named, and nothing changes', async () => {
    await unchanged(g, cluster.url(), t.serviceId, async () => {
      const db = await mutate(ENABLE, { database: 'sales', settings: { logConnections: true } });
      expect(db.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_SETTING', field: ['input', 'settings', 'logConnections'] })]);
      expect(db.userErrors[0]!.message).toMatch(/server-wide/);
      const role = await mutate(ENABLE, { role: 'etl', settings: { logDisconnections: true } });
      expect(role.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_SETTING', field: ['input', 'settings', 'logDisconnections'] })]);
      // a target list sets the settings per database; the switches (kept on from before) are refused with it
      const list = await mutate(CONFIGURE, { targetDatabases: ['sales'], settings: {} });
      expect(list.userErrors.map((e) => [e.code, e.field?.at(-1)])).toEqual([['INVALID_SETTING', 'logConnections'], ['INVALID_SETTING', 'logDisconnections']]);
    });
    expect(await policy('sales')).toBeNull();
  });

  it('a database policy shows them off (they are the service level\'s) while the service has them on, and never touches them', async () => {
    const p = await mutate(ENABLE, { database: 'sales', settings: { log: ['READ'] } });
    expect(p.userErrors).toEqual([]);
    expect(p.statements.some((s) => /log_(dis)?connections/.test(s))).toBe(false);
    expect(p.policy.settings).toMatchObject({ logConnections: false, logDisconnections: false });
    expect(await policy('sales')).toMatchObject({ drift: [] });
    const off = await mutate(DISABLE, { database: 'sales' });
    expect(off.statements.some((s) => /log_(dis)?connections/.test(s))).toBe(false);
    expect(await systemEntries()).toHaveLength(2);
  });

  it('a hand RESET is drift; false RESETs what ALTER SYSTEM holds; new sessions stop logging logins', async () => {
    await sql(cluster.url(), 'ALTER SYSTEM RESET log_disconnections');
    await sql(cluster.url(), 'SELECT pg_reload_conf()');
    expect((await policy()).drift).toEqual([{ setting: 'log_disconnections', applied: 'on', live: null }]);
    await sql(cluster.url(), `ALTER SYSTEM SET log_disconnections = 'on'`);

    const p = await mutate(CONFIGURE, { settings: { logConnections: false, logDisconnections: false }, reason: 'too noisy' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual(['ALTER SYSTEM RESET log_connections', 'ALTER SYSTEM RESET log_disconnections', 'SELECT pg_reload_conf()']);
    expect(p.revision.changes).toEqual([{ setting: 'log_connections', from: 'on', to: null }, { setting: 'log_disconnections', from: 'on', to: null }]);
    expect(await systemEntries()).toEqual([]);
    await newSessionsGet('log_connections', 'off');
    await connectAs('policy-quiet-e2e');
    await connectAs('policy-marker-e2e');   // no line of its own either; give the log a moment before reading it
    await new Promise((r) => setTimeout(r, 200));
    expect(jsonlog()).not.toMatch(/policy-quiet-e2e/);
    expect(await sessionEvents('policy-quiet-e2e')).toEqual([]);
  });

  it('disable RESETs them with pgaudit\'s settings', async () => {
    await mutate(CONFIGURE, { settings: { logConnections: true } });
    expect(await systemEntries()).toEqual([{ name: 'log_connections', setting: 'on' }]);
    const p = await mutate(DISABLE, { reason: 'done' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual(expect.arrayContaining(['ALTER SYSTEM RESET log_connections', 'ALTER SYSTEM RESET log_disconnections']));
    expect(await systemEntries()).toEqual([]);
    await newSessionsGet('log_connections', 'off');
  });
});
