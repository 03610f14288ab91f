/**
 * failing-*: every refusal of the control path, through GraphQL on real servers. Each refusal must
 * return exactly the expected userErrors (code + field), no policy and no revision, AND leave both
 * the server (pgaudit settings, per-database settings, extension) and the gateway's history exactly
 * as they were. The dry-run of each refused request is refused the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import {
  CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls,
} from './support/harness';
import { historyState, serverState, unchanged as unchangedOn } from './support/unchanged';

type Operation = 'enable' | 'configure' | 'disable';
type Payload = { policy: unknown; revision: unknown; statements: string[]; userErrors: { code: string; message: string; field: string[] | null }[] };
/** An expected userError: a code, with the field path where there is one. */
type Expected = [code: string, field?: string[]];

const MUTATION: Record<Operation, [string, string]> = {
  enable: [ENABLE, 'enableAuditLogging'],
  configure: [CONFIGURE, 'configureAuditLogging'],
  disable: [DISABLE, 'disableAuditLogging'],
};
const settingsField = (name: string) => ['input', 'settings', name];

let g: TestGateway;
let pro: Tenant;          // entitled, on PG15 + pgaudit, acting as avnadmin
let plain: Tenant;        // entitled, on PG15 without pgaudit
let pg10: Tenant;         // entitled, on PostgreSQL 10

beforeAll(async () => {
  await Promise.all([resetServer(urls.pgaudit), resetServer(urls.plain), resetServer(urls.pg10)]);
  g = await startTestGateway();
  pro = await createTenant(g, { serviceUrl: urls.pgaudit });
  plain = await createTenant(g, { serviceUrl: urls.plain });
  pg10 = await createTenant(g, { serviceUrl: urls.pg10 });
});
afterAll(async () => {
  await g.close();
  await Promise.all([resetServer(urls.pgaudit), resetServer(urls.plain), resetServer(urls.pg10)]);
});

async function mutate(t: Tenant, op: Operation, input: Record<string, unknown>): Promise<Payload> {
  const [query, field] = MUTATION[op];
  const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
  expect(r.errors).toBeUndefined();
  return r.data![field];
}

/** Exactly these userErrors (in this order), nothing applied, nothing returned. */
function expectRefused(p: Payload, expected: Expected[]): void {
  expect(p.userErrors.map((e) => [e.code, e.field])).toEqual(expected.map(([code, field]) => [code, field ?? null]));
  for (const e of p.userErrors) {
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.message.length).toBeLessThan(500);   // bounded: never echoes a huge input back
  }
  expect(p.revision).toBeNull();
  expect(p.policy).toBeNull();
  expect(p.statements).toEqual([]);
}

/** Runs `fn` and checks that neither the server nor the gateway's history of the tenant's service changed. */
const unchanged = <T>(url: string, t: Tenant, fn: () => Promise<T>): Promise<T> => unchangedOn(g, url, t.serviceId, fn);

/**
 * The request is refused with `expected`, its dry-run is refused the same way, and nothing changed.
 * Returns the (non-dry-run) payload for further checks.
 */
async function expectRefusal(t: Tenant, url: string, op: Operation, input: Record<string, unknown>, expected: Expected[]): Promise<Payload> {
  return unchanged(url, t, async () => {
    const real = await mutate(t, op, input);
    expectRefused(real, expected);
    const dry = await mutate(t, op, { ...input, dryRun: true });
    expectRefused(dry, expected);
    expect(dry.userErrors).toEqual(real.userErrors);
    return real;
  });
}

async function eligibility(t: Tenant): Promise<{ eligible: boolean; checks: { requirement: string; satisfied: boolean; detail: string }[] }> {
  const r = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
  expect(r.errors).toBeUndefined();
  return r.data!.auditEligibility;
}
const satisfied = (e: Awaited<ReturnType<typeof eligibility>>) => e.checks.map((c) => [c.requirement, c.satisfied]);

describe('entitlements', () => {
  it('failing-pro-platform: an organization without Pro Platform is refused', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit, proPlatform: false });
    await expectRefusal(t, urls.pgaudit, 'enable', {}, [['PRO_PLATFORM_REQUIRED']]);
    const e = await eligibility(t);
    expect(e.eligible).toBe(false);
    expect(satisfied(e)).toEqual([['PRO_PLATFORM', false], ['PRO_FEATURES', true], ['POSTGRES_VERSION', true], ['AVNADMIN_ROLE', true]]);
  });

  it('failing-pro-features: a project without Pro Features is refused', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit, proFeatures: false });
    await expectRefusal(t, urls.pgaudit, 'enable', {}, [['PRO_FEATURES_REQUIRED']]);
    expect(satisfied(await eligibility(t))).toEqual([['PRO_PLATFORM', true], ['PRO_FEATURES', false], ['POSTGRES_VERSION', true], ['AVNADMIN_ROLE', true]]);
  });

  it('failing-pro-both: neither Pro Platform nor Pro Features returns both codes', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit, proPlatform: false, proFeatures: false });
    for (const [op, input] of [['enable', {}], ['configure', { settings: { logRows: true } }], ['disable', {}]] as const) {
      await expectRefusal(t, urls.pgaudit, op, input, [['PRO_PLATFORM_REQUIRED'], ['PRO_FEATURES_REQUIRED']]);
    }
  });

  it('failing-postgres-version: PostgreSQL 10 is refused, and eligibility says why', async () => {
    for (const [op, input] of [['enable', {}], ['configure', { settings: { logRows: true } }], ['disable', {}]] as const) {
      await expectRefusal(pg10, urls.pg10, op, input, [['POSTGRES_VERSION_UNSUPPORTED']]);
    }
    const e = await eligibility(pg10);
    expect(e.eligible).toBe(false);
    const version = e.checks.find((c) => c.requirement === 'POSTGRES_VERSION')!;
    expect(version.satisfied).toBe(false);
    expect(version.detail).toMatch(/^PostgreSQL 10\.\d+ /);
    expect(satisfied(e)).toEqual([['PRO_PLATFORM', true], ['PRO_FEATURES', true], ['POSTGRES_VERSION', false], ['AVNADMIN_ROLE', true]]);
  });

  it('failing-avnadmin-role: a token acting as another database role is refused', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit, role: 'reporting' });
    for (const [op, input] of [['enable', {}], ['configure', { settings: { logRows: true } }], ['disable', {}]] as const) {
      await expectRefusal(t, urls.pgaudit, op, input, [['AVNADMIN_REQUIRED']]);
    }
    const role = (await eligibility(t)).checks.find((c) => c.requirement === 'AVNADMIN_ROLE')!;
    expect(role).toEqual({ requirement: 'AVNADMIN_ROLE', satisfied: false, detail: expect.stringContaining('"reporting"') });
  });

  it('failing-every-entitlement: all failing checks are reported together', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pg10, proPlatform: false, proFeatures: false, role: 'reporting' });
    await expectRefusal(t, urls.pg10, 'enable', {}, [
      ['PRO_PLATFORM_REQUIRED'], ['PRO_FEATURES_REQUIRED'], ['POSTGRES_VERSION_UNSUPPORTED'], ['AVNADMIN_REQUIRED']]);
  });
});

/** A server of its own (PG15 + pgaudit) where avnadmin exists but is NOT a superuser: the shared clusters must keep theirs. */
describe('avnadmin not a superuser on the service', () => {
  let cluster: PostgresCluster;
  let asSuperuser: Tenant;   // the service URL connects as the cluster's superuser `postgres`
  let asAvnadmin: Tenant;    // the service URL connects as the non-superuser avnadmin itself

  const baseDir = clusterBaseDir(path.resolve(__dirname, '../.local/test-clusters', `refusals-${process.pid}`), `refusals-${process.pid}`);

  beforeAll(async () => {
    cluster = await PostgresCluster.start({ name: 'avnadmin-not-superuser', baseDir, binDir: debianPgBinDir(15),
      superuser: 'postgres', preloadPgaudit: true, fresh: true });
    await sql(cluster.url(), 'CREATE ROLE avnadmin LOGIN NOSUPERUSER');
    asSuperuser = await createTenant(g, { serviceUrl: cluster.url() });
    asAvnadmin = await createTenant(g, { serviceUrl: cluster.url().replace('postgres://postgres@', 'postgres://avnadmin@') });
  });
  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(baseDir, { recursive: true, force: true });
  });

  it('failing-avnadmin-not-superuser: refused with AVNADMIN_REQUIRED, eligibility says why', async () => {
    for (const t of [asSuperuser, asAvnadmin]) {
      for (const [op, input] of [['enable', {}], ['configure', { settings: { logRows: true } }], ['disable', {}]] as const) {
        await expectRefusal(t, cluster.url(), op, input, [['AVNADMIN_REQUIRED']]);
      }
      const e = await eligibility(t);
      expect(e.eligible).toBe(false);
      expect(e.checks.find((c) => c.requirement === 'AVNADMIN_ROLE')).toEqual(
        { requirement: 'AVNADMIN_ROLE', satisfied: false, detail: 'avnadmin is not a superuser on the service' });
    }
    expect(await sql(cluster.url(), `SELECT rolsuper FROM pg_roles WHERE rolname = 'avnadmin'`)).toEqual([{ rolsuper: false }]);
  });
});

describe('pgaudit not loaded', () => {
  it('failing-pgaudit-unavailable: enable, configure and disable on PG15 without pgaudit', async () => {
    await expectRefusal(plain, urls.plain, 'enable', {}, [['PGAUDIT_UNAVAILABLE']]);
    await expectRefusal(plain, urls.plain, 'enable', { database: 'postgres', settings: { log: ['DDL'] } }, [['PGAUDIT_UNAVAILABLE']]);
    await expectRefusal(plain, urls.plain, 'configure', { settings: { log: ['ALL'] } }, [['PGAUDIT_UNAVAILABLE']]);
    await expectRefusal(plain, urls.plain, 'disable', {}, [['PGAUDIT_UNAVAILABLE']]);
    expect(await sql(urls.plain, `SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'`)).toHaveLength(0);
  });
});

describe('before any enable', () => {
  it('failing-not-enabled: configure and disable of a service never enabled', async () => {
    await expectRefusal(pro, urls.pgaudit, 'configure', { settings: { logRows: true } }, [['NOT_ENABLED']]);
    await expectRefusal(pro, urls.pgaudit, 'disable', {}, [['NOT_ENABLED']]);
    await expectRefusal(pro, urls.pgaudit, 'configure', { database: 'postgres', settings: { logRows: true } }, [['NOT_ENABLED']]);
    await expectRefusal(pro, urls.pgaudit, 'disable', { database: 'postgres' }, [['NOT_ENABLED']]);
  });

  it('failing-version-conflict-unborn: expectedVersion other than 0 on a policy that does not exist yet', async () => {
    await expectRefusal(pro, urls.pgaudit, 'configure', { expectedVersion: 1, settings: { logRows: true } }, [['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
  });
});

describe('settings', () => {
  it('failing-setting-unsupported: logParameterMaxSize on pgaudit 1.7 leaves no placeholder on the server', async () => {
    for (const value of [0, 1024]) {
      await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { logParameterMaxSize: value } },
        [['SETTING_UNSUPPORTED', settingsField('logParameterMaxSize')]]);
      await expectRefusal(pro, urls.pgaudit, 'enable', { database: 'postgres', settings: { logParameterMaxSize: value } },
        [['SETTING_UNSUPPORTED', settingsField('logParameterMaxSize')]]);
    }
    expect(await sql(urls.pgaudit, `SELECT name FROM pg_file_settings WHERE name = 'pgaudit.log_parameter_max_size'`)).toEqual([]);
    const [row] = await sql(urls.pgaudit, `SELECT current_setting('pgaudit.log_parameter_max_size', true) AS v`);
    expect(row!.v).toBeNull();
    const [inDb] = await sql(urls.pgaudit, `SELECT current_setting('pgaudit.log_parameter_max_size', true) AS v`, [], 'postgres');
    expect(inDb!.v).toBeNull();
  });

  it('failing-invalid-setting: a class both included and excluded', async () => {
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { log: ['READ', 'WRITE'], logExclude: ['WRITE'] } },
      [['INVALID_SETTING', settingsField('logExclude')]]);
  });

  it('failing-invalid-setting: exclusions without any included class', async () => {
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { logExclude: ['MISC'] } }, [['INVALID_SETTING', settingsField('logExclude')]]);
  });

  it('failing-invalid-setting: a role that does not exist', async () => {
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: 'no_such_auditor' } }, [['INVALID_SETTING', settingsField('role')]]);
  });

  it('failing-invalid-setting: a role name over 63 bytes (64 ASCII, or 32 two-byte characters)', async () => {
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: 'a'.repeat(64) } }, [['INVALID_SETTING', settingsField('role')]]);
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: 'é'.repeat(32) } }, [['INVALID_SETTING', settingsField('role')]]);
  });

  it('failing-invalid-setting: a negative logParameterMaxSize', async () => {
    // INVALID (negative) and, on pgaudit 1.7, also SETTING_UNSUPPORTED: both name the field.
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { logParameterMaxSize: -1 } },
      [['INVALID_SETTING', settingsField('logParameterMaxSize')], ['SETTING_UNSUPPORTED', settingsField('logParameterMaxSize')]]);
  });

  it('failing-invalid-setting: every problem of one request is reported', async () => {
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { log: ['READ'], logExclude: ['READ'], role: 'r'.repeat(100), logParameterMaxSize: 5 } }, [
      ['INVALID_SETTING', settingsField('logExclude')], ['SETTING_UNSUPPORTED', settingsField('logParameterMaxSize')], ['INVALID_SETTING', settingsField('role')]]);
  });

  it('failing-role-injection: SQL in role is just a name that does not exist', async () => {
    const rolesBefore = await sql(urls.pgaudit, `SELECT rolname, rolsuper FROM pg_roles ORDER BY rolname`);
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: `x'; ALTER SYSTEM SET pgaudit.log = 'all'; --` } },
      [['INVALID_SETTING', settingsField('role')]]);
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: `"; DROP ROLE avnadmin; --` } }, [['INVALID_SETTING', settingsField('role')]]);
    await expectRefusal(pro, urls.pgaudit, 'enable', { settings: { role: `x'; ALTER SYSTEM SET pgaudit.log = 'all'; SELECT pg_reload_conf(); --` } },
      [['INVALID_SETTING', settingsField('role')]]);   // over 63 bytes as well
    expect(await sql(urls.pgaudit, `SELECT rolname, rolsuper FROM pg_roles ORDER BY rolname`)).toEqual(rolesBefore);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
  });
});

describe('databases', () => {
  const missing = [
    'no_such_database',
    'd'.repeat(1000),
    'x"; DROP DATABASE postgres; --',
    `postgres' OR '1'='1`,
    // a template takes connections, but what is done to it is copied into every new database (found by the hostile suite)
    'template1',
  ];

  it.each(missing.map((name) => [name.length > 60 ? `${name.slice(0, 20)}… (${name.length} characters)` : name, name]))(
    'failing-database-not-found: %s', async (_label, database) => {
      await expectRefusal(pro, urls.pgaudit, 'enable', { database }, [['DATABASE_NOT_FOUND', ['input', 'database']]]);
      await expectRefusal(pro, urls.pgaudit, 'configure', { database, settings: { logRows: true } }, [['DATABASE_NOT_FOUND', ['input', 'database']]]);
      await expectRefusal(pro, urls.pgaudit, 'disable', { database }, [['DATABASE_NOT_FOUND', ['input', 'database']]]);
    });

  it('the postgres database and the rest of the server are still there', async () => {
    expect(await sql(urls.pgaudit, `SELECT datname FROM pg_database WHERE datname = 'postgres'`)).toEqual([{ datname: 'postgres' }]);
    expect(await sql(urls.pgaudit, `SELECT rolsuper FROM pg_roles WHERE rolname = 'avnadmin'`)).toEqual([{ rolsuper: true }]);
    expect(await sql(urls.pgaudit, `SELECT 1 AS one`, [], 'postgres')).toEqual([{ one: 1 }]);
  });
});

describe('once enabled', () => {
  let enabledState: unknown;

  beforeAll(async () => {
    const p = await mutate(pro, 'enable', { reason: 'baseline' });
    expect(p.userErrors).toEqual([]);
    expect(p.revision).toMatchObject({ version: 1 });
    enabledState = await serverState(urls.pgaudit);
  });

  it('failing-version-conflict: configure with a stale or future expectedVersion keeps the enabled settings exactly', async () => {
    for (const expectedVersion of [0, 7]) {
      await expectRefusal(pro, urls.pgaudit, 'configure', { expectedVersion, settings: { log: ['ALL'], logRows: true } },
        [['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
      await expectRefusal(pro, urls.pgaudit, 'disable', { expectedVersion }, [['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
    }
    expect(await serverState(urls.pgaudit)).toEqual(enabledState);
    expect((await show(urls.pgaudit, 'pgaudit.log')).split(',').sort()).toEqual(['ddl', 'role', 'write']);
    expect(await show(urls.pgaudit, 'pgaudit.log_rows')).toBe('off');
    const { revisions } = await historyState(g, pro.serviceId) as { revisions: { version: number }[] };
    expect(revisions.map((r) => r.version)).toEqual([1]);
  });

  it('failing-setting-unsupported on configure: logParameterMaxSize is refused on an enabled service too', async () => {
    await expectRefusal(pro, urls.pgaudit, 'configure', { expectedVersion: 1, settings: { logParameterMaxSize: 100, logRows: true } },
      [['SETTING_UNSUPPORTED', settingsField('logParameterMaxSize')]]);
    const [row] = await sql(urls.pgaudit, `SELECT current_setting('pgaudit.log_parameter_max_size', true) AS v`);
    expect(row!.v).toBeNull();
  });

  it('failing-invalid-setting on configure: an exclusion of a class that is not included', async () => {
    await expectRefusal(pro, urls.pgaudit, 'configure', { settings: { log: ['DDL'], logExclude: ['DDL'] } }, [['INVALID_SETTING', settingsField('logExclude')]]);
    await expectRefusal(pro, urls.pgaudit, 'configure', { settings: { log: [], logExclude: ['READ'] } }, [['INVALID_SETTING', settingsField('logExclude')]]);
    expect(await serverState(urls.pgaudit)).toEqual(enabledState);
  });
});

describe('malformed input', () => {
  const expectBadUserInput = async (t: Tenant, query: string, input: Record<string, unknown>, property: string) => {
    const r = await unchanged(urls.pgaudit, t, () => g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } }));
    expect(r.data ?? null).toBeNull();
    expect(r.errors).toHaveLength(1);
    const [err] = r.errors!;
    expect(err!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(err!.extensions).not.toHaveProperty('stacktrace');
    expect(err!.extensions).not.toHaveProperty('exception');
    expect(JSON.stringify(r)).not.toMatch(/\bat .+\.(ts|js):\d+/);   // no stack frames anywhere
    expect((err!.extensions!.validationErrors as { property: string }[]).map((v) => v.property)).toEqual([property]);
  };

  it('failing-reason-too-long: over 2000 characters is BAD_USER_INPUT, nothing changes', async () => {
    await expectBadUserInput(pro, CONFIGURE, { settings: { logRows: true }, reason: 'r'.repeat(2001) }, 'reason');
    await expectBadUserInput(pro, ENABLE, { database: 'postgres', reason: 'r'.repeat(5000) }, 'reason');
    await expectBadUserInput(pro, DISABLE, { reason: 'r'.repeat(2001) }, 'reason');
  });

  it('failing-idempotency-key-too-long: over 200 characters (or empty) is BAD_USER_INPUT, nothing changes', async () => {
    await expectBadUserInput(pro, CONFIGURE, { settings: { logRows: true }, idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey');
    await expectBadUserInput(pro, ENABLE, { database: 'postgres', idempotencyKey: 'k'.repeat(201) }, 'idempotencyKey');
    await expectBadUserInput(pro, DISABLE, { idempotencyKey: '' }, 'idempotencyKey');
  });
});
