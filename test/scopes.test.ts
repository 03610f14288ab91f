/**
 * Finer scopes on a real PostgreSQL 15 + pgaudit, proved with the server's own log: a service-level policy
 * with targetDatabases audits exactly those databases (all or nothing across the list), a role scope exempts
 * or audits one role (in one database, or in all), and every refusal changes nothing.
 *
 * Each test starts from a server reset to no pgaudit configuration, with a tenant of its own.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { CONFIGURE, createTenant, DISABLE, ENABLE, POLICY, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { auditLines, waitForAudit } from './support/pgaudit-log';
import { unchanged } from './support/unchanged';

const pid = process.pid;
const DB = { a: `scope_a_${pid}`, b: `scope_b_${pid}`, c: `scope_c_${pid}`, d: `scope_d_${pid}` };
const ROLE = { etl: `etl_${pid}`, contractor: `contractor_${pid}` };
/** A name as the gateway's SQL quotes it. */
const q = (name: string) => `"${name}"`;
const TARGETS = `policy { id version enabled database role targetDatabases settings { log } }
  revision { version action targetDatabases changes { setting from to } statements }
  statements userErrors { code message field }`;
const enableQ = `mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { ${TARGETS} } }`;
const configureQ = `mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { ${TARGETS} } }`;
const disableQ = `mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { ${TARGETS} } }`;

let g: TestGateway;

beforeAll(async () => {
  g = await startTestGateway();
  await resetServer(urls.pgaudit);
  for (const role of Object.values(ROLE)) {
    await sql(urls.pgaudit, `DROP ROLE IF EXISTS ${role}`);
    await sql(urls.pgaudit, `CREATE ROLE ${role} LOGIN`);
  }
  for (const db of Object.values(DB)) {
    await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${db}`);
    await sql(urls.pgaudit, `CREATE DATABASE ${db}`);
    await sql(urls.pgaudit, `CREATE TABLE t (id int); INSERT INTO t VALUES (1); GRANT SELECT ON t TO ${Object.values(ROLE).join(', ')}`, [], db);
  }
});
afterAll(async () => {
  await g.close();
  await resetServer(urls.pgaudit);
  for (const db of Object.values(DB)) await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${db}`);
  for (const role of Object.values(ROLE)) await sql(urls.pgaudit, `DROP ROLE IF EXISTS ${role}`);
});

async function fresh(): Promise<Tenant> {
  await resetServer(urls.pgaudit);
  return createTenant(g, { serviceUrl: urls.pgaudit });
}

/** A new session of `role` (default the admin) in `database`, reading t with a statement that carries `marker`. */
async function workload(database: string, marker: string, role?: string): Promise<void> {
  const url = new URL(withDatabase(urls.pgaudit, database));
  if (role) url.username = role;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try { await client.query(`SELECT count(*) FROM t WHERE '${marker}' <> ''`); } finally { await client.end(); }
}

/**
 * Runs each session and returns which ones pgaudit logged. The sessions that must be logged run last and are
 * waited for: once they show, the collector has written every earlier line, so a missing line is really missing.
 */
async function logged(sessions: { database: string; role?: string; audited: boolean }[]): Promise<boolean[]> {
  const runs = sessions.map((s) => ({ ...s, marker: `m${randomUUID().replace(/-/g, '')}` }));
  const order = [...runs.filter((r) => !r.audited), ...runs.filter((r) => r.audited)];
  for (const r of order) await workload(r.database, r.marker, r.role);
  for (const r of runs.filter((x) => x.audited)) await waitForAudit(r.marker).catch(() => undefined);
  return runs.map((r) => auditLines(r.marker).length > 0);
}

async function mutate(query: string, field: string, t: Tenant, input: Record<string, unknown>): Promise<any> {
  const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
  expect(r.errors).toBeUndefined();
  return r.data![field];
}
const enable = (t: Tenant, input: Record<string, unknown>) => mutate(enableQ, 'enableAuditLogging', t, input);
const configure = (t: Tenant, input: Record<string, unknown>) => mutate(configureQ, 'configureAuditLogging', t, input);
const disable = (t: Tenant, input: Record<string, unknown>) => mutate(disableQ, 'disableAuditLogging', t, input);

describe('targetDatabases', () => {
  it('audits exactly the listed databases: ALTER DATABASE on each, the service level untouched', async () => {
    const t = await fresh();
    const r = await enable(t, { targetDatabases: [DB.b, DB.a, DB.a], settings: { log: ['READ'] }, reason: 'only sales' });
    expect(r.userErrors).toEqual([]);
    expect(r.policy.targetDatabases).toEqual([DB.a, DB.b]);
    expect(r.revision.targetDatabases).toEqual([DB.a, DB.b]);
    expect(r.statements.some((s: string) => s.startsWith('ALTER SYSTEM'))).toBe(false);
    expect(r.statements).toContain(`ALTER DATABASE ${q(DB.a)} SET pgaudit.log = 'read'`);
    expect(r.revision.changes).toContainEqual({ setting: 'pgaudit.targetDatabases', from: null, to: JSON.stringify([DB.a, DB.b]) });
    expect(await show(urls.pgaudit, 'pgaudit.log', DB.a)).toBe('read');
    expect(await show(urls.pgaudit, 'pgaudit.log', DB.c)).toBe('none');
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    expect(await logged([{ database: DB.a, audited: true }, { database: DB.b, audited: true }, { database: DB.c, audited: false },
      { database: DB.d, audited: false }])).toEqual([true, true, false, false]);
    const p = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    expect(p.targetDatabases).toEqual([DB.a, DB.b]);
    expect(p.settings.log).toEqual(['READ']);
  });

  it('adding a database applies there, removing one RESETs it; null goes back to the whole service', async () => {
    const t = await fresh();
    await enable(t, { targetDatabases: [DB.a, DB.b], settings: { log: ['READ'] } });
    const r = await configure(t, { targetDatabases: [DB.b, DB.c], settings: {}, expectedVersion: 1 });
    expect(r.userErrors).toEqual([]);
    expect(r.statements).toEqual(expect.arrayContaining([`ALTER DATABASE ${q(DB.a)} RESET pgaudit.log`, `ALTER DATABASE ${q(DB.c)} SET pgaudit.log = 'read'`]));
    expect(r.statements.some((s: string) => s.startsWith(`ALTER DATABASE ${q(DB.b)}`))).toBe(false);   // kept, unchanged
    expect(r.revision.changes).toEqual([{ setting: 'pgaudit.targetDatabases', from: JSON.stringify([DB.a, DB.b]), to: JSON.stringify([DB.b, DB.c]) }]);
    expect(await logged([{ database: DB.a, audited: false }, { database: DB.b, audited: true }, { database: DB.c, audited: true }]))
      .toEqual([false, true, true]);

    const whole = await configure(t, { targetDatabases: null, settings: { log: ['READ', 'WRITE'] } });
    expect(whole.userErrors).toEqual([]);
    expect(whole.policy.targetDatabases).toBeNull();
    expect(whole.statements).toEqual(expect.arrayContaining([`ALTER SYSTEM SET pgaudit.log = 'read,write'`, `ALTER DATABASE ${q(DB.b)} RESET pgaudit.log`]));
    expect(await logged([{ database: DB.a, audited: true }, { database: DB.d, audited: true }])).toEqual([true, true]);
    const history = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, first: 5 })).data!.auditPolicy.history;
    expect(history.totalCount).toBe(3);
  });

  it('disable RESETs every listed database and the service level', async () => {
    const t = await fresh();
    await enable(t, { targetDatabases: [DB.a, DB.c], settings: { log: ['ALL'] } });
    const r = await disable(t, { reason: 'done' });
    expect(r.userErrors).toEqual([]);
    expect(r.policy.enabled).toBe(false);
    expect(r.policy.targetDatabases).toBeNull();
    for (const db of [DB.a, DB.c]) expect(await show(urls.pgaudit, 'pgaudit.log', db)).toBe('none');
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = ANY($1) AND array_to_string(s.setconfig, ',') LIKE '%pgaudit.%'`, [[DB.a, DB.c]])).toEqual([]);
  });

  it('refuses unknown databases (each named, by its index) before anything runs', async () => {
    const t = await fresh();
    const r = await unchanged(g, urls.pgaudit, t.serviceId, () =>
      enable(t, { targetDatabases: [DB.a, 'no_such_db', 'template1', 'x'.repeat(70)], settings: { log: ['READ'] } }));
    expect(r.userErrors.map((e: any) => [e.code, e.field])).toEqual([
      ['DATABASE_NOT_FOUND', ['input', 'targetDatabases', '1']], ['DATABASE_NOT_FOUND', ['input', 'targetDatabases', '2']],
      ['DATABASE_NOT_FOUND', ['input', 'targetDatabases', '3']]]);
  });

  it('refuses [] and a list with a database or role scope, changing nothing', async () => {
    const t = await fresh();
    const empty = await g.exec(t.token, enableQ, { input: { serviceId: t.serviceId, targetDatabases: [] } });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const r = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { database: DB.a, targetDatabases: [DB.b] }));
    expect(r.userErrors.map((e: any) => e.code)).toEqual(['SCOPE_CONFLICT']);
  });

  it('one database governed by one policy: a list may not take a database with its own policy, nor the other way round', async () => {
    const t = await fresh();
    await enable(t, { database: DB.a, settings: { log: ['WRITE'] } });
    const r = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { targetDatabases: [DB.a, DB.b] }));
    expect(r.userErrors.map((e: any) => [e.code, e.field])).toEqual([['SCOPE_CONFLICT', ['input', 'targetDatabases']]]);
    await enable(t, { targetDatabases: [DB.b] });
    const back = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { database: DB.b }));
    expect(back.userErrors.map((e: any) => e.code)).toEqual(['SCOPE_CONFLICT']);
  });

  it('all or nothing: a database whose settings row is locked fails the change, and every database keeps what it had', async () => {
    const fast = await startTestGateway({ TARGET_LOCK_TIMEOUT_MS: '300' });
    try {
      await resetServer(urls.pgaudit);
      const t = await createTenant(fast, { serviceUrl: urls.pgaudit });
      const ok = await fast.exec(t.token, enableQ, { input: { serviceId: t.serviceId, targetDatabases: [DB.a, DB.b, DB.c], settings: { log: ['READ'] } } });
      expect(ok.data!.enableAuditLogging.userErrors).toEqual([]);
      const blocker = new Client({ connectionString: urls.pgaudit });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`ALTER DATABASE ${q(DB.c)} SET work_mem = '8MB'`);   // holds the row lock on scope c's settings
        const r = await unchanged(fast, urls.pgaudit, t.serviceId, async () => {
          const res = await fast.exec(t.token, configureQ, { input: { serviceId: t.serviceId, settings: { log: ['READ', 'WRITE'] } } });
          return res.data!.configureAuditLogging;
        });
        expect(r.userErrors.map((e: any) => e.code)).toEqual(['APPLY_FAILED']);
        expect(r.userErrors[0].message).toMatch(/lock timeout/);
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
      for (const db of [DB.a, DB.b, DB.c]) expect(await show(urls.pgaudit, 'pgaudit.log', db)).toBe('read');
    } finally {
      await fast.close();
    }
  });

  it('dryRun returns the statements of every database and changes nothing; a key replays', async () => {
    const t = await fresh();
    const dry = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { targetDatabases: [DB.a, DB.b], dryRun: true }));
    expect(dry.statements.filter((s: string) => s.startsWith('ALTER DATABASE')).length).toBeGreaterThan(10);
    const first = await enable(t, { targetDatabases: [DB.a], idempotencyKey: 'k1' });
    const again = await enable(t, { targetDatabases: [DB.a], idempotencyKey: 'k1' });
    expect(again.revision.version).toBe(first.revision.version);
    const other = await enable(t, { targetDatabases: [DB.b], idempotencyKey: 'k1' });
    expect(other.userErrors.map((e: any) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });
});

describe('role scope', () => {
  it('exempts an ETL role everywhere while the service audits everyone else', async () => {
    const t = await fresh();
    await enable(t, { settings: { log: ['READ'] } });
    const r = await enable(t, { role: ROLE.etl, settings: { log: [] }, reason: 'ETL is too noisy' });
    expect(r.userErrors).toEqual([]);
    expect(r.policy.role).toBe(ROLE.etl);
    expect(r.policy.database).toBeNull();
    expect(r.statements).toContain(`ALTER ROLE ${q(ROLE.etl)} SET pgaudit.log = 'none'`);
    expect(await logged([{ database: DB.a, role: ROLE.etl, audited: false }, { database: DB.b, role: ROLE.etl, audited: false },
      { database: DB.a, role: ROLE.contractor, audited: true }])).toEqual([false, false, true]);
    const p = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, role: ROLE.etl })).data!.auditPolicy;
    expect(p.role).toBe(ROLE.etl);
    expect(p.settings.log).toEqual([]);
    expect(p.history.edges[0].node.action).toBe('ENABLED');
  });

  it('audits a role in one database only (role in database > role > database > service)', async () => {
    const t = await fresh();
    await enable(t, { database: DB.a, settings: { log: ['WRITE'] } });
    const r = await enable(t, { role: ROLE.contractor, database: DB.a, settings: { log: ['READ'] } });
    expect(r.userErrors).toEqual([]);
    expect(r.statements).toContain(`ALTER ROLE ${q(ROLE.contractor)} IN DATABASE ${q(DB.a)} SET pgaudit.log = 'read'`);
    expect(await logged([{ database: DB.a, role: ROLE.contractor, audited: true }, { database: DB.b, role: ROLE.contractor, audited: false },
      { database: DB.a, role: ROLE.etl, audited: false }])).toEqual([true, false, false]);
    // the role's settings apply at its next session; a configure and a disable read back at once
    const c = await configure(t, { role: ROLE.contractor, database: DB.a, settings: { logRows: true }, expectedVersion: 1 });
    expect(c.revision.changes).toEqual([{ setting: 'pgaudit.log_rows', from: 'off', to: 'on' }]);
    const d = await disable(t, { role: ROLE.contractor, database: DB.a });
    expect(d.userErrors).toEqual([]);
    expect(d.policy.settings.log).toEqual(['WRITE']);   // what the role inherits in that database: the database's
    expect(await logged([{ database: DB.a, role: ROLE.contractor, audited: false }])).toEqual([false]);
  });

  it('refuses an unknown role and a predefined one (ROLE_NOT_FOUND), changing nothing', async () => {
    const t = await fresh();
    for (const role of ['no_such_role', 'pg_monitor', 'x'.repeat(64)]) {
      const r = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { role, settings: { log: ['ALL'] } }));
      expect(r.userErrors.map((e: any) => [e.code, e.field])).toEqual([['ROLE_NOT_FOUND', ['input', 'role']]]);
    }
    const both = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { role: 'no_such_role', database: 'no_such_db' }));
    expect(both.userErrors.map((e: any) => e.code)).toEqual(['DATABASE_NOT_FOUND', 'ROLE_NOT_FOUND']);
  });

  it('refuses a role change without the entitlements, changing nothing', async () => {
    await resetServer(urls.pgaudit);
    const t = await createTenant(g, { serviceUrl: urls.pgaudit, proFeatures: false });
    const r = await unchanged(g, urls.pgaudit, t.serviceId, () => enable(t, { role: ROLE.etl, settings: { log: [] } }));
    expect(r.userErrors.map((e: any) => e.code)).toEqual(['PRO_FEATURES_REQUIRED']);
  });

  it('concurrent configures of one role scope: none lost, versions in order', async () => {
    const t = await fresh();
    await enable(t, { role: ROLE.etl, settings: { log: ['READ'] } });
    const levels = ['NOTICE', 'WARNING', 'INFO'];
    const results = await Promise.all(levels.map((logLevel) => configure(t, { role: ROLE.etl, settings: { logLevel } })));
    expect(results.every((r) => r.userErrors.length === 0)).toBe(true);
    expect(results.map((r) => r.revision.version).sort()).toEqual([2, 3, 4]);
    const p = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, role: ROLE.etl })).data!.auditPolicy;
    expect(p.version).toBe(4);
    const last = results.find((r) => r.revision.version === 4)!;
    expect(p.settings).toBeDefined();
    expect((await sql(urls.pgaudit, `SELECT setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
      AND setdatabase = 0`, [ROLE.etl]))[0]!.setconfig).toContain(`pgaudit.log_level=${last.revision.changes[0].to}`);
  });
});

it('the stable mutations still work without the new fields (service and database scope)', async () => {
  const t = await fresh();
  const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  const c = await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings: { logRows: true } } });
  expect(c.data!.configureAuditLogging.userErrors).toEqual([]);
  const d = await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId } });
  expect(d.data!.disableAuditLogging.userErrors).toEqual([]);
});

describe('the other paths on the new scopes', () => {
  it('a plan lapse disables a target-list policy on every database and a role scope, by actor system', async () => {
    const t = await fresh();
    await enable(t, { targetDatabases: [DB.a, DB.b], settings: { log: ['READ'] } });
    await enable(t, { role: ROLE.etl, settings: { log: ['ALL'] } });
    const jobs = await g.gateway.lapses.setProPlatform(t.organizationId, false);
    const summary = await g.gateway.lapses.work(jobs);
    expect(summary.disabled).toHaveLength(2);
    expect(summary.pending).toEqual([]);
    for (const db of [DB.a, DB.b]) expect(await show(urls.pgaudit, 'pgaudit.log', db)).toBe('none');
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%pgaudit.%'`)).toEqual([]);
    const revisions = await g.gateway.db.prisma.auditPolicyRevision.findMany({ where: { policy: { serviceId: t.serviceId }, actor: 'system' } });
    expect(revisions.map((r) => r.action)).toEqual(['DISABLED', 'DISABLED']);
    const service = (await g.gateway.db.prisma.auditPolicy.findFirstOrThrow({ where: { serviceId: t.serviceId, database: '', role: '' } }));
    expect(service.targetDatabases).toEqual([]);
    expect(await g.gateway.policies.verifyHistories(t.serviceId)).toEqual(expect.arrayContaining([expect.objectContaining({ intact: true })]));
  });

  it('drift on a role scope is shown, reconciled, and auditScopes marks the role scope managed', async () => {
    const t = await fresh();
    await enable(t, { role: ROLE.etl, settings: { log: [] } });
    await sql(urls.pgaudit, `ALTER ROLE ${q(ROLE.etl)} SET pgaudit.log = 'all'`);   // by hand, behind the gateway
    const DRIFT = `query($serviceId: ID!, $role: String) { auditPolicy(serviceId: $serviceId, role: $role) { version driftChecked drift { setting applied live } } }`;
    const drifted = (await g.exec(t.token, DRIFT, { serviceId: t.serviceId, role: ROLE.etl })).data!.auditPolicy;
    expect(drifted.drift).toEqual([{ setting: 'pgaudit.log', applied: 'none', live: 'all' }]);
    const SCOPES = `query($serviceId: ID!) { auditScopes(serviceId: $serviceId) { kind database role managed } }`;
    expect((await g.exec(t.token, SCOPES, { serviceId: t.serviceId })).data!.auditScopes)
      .toContainEqual({ kind: 'ROLE', database: null, role: ROLE.etl, managed: true });
    const RECONCILE = `mutation($input: ReconcileAuditPolicyInput!) { reconcileAuditPolicy(input: $input) { statements userErrors { code } } }`;
    const r = (await g.exec(t.token, RECONCILE, { input: { serviceId: t.serviceId, role: ROLE.etl, reason: 'put back' } })).data!.reconcileAuditPolicy;
    expect(r.userErrors).toEqual([]);
    expect(r.statements).toEqual([`ALTER ROLE ${q(ROLE.etl)} SET pgaudit.log = 'none'`]);
    expect((await g.exec(t.token, DRIFT, { serviceId: t.serviceId, role: ROLE.etl })).data!.auditPolicy.drift).toEqual([]);
  });

  it('a change racing a plan being switched off is refused once the switch commits, changing nothing', async () => {
    const t = await fresh();
    const blocker = new Client({ connectionString: urls.gatewayDb });
    await blocker.connect();
    try {
      const r = await unchanged(g, urls.pgaudit, t.serviceId, async () => {
        await blocker.query('BEGIN');
        await blocker.query('UPDATE organization SET pro_platform = false WHERE id = $1', [t.organizationId]);   // set-plan, not yet committed
        const pending = g.exec(t.token, enableQ, { input: { serviceId: t.serviceId, settings: { log: ['READ'] } } });
        await new Promise((res) => setTimeout(res, 500));   // the change passed its first check and waits on the plan rows
        await blocker.query('COMMIT');
        return (await pending).data!.enableAuditLogging;
      });
      expect(r.userErrors.map((e: any) => e.code)).toEqual(['PRO_PLATFORM_REQUIRED']);
    } finally {
      await blocker.end();
    }
  });

  it('drift of a target list is found in whichever database drifted, and reconcile puts back only that one', async () => {
    const t = await fresh();
    await enable(t, { targetDatabases: [DB.a, DB.b, DB.c], settings: { log: ['READ'] } });
    await sql(urls.pgaudit, `ALTER DATABASE ${q(DB.c)} SET pgaudit.log = 'all'`);   // by hand, in the last database only
    const DRIFT = `query($serviceId: ID!) { auditPolicy(serviceId: $serviceId) { driftChecked drift { setting applied live } } }`;
    expect((await g.exec(t.token, DRIFT, { serviceId: t.serviceId })).data!.auditPolicy.drift)
      .toEqual([{ setting: 'pgaudit.log', applied: 'read', live: 'all' }]);
    const RECONCILE = `mutation($input: ReconcileAuditPolicyInput!) { reconcileAuditPolicy(input: $input) { statements userErrors { code } } }`;
    const r = (await g.exec(t.token, RECONCILE, { input: { serviceId: t.serviceId } })).data!.reconcileAuditPolicy;
    expect(r.userErrors).toEqual([]);
    expect(r.statements).toEqual([`ALTER DATABASE ${q(DB.c)} SET pgaudit.log = 'read'`]);
    expect((await g.exec(t.token, DRIFT, { serviceId: t.serviceId })).data!.auditPolicy.drift).toEqual([]);
  });
});
