/**
 * The inventory on the real PG15 + pgaudit server: `auditScopes` lists pgaudit settings set by hand at every
 * kind of scope (ALTER SYSTEM, ALTER DATABASE, ALTER ROLE, ALTER ROLE IN DATABASE) as unmanaged and a scope
 * enabled through the gateway as managed; `services` pages the caller's project only, with the status its
 * policies record, and its eligibility opens at most one connection per service per request.
 */
import { METRIC_PREFIX } from '../src/base/metrics';
import { createTenant, ENABLE, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

const SUFFIX = `${process.pid}_${Date.now().toString(36)}`;
const HAND_DB = `inv_hand_${SUFFIX}`;
const MANAGED_DB = `inv_managed_${SUFFIX}`;
const ROLE = `inv_role_${SUFFIX}`;

let g: TestGateway;
let a: Tenant;           // three services in one project, all on the pgaudit server
let other: Tenant;       // another project's service on the same server
let dead: Tenant;        // a service that does not answer
const names: string[] = [];
const ids: string[] = [];

const SCOPES = `query($serviceId: ID!) { auditScopes(serviceId: $serviceId) {
  kind database role values { setting value } settings { log logLevel logRows logClient } managed policyId } }`;
const SERVICES = `query($first: Int, $after: String) { services(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id name
    audit { enabled enabledScopes lastChange { at actor action database role version } }
    policies { id database role enabled version updatedAt updatedBy } } } } }`;

type Scope = { kind: string; database: string | null; role: string | null; values: { setting: string; value: string }[];
  settings: Record<string, unknown> | null; managed: boolean; policyId: string | null };

/** Connections the gateway has opened so far (its own counter, any service). */
async function opened(): Promise<number> {
  const metric = await g.gateway.registry.getSingleMetric(`${METRIC_PREFIX}target_connections_total`)!.get();
  return metric.values.find((v) => v.labels.outcome === 'opened')!.value;
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `CREATE DATABASE ${HAND_DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${MANAGED_DB}`);
  await sql(urls.pgaudit, `CREATE ROLE ${ROLE}`);
  g = await startTestGateway();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  const t = g.gateway.tenancy;
  // names chosen so that the (name, id) order is known: createTenant's is service-<pid>-...
  const second = await t.registerService(a.projectId, 'zz-inventory-2', urls.pgaudit);
  const third = await t.registerService(a.projectId, 'zz-inventory-3', urls.pgaudit);
  ids.push(a.serviceId, second.id, third.id);
  names.push((await t.serviceById(a.serviceId))!.name, 'zz-inventory-2', 'zz-inventory-3');
  other = await createTenant(g, { serviceUrl: urls.pgaudit });
  dead = await createTenant(g, { serviceUrl: 'postgres://avnadmin:s3cret@127.0.0.1:1/postgres' });
});

afterAll(async () => {
  await g?.close();
  await sql(urls.pgaudit, `ALTER ROLE ${ROLE} RESET ALL`).catch(() => undefined);
  await sql(urls.pgaudit, `ALTER ROLE ${ROLE} IN DATABASE ${HAND_DB} RESET ALL`).catch(() => undefined);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${HAND_DB} WITH (FORCE)`);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${MANAGED_DB} WITH (FORCE)`);
  await sql(urls.pgaudit, `DROP ROLE IF EXISTS ${ROLE}`);
  await resetServer(urls.pgaudit);
});

describe('auditScopes', () => {
  it('lists settings made by hand at every kind of scope, unmanaged, with their raw values and effective settings', async () => {
    await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log_rows = 'on'`);
    await sql(urls.pgaudit, `SELECT pg_reload_conf()`);
    await waitFor(async () => (await show(urls.pgaudit, 'pgaudit.log_rows')) === 'on', 'the reload');
    await sql(urls.pgaudit, `ALTER DATABASE ${HAND_DB} SET pgaudit.log = 'write'`);
    await sql(urls.pgaudit, `ALTER ROLE ${ROLE} SET pgaudit.log_level = 'notice'`);
    await sql(urls.pgaudit, `ALTER ROLE ${ROLE} SET pgaudit.log_client = 'on'`);
    await sql(urls.pgaudit, `ALTER ROLE ${ROLE} IN DATABASE ${HAND_DB} SET pgaudit.log = 'read, ddl'`);

    const r = await g.exec<{ auditScopes: Scope[] }>(a.token, SCOPES, { serviceId: a.serviceId });
    expect(r.errors).toBeUndefined();
    const scopes = r.data!.auditScopes;
    const find = (kind: string, database: string | null, role: string | null) =>
      scopes.find((s) => s.kind === kind && s.database === database && s.role === role);

    expect(scopes[0]).toEqual({ kind: 'SERVICE', database: null, role: null, values: [{ setting: 'pgaudit.log_rows', value: 'on' }],
      settings: { log: [], logLevel: 'LOG', logRows: true, logClient: false }, managed: false, policyId: null });
    expect(find('DATABASE', HAND_DB, null)).toEqual({ kind: 'DATABASE', database: HAND_DB, role: null,
      values: [{ setting: 'pgaudit.log', value: 'write' }],
      settings: { log: ['WRITE'], logLevel: 'LOG', logRows: true, logClient: false }, managed: false, policyId: null });
    expect(find('ROLE', null, ROLE)).toEqual({ kind: 'ROLE', database: null, role: ROLE,
      values: [{ setting: 'pgaudit.log_client', value: 'on' }, { setting: 'pgaudit.log_level', value: 'notice' }],
      settings: { log: [], logLevel: 'NOTICE', logRows: true, logClient: true }, managed: false, policyId: null });
    expect(find('ROLE_IN_DATABASE', HAND_DB, ROLE)).toEqual({ kind: 'ROLE_IN_DATABASE', database: HAND_DB, role: ROLE,
      values: [{ setting: 'pgaudit.log', value: 'read, ddl' }],
      settings: { log: ['READ', 'DDL'], logLevel: 'NOTICE', logRows: true, logClient: true }, managed: false, policyId: null });
    // the order: the service, then databases, roles, roles in databases
    const kinds = scopes.map((s) => s.kind);
    expect(kinds.indexOf('DATABASE')).toBeLessThan(kinds.indexOf('ROLE'));
    expect(kinds.lastIndexOf('ROLE')).toBeLessThan(kinds.indexOf('ROLE_IN_DATABASE'));
  });

  it('a scope enabled through the gateway is managed, with its policy id; a hand-set one stays unmanaged', async () => {
    const e = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: MANAGED_DB, settings: { log: ['DDL'] }, reason: 'inventory' } });
    expect(e.data!.enableAuditLogging.userErrors).toEqual([]);
    const policyId = e.data!.enableAuditLogging.policy.id;

    const r = await g.exec<{ auditScopes: Scope[] }>(a.token, SCOPES, { serviceId: a.serviceId });
    expect(r.errors).toBeUndefined();
    const managed = r.data!.auditScopes.find((s) => s.database === MANAGED_DB && s.role === null)!;
    expect(managed).toMatchObject({ kind: 'DATABASE', managed: true, policyId, settings: { log: ['DDL'] } });
    expect(managed.values).toContainEqual({ setting: 'pgaudit.log', value: 'ddl' });
    expect(r.data!.auditScopes.filter((s) => s.managed)).toHaveLength(1);
    expect(r.data!.auditScopes.find((s) => s.database === HAND_DB && s.role === null)!.managed).toBe(false);
  });

  it('another tenant\'s service and an unknown one: NOT_FOUND, as auditPolicy', async () => {
    for (const serviceId of [other.serviceId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const r = await g.exec(a.token, SCOPES, { serviceId });
      expect(r.data).toBeNull();
      expect(r.errors![0]!.extensions!.code).toBe('NOT_FOUND');
      const p = await g.exec(a.token, `query($s: ID!) { auditPolicy(serviceId: $s) { id } }`, { s: serviceId });
      expect(p.errors![0]!.extensions!.code).toBe('NOT_FOUND');
      expect(r.errors![0]!.message).toBe(p.errors![0]!.message);
    }
  });

  it('an unreachable server: SERVICE_UNAVAILABLE, without its URL', async () => {
    const r = await g.exec(dead.token, SCOPES, { serviceId: dead.serviceId });
    expect(r.data).toBeNull();
    expect(r.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
    expect(r.errors![0]!.message).toMatch(/could not be reached/);
    expect(JSON.stringify(r)).not.toMatch(/s3cret|127\.0\.0\.1/);
  });
});

describe('services', () => {
  it('pages the project\'s services by name with totalCount; each with the status and policies its rows record', async () => {
    const first = await g.exec(a.token, SERVICES, { first: 2 });
    expect(first.errors).toBeUndefined();
    const page1 = first.data!.services;
    expect(page1.totalCount).toBe(3);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(page1.edges.map((e: any) => e.node.name)).toEqual(names.slice(0, 2));
    expect(page1.pageInfo.endCursor).toBe(page1.edges[1].cursor);

    const second = await g.exec(a.token, SERVICES, { first: 2, after: page1.pageInfo.endCursor });
    expect(second.errors).toBeUndefined();
    const page2 = second.data!.services;
    expect(page2).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    expect(page2.edges.map((e: any) => e.node.id)).toEqual([ids[2]]);

    const [withPolicy] = page1.edges.filter((e: any) => e.node.id === a.serviceId).map((e: any) => e.node);
    expect(withPolicy.audit).toMatchObject({ enabled: true, enabledScopes: 1,
      lastChange: { action: 'ENABLED', database: MANAGED_DB, role: null, version: 1, actor: expect.stringContaining('avnadmin') } });
    expect(withPolicy.policies).toEqual([{ id: expect.any(String), database: MANAGED_DB, role: null, enabled: true, version: 1,
      updatedAt: withPolicy.audit.lastChange.at, updatedBy: withPolicy.audit.lastChange.actor }]);
    const bare = page1.edges.find((e: any) => e.node.id === ids[1]).node;
    expect(bare).toMatchObject({ audit: { enabled: false, enabledScopes: 0, lastChange: null }, policies: [] });
  });

  it('no connection to any server unless eligibility is asked for', async () => {
    const before = await opened();
    const r = await g.exec(a.token, SERVICES, { first: 3 });
    expect(r.errors).toBeUndefined();
    expect(await opened()).toBe(before);
  });

  it('eligibility on a page of services opens at most one connection per service, however often it is asked', async () => {
    const before = await opened();
    const r = await g.exec(a.token, `query($s: ID!) {
      services(first: 3) { edges { node { id a: eligibility { eligible checks { requirement satisfied } } b: eligibility { eligible } } } }
      auditEligibility(serviceId: $s) { eligible } }`, { s: a.serviceId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.services.edges).toHaveLength(3);
    for (const e of r.data!.services.edges) expect(e.node.a.eligible && e.node.b.eligible).toBe(true);
    expect(r.data!.auditEligibility.eligible).toBe(true);
    expect(await opened() - before).toBe(3);
  });

  it('another tenant\'s services never appear', async () => {
    const mine = await g.exec(a.token, SERVICES, { first: 100 });
    const ids_ = mine.data!.services.edges.map((e: any) => e.node.id);
    expect(ids_.sort()).toEqual([...ids].sort());
    const theirs = await g.exec(other.token, SERVICES, { first: 100 });
    expect(theirs.data!.services).toMatchObject({ totalCount: 1, edges: [{ node: { id: other.serviceId } }] });
    // a cursor of another project's service gives nothing of either project
    const foreign = await g.exec(a.token, SERVICES, { first: 2, after: theirs.data!.services.edges[0].cursor });
    expect(foreign.data!.services.edges).toEqual([]);
  });

  it('first: 101 (and 0) refused, naming the argument; a tampered cursor refused', async () => {
    for (const first of [101, 0]) {
      const r = await g.exec(a.token, SERVICES, { first });
      expect(r.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.validationErrors).toEqual([expect.objectContaining({ property: 'first' })]);
    }
    const t = await g.exec(a.token, SERVICES, { first: 2, after: 'bogus' });
    expect(t.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it('each policy\'s drift on the list: in sync, then a hand change shows; eligibility and drift share one connection per service', async () => {
    const DRIFT = `{ services(first: 3) { edges { node { id eligibility { eligible } policies { database drift { setting applied live } driftChecked } } } } }`;
    const policiesOf = (r: any) => r.data.services.edges.find((e: any) => e.node.id === a.serviceId).node.policies;
    const before = await opened();
    const inSync = await g.exec(a.token, DRIFT);
    expect(inSync.errors).toBeUndefined();
    expect(policiesOf(inSync)).toEqual([{ database: MANAGED_DB, drift: [], driftChecked: true }]);
    expect(await opened() - before).toBe(3);
    await sql(urls.pgaudit, `ALTER DATABASE ${MANAGED_DB} SET pgaudit.log = 'write'`);
    try {
      const drifted = await g.exec(a.token, DRIFT);
      expect(drifted.errors).toBeUndefined();
      expect(policiesOf(drifted)).toEqual([{ database: MANAGED_DB, drift: [{ setting: 'pgaudit.log', applied: 'ddl', live: 'write' }], driftChecked: true }]);
    } finally {
      await sql(urls.pgaudit, `ALTER DATABASE ${MANAGED_DB} SET pgaudit.log = 'ddl'`);
    }
  });
});

it('one service that cannot be read (here: TLS required, the server has none) fails its checks, not the page', async () => {
  const strict = await startTestGateway({ TARGET_SSLMODE: 'require' });
  try {
    const r = await strict.exec(a.token, `{ services(first: 3) { edges { node { name eligibility { eligible checks { requirement satisfied } } } } } }`);
    expect(r.errors).toBeUndefined();
    const nodes = r.data!.services.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      expect(n.eligibility.eligible).toBe(false);
      expect(n.eligibility.checks.find((c: any) => c.requirement === 'POSTGRES_VERSION').satisfied).toBe(false);
    }
    // alone, the same service still answers with the TLS error's code (auditEligibility is unchanged)
    const alone = await strict.exec(a.token, `query($id: ID!) { auditEligibility(serviceId: $id) { eligible } }`, { id: a.serviceId });
    expect(alone.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
  } finally {
    await strict.close();
  }
});
