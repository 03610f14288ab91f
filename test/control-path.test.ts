/**
 * successful-*: enable, configure and disable through GraphQL on a real PostgreSQL 15 + pgaudit,
 * checked on the server itself (SHOW in new connections, pg_db_role_setting) and in the history.
 *
 * The tests walk one service's life (enable, configure, settings changed by hand, disable), but none
 * leans on another having run: each gets a service of its own on a reset server, with the earlier
 * steps of that life made for it first (freshService), so any one of them runs alone.
 */
import {
  CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, POLICY, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls,
} from './support/harness';

let g: TestGateway;

beforeAll(async () => {
  g = await startTestGateway();
});
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

/** A step of the service's life, made as setup (it throws, rather than asserts, when refused). */
type Step = (t: Tenant) => Promise<unknown>;
const applied = (query: string, field: string, input: Record<string, unknown>): Step => async (t) => {
  const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
  const p = r.data?.[field];
  if (!p || p.userErrors.length > 0) throw new Error(`setup: ${field} ${JSON.stringify(input)} failed: ${JSON.stringify(r)}`);
  return p;
};
const ENABLE_INPUT = { reason: 'SOC 2 evidence' };
const CONFIGURE_INPUT = { expectedVersion: 1, reason: 'everything but SET', settings: { log: ['ALL'], logExclude: ['MISC_SET'], logRows: true } };
const DB_ENABLE_INPUT = { database: 'sales db', settings: { log: ['READ', 'WRITE'], logParameter: true } };
const enabled = applied(ENABLE, 'enableAuditLogging', ENABLE_INPUT);
const configured = applied(CONFIGURE, 'configureAuditLogging', CONFIGURE_INPUT);
const readBack: Step = async (t) => {
  await setByHand();
  await policyAfterHandEdit(t);
  return applied(CONFIGURE, 'configureAuditLogging', { settings: { logParameter: false } })(t);
};
const disabled = applied(DISABLE, 'disableAuditLogging', { reason: 'decommission' });
const dbEnabled = applied(ENABLE, 'enableAuditLogging', DB_ENABLE_INPUT);

/** A new service on the server, reset to no pgaudit configuration, with `steps` made in order. */
async function freshService(...steps: Step[]): Promise<Tenant> {
  await resetServer(urls.pgaudit);
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  for (const step of steps) await step(t);
  return t;
}

/** pgaudit settings written by hand with ALTER SYSTEM, in odd spellings (one rejected by pgaudit: nothing set). */
async function setByHand(): Promise<void> {
  await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log = 'ALL, -MISC_SET, - role'`).catch(() => undefined); // rejected by pgaudit: nothing set
  await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log = ' read,WRITE , -misc'`);
  await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log_parameter = 'tr'`);
  await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log_catalog = 'of'`);
  await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log_level = 'NOTICE'`);
  await sql(urls.pgaudit, `SELECT pg_reload_conf()`);
}

/** The service's policy once the reload has made the hand-written settings visible. */
async function policyAfterHandEdit(t: Tenant): Promise<any> {
  let policy: any;
  for (let i = 0; i < 100; i++) {
    policy = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    if (policy.settings.logParameter) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return policy;
}

describe('service level', () => {
  it('successful-eligibility: all four checks pass on PG15 + pgaudit as avnadmin', async () => {
    const t = await freshService();
    const r = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.auditEligibility.eligible).toBe(true);
    expect(r.data!.auditEligibility.checks.map((c: any) => [c.requirement, c.satisfied])).toEqual([
      ['PRO_PLATFORM', true], ['PRO_FEATURES', true], ['POSTGRES_VERSION', true], ['AVNADMIN_ROLE', true]]);
    expect(r.data!.auditEligibility.checks[2].detail).toMatch(/^PostgreSQL 15\./);
  });

  it('successful-dry-run: returns the SQL and changes nothing', async () => {
    const t = await freshService();
    const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, dryRun: true } });
    const p = r.data!.enableAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.revision).toBeNull();
    expect(p.statements).toEqual(['CREATE EXTENSION IF NOT EXISTS pgaudit', `ALTER SYSTEM SET pgaudit.log = 'write,role,ddl'`,
      `ALTER SYSTEM SET pgaudit.log_catalog = 'off'`, `ALTER SYSTEM SET pgaudit.log_relation = 'on'`, 'SELECT pg_reload_conf()']);
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'`)).toHaveLength(0);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    expect((await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy).toBeNull();
  });

  it('successful-enable: predefined settings land on the server and in the history', async () => {
    const t = await freshService();
    const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, ...ENABLE_INPUT } });
    const p = r.data!.enableAuditLogging;
    expect(r.errors).toBeUndefined();
    expect(p.userErrors).toEqual([]);
    expect(p.policy).toMatchObject({ serviceId: t.serviceId, database: null, enabled: true, version: 1, settingsSource: 'SERVER' });
    expect(p.policy.settings).toMatchObject({ log: ['WRITE', 'ROLE', 'DDL'],
      logExclude: [], logCatalog: false, logRelation: true, logParameter: false, logParameterMaxSize: null });
    expect(p.revision).toMatchObject({ version: 1, action: 'ENABLED', reason: 'SOC 2 evidence' });
    expect(p.revision.actor).toMatch(/as avnadmin$/);
    expect(p.statements[0]).toBe('CREATE EXTENSION IF NOT EXISTS pgaudit');
    expect(p.revision.changes).toEqual(expect.arrayContaining([
      { setting: 'pgaudit.log_catalog', from: 'on', to: 'off' }, { setting: 'pgaudit.log_relation', from: 'off', to: 'on' }]));
    // A brand-new connection sees it: the change really took effect.
    const log = (await show(urls.pgaudit, 'pgaudit.log')).split(',').sort();
    expect(log).toEqual(['ddl', 'role', 'write']);
    expect(await show(urls.pgaudit, 'pgaudit.log_catalog')).toBe('off');
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'`)).toHaveLength(1);
  });

  it('successful-enable-again: same settings again changes nothing and adds no revision', async () => {
    const t = await freshService(enabled);
    const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId } });
    const p = r.data!.enableAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([]);
    expect(p.revision).toBeNull();
    expect(p.policy.version).toBe(1);
  });

  it('successful-configure: changes only the fields given, with exclusions', async () => {
    const t = await freshService(enabled);
    const r = await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, ...CONFIGURE_INPUT } });
    const p = r.data!.configureAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual([`ALTER SYSTEM SET pgaudit.log = 'all,-misc_set'`, `ALTER SYSTEM SET pgaudit.log_rows = 'on'`, 'SELECT pg_reload_conf()']);
    expect(p.policy.settings).toMatchObject({ log: ['ALL'], logExclude: ['MISC_SET'], logRows: true, logCatalog: false, logRelation: true });
    expect(p.revision).toMatchObject({ version: 2, action: 'CONFIGURED' });
    expect(p.revision.changes).toEqual([
      { setting: 'pgaudit.log', from: expect.any(String), to: 'all,-misc_set' }, { setting: 'pgaudit.log_rows', from: 'off', to: 'on' }]);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('all,-misc_set');
    expect(await show(urls.pgaudit, 'pgaudit.log_rows')).toBe('on');
    expect(await show(urls.pgaudit, 'pgaudit.log_relation')).toBe('on');
  });

  it('successful-read-back: settings written by hand in any spelling are shown correctly', async () => {
    const t = await freshService(enabled, configured);
    await setByHand();
    const policy = await policyAfterHandEdit(t);
    expect(policy.settingsSource).toBe('SERVER');
    expect(policy.settings).toMatchObject({ log: ['READ', 'WRITE'], logExclude: ['MISC'], logParameter: true, logCatalog: false, logLevel: 'NOTICE' });
    // configure starts from what the server holds, not from the gateway's last record
    const r = await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings: { logParameter: false } } });
    const p = r.data!.configureAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.revision.changes).toEqual([{ setting: 'pgaudit.log_parameter', from: 'on', to: 'off' }]);
    expect(p.policy.settings).toMatchObject({ log: ['READ', 'WRITE'], logExclude: ['MISC'], logLevel: 'NOTICE' });
  });

  it('successful-history: pages through every revision, newest first', async () => {
    const t = await freshService(enabled, configured, readBack);
    const first = await g.exec(t.token, POLICY, { serviceId: t.serviceId, first: 2 });
    const h1 = first.data!.auditPolicy.history;
    expect(h1.totalCount).toBe(3);
    expect(h1.edges.map((e: any) => e.node.version)).toEqual([3, 2]);
    expect(h1.pageInfo.hasNextPage).toBe(true);
    const second = await g.exec(t.token, POLICY, { serviceId: t.serviceId, first: 2, after: h1.pageInfo.endCursor });
    const h2 = second.data!.auditPolicy.history;
    expect(h2.edges.map((e: any) => [e.node.version, e.node.action])).toEqual([[1, 'ENABLED']]);
    expect(h2.edges[0].node.reason).toBe('SOC 2 evidence');
    expect(h2.pageInfo.hasNextPage).toBe(false);
  });

  it('successful-disable: RESETs every pgaudit setting, keeps the history', async () => {
    const t = await freshService(enabled, configured, readBack);
    const r = await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, reason: 'decommission' } });
    const p = r.data!.disableAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toContain('ALTER SYSTEM RESET pgaudit.log');
    expect(p.statements).not.toContain('ALTER SYSTEM RESET pgaudit.log_parameter_max_size'); // not on pgaudit 1.7
    expect(p.policy).toMatchObject({ enabled: false, version: 4 });
    expect(p.revision).toMatchObject({ action: 'DISABLED', version: 4 });
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    expect(await show(urls.pgaudit, 'pgaudit.log_catalog')).toBe('on');
    const files = await sql(urls.pgaudit, `SELECT name FROM pg_file_settings WHERE name LIKE 'pgaudit.%'`);
    expect(files).toEqual([]);
    const h = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.history;
    expect(h.totalCount).toBe(4);
  });
});

describe('database level', () => {
  beforeAll(async () => {
    await sql(urls.pgaudit, 'DROP DATABASE IF EXISTS "sales db"');
    await sql(urls.pgaudit, 'CREATE DATABASE "sales db"');
  });

  it('successful-enable-database: ALTER DATABASE with the given settings, pgaudit defaults for the rest', async () => {
    const t = await freshService();
    const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, ...DB_ENABLE_INPUT } });
    const p = r.data!.enableAuditLogging;
    expect(p.userErrors).toEqual([]);
    expect(p.policy).toMatchObject({ database: 'sales db', enabled: true, version: 1 });
    expect(p.statements).toContain(`ALTER DATABASE "sales db" SET pgaudit.log = 'read,write'`);
    expect(p.policy.settings).toMatchObject({ log: ['READ', 'WRITE'], logParameter: true, logCatalog: true, logRelation: false });
    expect(await show(urls.pgaudit, 'pgaudit.log', 'sales db')).toBe('read,write');
    expect(await show(urls.pgaudit, 'pgaudit.log_parameter', 'sales db')).toBe('on');
    expect(await show(urls.pgaudit, 'pgaudit.log', 'postgres')).toBe('none');   // other databases untouched
    const [row] = await sql(urls.pgaudit, `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'sales db'`);
    expect(row!.setconfig).toEqual(expect.arrayContaining(['pgaudit.log=read,write', 'pgaudit.log_parameter=on']));
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'`, [], 'sales db')).toHaveLength(1);
  });

  it('successful-configure-database and service policy are independent', async () => {
    const t = await freshService(enabled, disabled, dbEnabled);   // the service policy disabled, the database's enabled
    const r = await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, database: 'sales db', settings: { logRelation: true } } });
    expect(r.data!.configureAuditLogging.userErrors).toEqual([]);
    expect(r.data!.configureAuditLogging.statements).toEqual([`ALTER DATABASE "sales db" SET pgaudit.log_relation = 'on'`]);
    const service = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    expect(service.enabled).toBe(false);
    const db = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, database: 'sales db' })).data!.auditPolicy;
    expect(db).toMatchObject({ enabled: true, version: 2 });
  });

  it('successful-disable-database: RESET removes the database settings', async () => {
    const t = await freshService(dbEnabled);
    const r = await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, database: 'sales db' } });
    expect(r.data!.disableAuditLogging.userErrors).toEqual([]);
    expect(await show(urls.pgaudit, 'pgaudit.log', 'sales db')).toBe('none');
    const rows = await sql(urls.pgaudit, `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'sales db'`);
    expect(rows).toEqual([]);
  });
});

describe('a dry run\'s plannedChanges are the changes its revision then records', () => {
  const payload = `{ userErrors { code } statements plannedChanges { setting from to } revision { changes { setting from to } } }`;
  const mutation = (field: string, input: string) => `mutation($input: ${input}!) { ${field}(input: $input) ${payload} }`;
  const OPS = {
    enable: mutation('enableAuditLogging', 'EnableAuditLoggingInput'),
    configure: mutation('configureAuditLogging', 'ConfigureAuditLoggingInput'),
    disable: mutation('disableAuditLogging', 'DisableAuditLoggingInput'),
  };
  const bySetting = (list: { setting: string }[]) => [...list].sort((a, b) => a.setting.localeCompare(b.setting));
  beforeAll(async () => {
    await sql(urls.pgaudit, 'DROP DATABASE IF EXISTS "sales db"');
    await sql(urls.pgaudit, 'CREATE DATABASE "sales db"');
  });

  it.each([
    ['enable, service level', [], 'enable', ENABLE_INPUT],
    ['configure, service level', [enabled], 'configure', CONFIGURE_INPUT],
    ['disable, service level', [enabled, configured], 'disable', { reason: 'decommission' }],
    ['enable, a database', [], 'enable', DB_ENABLE_INPUT],
    ['disable, a database (what it inherits from the service level)', [enabled, dbEnabled], 'disable', { database: 'sales db' }],
  ] as const)('%s', async (_name, steps, op, input) => {
    const t = await freshService(...steps);
    const run = async (dryRun: boolean) => {
      const r = await g.exec(t.token, OPS[op], { input: { serviceId: t.serviceId, ...input, dryRun } });
      expect(r.errors).toBeUndefined();
      return Object.values(r.data!)[0] as any;
    };
    const preview = await run(true);
    expect(preview.userErrors).toEqual([]);
    expect(preview.revision).toBeNull();
    expect(preview.plannedChanges.length).toBeGreaterThan(0);
    const done = await run(false);
    expect(done.plannedChanges).toEqual([]);
    expect(bySetting(preview.plannedChanges)).toEqual(bySetting(done.revision.changes));
    expect(preview.statements).toEqual(done.statements);
  });
});
