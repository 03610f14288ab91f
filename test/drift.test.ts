/**
 * Drift on a real PostgreSQL 15 + pgaudit: settings changed by hand (ALTER SYSTEM + reload, ALTER DATABASE)
 * show in AuditPolicy.drift as exactly those settings; reconcileAuditPolicy puts the applied settings back
 * (checked with SHOW in new connections) and adoptAuditPolicy records the live ones without touching the
 * server, each with the guarantees of the other changes (revision in the hash chain, idempotency, dryRun,
 * refusals that change nothing); and serve's drift monitor logs and counts a drifted policy in /metrics.
 * Each test gets a service of its own on a reset server.
 */
import { createGateway, Gateway } from '../src/api/gateway';
import { startHttpServer } from '../src/api/http-server';
import { loadConfig } from '../src/base/config';
import { createLogger } from '../src/base/logger';
import { createTenant, ENABLE, DISABLE, PAYLOAD, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { bearer, request } from './support/http';
import { serverState, unchanged } from './support/unchanged';

const RECONCILE = `mutation($input: ReconcileAuditPolicyInput!) { reconcileAuditPolicy(input: $input) { ${PAYLOAD} } }`;
const ADOPT = `mutation($input: AdoptAuditPolicyInput!) { adoptAuditPolicy(input: $input) { ${PAYLOAD} } }`;
const DRIFT = `query($serviceId: ID!, $database: String) { auditPolicy(serviceId: $serviceId, database: $database) {
  version enabled settingsSource settings { log logParameter logRows } driftChecked drift { setting applied live }
  historyIntegrity { intact } } }`;
const DB = 'sales db';

let g: TestGateway;

beforeAll(async () => {
  g = await startTestGateway();
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS "${DB}"`);
  await sql(urls.pgaudit, `CREATE DATABASE "${DB}"`);
});
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

type Payload = { policy: any; revision: any; statements: string[]; userErrors: { code: string; field: string[] | null }[] };

async function mutate(query: string, field: string, t: Tenant, input: Record<string, unknown> = {}): Promise<Payload> {
  const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
  expect(r.errors).toBeUndefined();
  return r.data![field];
}
const reconcile = (t: Tenant, input: Record<string, unknown> = {}) => mutate(RECONCILE, 'reconcileAuditPolicy', t, input);
const adopt = (t: Tenant, input: Record<string, unknown> = {}) => mutate(ADOPT, 'adoptAuditPolicy', t, input);

/** A new service on the reset server, with audit logging enabled (predefined settings; for a database: read,write). */
async function enabledService(database?: string): Promise<Tenant> {
  await resetServer(urls.pgaudit);
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const p = await mutate(ENABLE, 'enableAuditLogging', t, database ? { database, settings: { log: ['READ', 'WRITE'] } } : {});
  if (p.userErrors.length > 0) throw new Error(`setup: enable failed: ${JSON.stringify(p.userErrors)}`);
  return t;
}

/** ALTER SYSTEM SET by hand, and the reload. */
async function setSystem(guc: string, value: string): Promise<void> {
  await sql(urls.pgaudit, `ALTER SYSTEM SET ${guc} = '${value}'`);
  await sql(urls.pgaudit, 'SELECT pg_reload_conf()');
}

async function policy(t: Tenant, database?: string): Promise<any> {
  const r = await g.exec(t.token, DRIFT, { serviceId: t.serviceId, database });
  expect(r.errors).toBeUndefined();
  return r.data!.auditPolicy;
}

/** The policy once the server shows `count` drifted settings (a reload reaches backends within moments). */
async function drifted(t: Tenant, count: number, database?: string): Promise<any> {
  let p: any;
  for (let i = 0; i < 200; i++) {
    p = await policy(t, database);
    if (p.drift.length === count) return p;
    await new Promise((r) => setTimeout(r, 25));
  }
  return p;
}

/** An enabled policy whose service no longer answers: enabled on the real server, its row then moved to a service at a dead address. */
async function policyOnDeadService(): Promise<Tenant> {
  const live = await enabledService();
  const dead = await createTenant(g, { serviceUrl: 'postgres://avnadmin:s3cret@127.0.0.1:1/postgres' });
  await g.gateway.db.prisma.auditPolicy.updateMany({ where: { serviceId: live.serviceId }, data: { serviceId: dead.serviceId } });
  return dead;
}

const LOG_PARAMETER_DRIFT = { setting: 'pgaudit.log_parameter', applied: 'off', live: 'on' };

describe('AuditPolicy.drift', () => {
  it('none right after enable', async () => {
    const t = await enabledService();
    const p = await policy(t);
    expect(p).toMatchObject({ driftChecked: true, drift: [], settingsSource: 'SERVER' });
  });

  it('a setting changed by hand (service level) is listed alone, with applied and live; a respelling of the same value is not drift', async () => {
    const t = await enabledService();
    await setSystem('pgaudit.log', ' DDL, write,ROLE ,ddl');   // the applied write,role,ddl, spelt differently
    await setSystem('pgaudit.log_parameter', 'on');
    const p = await drifted(t, 1);
    expect(p.driftChecked).toBe(true);
    expect(p.drift).toEqual([LOG_PARAMETER_DRIFT]);
  });

  it('a setting changed by hand on the database (ALTER DATABASE) drifts that database\'s policy only', async () => {
    const t = await enabledService(DB);
    await sql(urls.pgaudit, `ALTER DATABASE "${DB}" SET pgaudit.log = 'all, -misc'`);
    const p = await policy(t, DB);
    expect(p.drift).toEqual([{ setting: 'pgaudit.log', applied: 'read,write', live: 'all,-misc' }]);
    expect(await policy(t)).toBeNull();   // no service-level policy was ever enabled
  });

  it('an unreachable server: drift unknown (driftChecked false, empty), settings the last applied', async () => {
    const dead = await policyOnDeadService();
    expect(await policy(dead)).toMatchObject({ enabled: true, settingsSource: 'LAST_APPLIED', driftChecked: false, drift: [] });
  });

  it('a disabled policy drifts when its scope holds a pgaudit value again', async () => {
    const t = await enabledService();
    expect((await mutate(DISABLE, 'disableAuditLogging', t)).userErrors).toEqual([]);
    expect((await policy(t)).drift).toEqual([]);
    await setSystem('pgaudit.log', 'all');
    expect((await drifted(t, 1)).drift).toEqual([{ setting: 'pgaudit.log', applied: 'none', live: 'all' }]);
  });
});

describe('reconcileAuditPolicy', () => {
  it('puts the applied value back on the server (service level): RECONCILED revision, empty drift after', async () => {
    const t = await enabledService();
    await setSystem('pgaudit.log_parameter', 'on');
    await drifted(t, 1);
    const p = await reconcile(t, { expectedVersion: 1, reason: 'drift found in review' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([`ALTER SYSTEM SET pgaudit.log_parameter = 'off'`, 'SELECT pg_reload_conf()']);
    expect(p.revision).toMatchObject({ version: 2, action: 'RECONCILED', reason: 'drift found in review', statements: p.statements,
      changes: [{ setting: 'pgaudit.log_parameter', from: 'on', to: 'off' }] });
    expect(p.policy).toMatchObject({ version: 2, enabled: true, settings: expect.objectContaining({ logParameter: false }) });
    expect(await show(urls.pgaudit, 'pgaudit.log_parameter')).toBe('off');   // a new connection sees it
    const after = await policy(t);
    expect(after).toMatchObject({ drift: [], driftChecked: true, historyIntegrity: { intact: true } });
  });

  it('puts the applied value back on a database (ALTER DATABASE)', async () => {
    const t = await enabledService(DB);
    await sql(urls.pgaudit, `ALTER DATABASE "${DB}" SET pgaudit.log = 'all'`);
    const p = await reconcile(t, { database: DB });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([`ALTER DATABASE "${DB}" SET pgaudit.log = 'read,write'`]);
    expect(p.revision).toMatchObject({ action: 'RECONCILED', changes: [{ setting: 'pgaudit.log', from: 'all', to: 'read,write' }] });
    expect(await show(urls.pgaudit, 'pgaudit.log', DB)).toBe('read,write');
    expect((await policy(t, DB)).drift).toEqual([]);
  });

  it('nothing drifted: no statement, no revision', async () => {
    const t = await enabledService();
    const p = await unchanged(g, urls.pgaudit, t.serviceId, () => reconcile(t, { idempotencyKey: 'nothing-to-do' }));
    expect(p).toMatchObject({ userErrors: [], statements: [], revision: null, policy: { version: 1 } });
  });

  it('dryRun returns the statements and changes nothing', async () => {
    const t = await enabledService();
    await setSystem('pgaudit.log_parameter', 'on');
    await drifted(t, 1);
    const p = await unchanged(g, urls.pgaudit, t.serviceId, () => reconcile(t, { dryRun: true }));
    expect(p.userErrors).toEqual([]);
    expect(p.revision).toBeNull();
    expect(p.statements).toEqual([`ALTER SYSTEM SET pgaudit.log_parameter = 'off'`, 'SELECT pg_reload_conf()']);
    expect((await policy(t)).drift).toEqual([LOG_PARAMETER_DRIFT]);
  });

  it('an idempotency key replays the first result and applies nothing twice; the key for another operation is refused', async () => {
    const t = await enabledService();
    await setSystem('pgaudit.log_parameter', 'on');
    await drifted(t, 1);
    const first = await reconcile(t, { idempotencyKey: 'reconcile-1', reason: 'r' });
    expect(first.revision).toMatchObject({ version: 2, action: 'RECONCILED' });
    await setSystem('pgaudit.log_parameter', 'on');   // drifted again: a replay must not reconcile it
    await drifted(t, 1);
    const again = await unchanged(g, urls.pgaudit, t.serviceId, () => reconcile(t, { idempotencyKey: 'reconcile-1', reason: 'r' }));
    expect(again.userErrors).toEqual([]);
    expect(again.revision.id).toBe(first.revision.id);
    expect(again.statements).toEqual(first.statements);
    const other = await unchanged(g, urls.pgaudit, t.serviceId, () => adopt(t, { idempotencyKey: 'reconcile-1', reason: 'r' }));
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });
});

describe('adoptAuditPolicy', () => {
  it('records the live value as the policy\'s (ADOPTED, no statement, server untouched); drift is empty after', async () => {
    const t = await enabledService();
    await setSystem('pgaudit.log_parameter', 'on');
    await drifted(t, 1);
    const server = await serverState(urls.pgaudit);
    const p = await adopt(t, { expectedVersion: 1, reason: 'the DBA\'s change is intended' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([]);
    expect(p.revision).toMatchObject({ version: 2, action: 'ADOPTED', statements: [], reason: 'the DBA\'s change is intended',
      changes: [{ setting: 'pgaudit.log_parameter', from: 'off', to: 'on' }] });
    expect(p.policy.settings.logParameter).toBe(true);
    expect(await serverState(urls.pgaudit)).toEqual(server);
    expect(await show(urls.pgaudit, 'pgaudit.log_parameter')).toBe('on');
    expect(await policy(t)).toMatchObject({ version: 2, drift: [], historyIntegrity: { intact: true } });
    // and the adopted value is what reconcile keeps from now on
    expect(await reconcile(t)).toMatchObject({ userErrors: [], statements: [], revision: null });
  });

  it('adopts a database\'s value set by hand', async () => {
    const t = await enabledService(DB);
    await sql(urls.pgaudit, `ALTER DATABASE "${DB}" SET pgaudit.log_rows = 'on'`);
    const server = await serverState(urls.pgaudit);
    const p = await adopt(t, { database: DB });
    expect(p).toMatchObject({ userErrors: [], statements: [] });
    expect(await serverState(urls.pgaudit)).toEqual(server);
    expect(p.revision).toMatchObject({ action: 'ADOPTED', changes: [{ setting: 'pgaudit.log_rows', from: 'off', to: 'on' }] });
    expect(await policy(t, DB)).toMatchObject({ drift: [], settings: { logRows: true } });
  });

  it('nothing drifted: no revision; dryRun changes nothing; a replay returns the same revision', async () => {
    const t = await enabledService();
    expect(await adopt(t)).toMatchObject({ userErrors: [], statements: [], revision: null });
    await setSystem('pgaudit.log_rows', 'on');
    await drifted(t, 1);
    const dry = await unchanged(g, urls.pgaudit, t.serviceId, () => adopt(t, { dryRun: true }));
    expect(dry).toMatchObject({ userErrors: [], statements: [], revision: null });
    const first = await adopt(t, { idempotencyKey: 'adopt-1' });
    expect(first.revision).toMatchObject({ version: 2, action: 'ADOPTED' });
    const again = await unchanged(g, urls.pgaudit, t.serviceId, () => adopt(t, { idempotencyKey: 'adopt-1' }));
    expect(again.revision.id).toBe(first.revision.id);
  });
});

describe('refusals change nothing', () => {
  async function driftedService(): Promise<Tenant> {
    const t = await enabledService();
    await setSystem('pgaudit.log_parameter', 'on');
    await drifted(t, 1);
    return t;
  }
  const both = [['reconcile', reconcile], ['adopt', adopt]] as const;

  it.each(both)('%s without Pro Features: PRO_FEATURES_REQUIRED', async (_name, op) => {
    const t = await driftedService();
    await g.gateway.tenancy.setProFeatures(t.projectId, false);
    await new Promise((r) => setTimeout(r, 2100));   // past AUTH_CACHE_TTL_MS
    const p = await unchanged(g, urls.pgaudit, t.serviceId, () => op(t));
    expect(p.userErrors.map((e) => e.code)).toEqual(['PRO_FEATURES_REQUIRED']);
    expect(p.revision).toBeNull();
  });

  it.each(both)('%s of a disabled policy: NOT_ENABLED', async (_name, op) => {
    const t = await driftedService();
    expect((await mutate(DISABLE, 'disableAuditLogging', t)).userErrors).toEqual([]);
    await setSystem('pgaudit.log', 'all');
    const p = await unchanged(g, urls.pgaudit, t.serviceId, () => op(t));
    expect(p.userErrors.map((e) => e.code)).toEqual(['NOT_ENABLED']);
  });

  it.each(both)('%s at a stale expectedVersion: VERSION_CONFLICT', async (_name, op) => {
    const t = await driftedService();
    const p = await unchanged(g, urls.pgaudit, t.serviceId, () => op(t, { expectedVersion: 7 }));
    expect(p.userErrors.map((e) => [e.code, e.field])).toEqual([['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
  });

  it.each(both)('%s of another project\'s service: NOT_FOUND, as for one that does not exist', async (_name, op) => {
    const t = await driftedService();
    const stranger = await createTenant(g, { serviceUrl: urls.pgaudit });
    const query = op === reconcile ? RECONCILE : ADOPT;
    const r = await unchanged(g, urls.pgaudit, t.serviceId, () => g.exec(stranger.token, query, { input: { serviceId: t.serviceId } }));
    expect(r.errors!.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('the drift monitor of serve', () => {
  const METRICS_TOKEN = 'drift-metrics-token-0123456789';
  let monitored: Gateway;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  const logged: Record<string, any>[] = [];

  beforeAll(async () => {
    const config = loadConfig({ ...process.env, METRICS_TOKEN, DRIFT_CHECK_INTERVAL_MS: '200' });
    monitored = createGateway(config, createLogger('debug', {}, (line) => { logged.push(JSON.parse(line)); }));
    server = await startHttpServer({ ...monitored, maxBodyBytes: 65536 }, 0, '127.0.0.1');
    monitored.driftMonitor!.start();
  });
  afterAll(async () => { await server?.close(); await monitored?.close(); });

  async function metrics(): Promise<Map<string, number>> {
    const r = await request(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: bearer(METRICS_TOKEN) } });
    expect(r.status).toBe(200);
    return new Map(r.text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
      const at = l.lastIndexOf(' ');
      return [l.slice(0, at).replace(/^pgaudit_gateway_/, ''), Number(l.slice(at + 1))] as [string, number];
    }));
  }
  const driftLines = (serviceId: string) => logged.filter((l) => l.msg === 'audit policy drift' && l.serviceId === serviceId);
  async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await what();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('logs the drifted policy (names, no values), shows it in the gauge and counters, and clears when reconciled', async () => {
    const t = await enabledService();
    const before = await metrics();
    expect(before.has('audit_policies_drifted')).toBe(true);
    expect(before.has('audit_policy_drift_checks_total{outcome="unreachable"}')).toBe(true);
    await setSystem('pgaudit.log_parameter', 'on');
    await until(async () => driftLines(t.serviceId).length, (n) => n >= 2);   // two rounds saw it: the gauge is set
    const line = driftLines(t.serviceId)[0]!;
    expect(line).toMatchObject({ level: 'warn', serviceId: t.serviceId, database: null, settings: ['pgaudit.log_parameter'], version: 1 });
    expect(JSON.stringify(line)).not.toMatch(/postgres:\/\/|s3cret|"on"/);
    const during = await metrics();
    expect(during.get('audit_policies_drifted')!).toBeGreaterThanOrEqual(1);
    expect(during.get('audit_policy_drift_detections_total')! - (before.get('audit_policy_drift_detections_total') ?? 0)).toBeGreaterThanOrEqual(1);
    expect(during.get('audit_policy_drift_checks_total{outcome="drifted"}')!).toBeGreaterThanOrEqual(2);

    // (the policies of earlier tests point at the same server: the gauge counts them too, so it only has to fall)
    expect((await reconcile(t)).userErrors).toEqual([]);
    const after = await until(metrics, (m) => m.get('audit_policies_drifted')! < during.get('audit_policies_drifted')!);
    expect(after.get('audit_policies_drifted')!).toBeLessThan(during.get('audit_policies_drifted')!);
    const seen = driftLines(t.serviceId).length;
    await new Promise((r) => setTimeout(r, 600));
    expect(driftLines(t.serviceId).length).toBe(seen);   // reconciled: no more drift lines for it
  });

  it('counts a check that could not reach the server, and logs it by code', async () => {
    const before = await metrics();
    const dead = await policyOnDeadService();
    const line = () => logged.find((l) => l.msg === 'drift check: service not reachable' && l.serviceId === dead.serviceId);
    await until(async () => line(), (l) => l !== undefined);
    expect(line()).toMatchObject({ level: 'warn', code: 'SERVICE_UNREACHABLE' });
    const series = 'audit_policy_drift_checks_total{outcome="unreachable"}';
    expect((await metrics()).get(series)!).toBeGreaterThan(before.get(series)!);
  });

  it('stops cleanly: no check after stop()', async () => {
    await monitored.driftMonitor!.stop();
    const n = logged.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(logged.length).toBe(n);
  });
});
