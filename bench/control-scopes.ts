/**
 * The control surface at width (issue 11): a change of a service-level policy whose targetDatabases lists 10
 * databases (one ALTER DATABASE per database and setting, in one target transaction, each read back), and a page
 * of `services(first: 50)` over 50 services with each one's live eligibility, audit status and policies (one
 * gateway query for the page, one connection per service). Both beside the same run's configure of one scope
 * (one setting, one database), the baseline. Calls are sequential.
 */
import { Client } from 'pg';
import type { BenchEnvironment } from './environment';
import type { Figure } from './report';
import { timeCalls } from './stats';

export const TARGET_DATABASES = 10;
export const SERVICES_PAGE = 50;

const CONFIGURE = 'mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { userErrors { code message } policy { version } } }';
const ENABLE = 'mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { userErrors { code message } } }';
const DISABLE = 'mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { userErrors { code message } } }';
const SERVICES = `query($first: Int!) { services(first: $first) { totalCount
  edges { node { id name eligibility { eligible } audit { enabled enabledScopes lastChange { at action } } policies { database role enabled version } } } } }`;

async function gql(url: string, token: string, query: string, variables: object): Promise<Record<string, any>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }) });
  const body = await res.json() as { data?: Record<string, any>; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body).slice(0, 500)}`);
  const payload = Object.values(body.data)[0];
  if (payload?.userErrors?.length) throw new Error(`refused: ${JSON.stringify(payload.userErrors).slice(0, 500)}`);
  return body.data;
}

export async function measureControlScopes(env: BenchEnvironment, calls: number): Promise<Figure[]> {
  const url = await env.gatewayUrl();
  const { token, targetServiceId: serviceId } = env.tenant;
  const admin = new Client({ connectionString: env.target.url() });
  admin.on('error', () => undefined);   // a failure below is reported by its own throw, not by this idle connection dropping at cleanup
  await admin.connect();
  try {
    return await measure(env, admin, url, token, serviceId, calls);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function measure(env: BenchEnvironment, admin: Client, url: string, token: string, serviceId: string, calls: number): Promise<Figure[]> {
  const databases = Array.from({ length: TARGET_DATABASES }, (_, i) => `bench_target_${i}`);
  for (const d of databases) await admin.query(`CREATE DATABASE ${d}`);

  // the baseline: one scope (a database of its own), one setting
  const one = 'bench_one_scope';
  await admin.query(`CREATE DATABASE ${one}`);
  await gql(url, token, ENABLE, { input: { serviceId, database: one, settings: { log: ['DDL'] } } });
  const baseline = await timeCalls(calls, (i) => gql(url, token, CONFIGURE, { input: { serviceId, database: one, settings: { logRows: i % 2 === 0 } } }).then(() => undefined));
  await gql(url, token, DISABLE, { input: { serviceId, database: one } });

  // one change over 10 target databases: the same one setting, on each of them
  await gql(url, token, ENABLE, { input: { serviceId, targetDatabases: databases, settings: { log: ['DDL'] } } });
  const wide = await timeCalls(calls, (i) => gql(url, token, CONFIGURE, { input: { serviceId, settings: { logRows: i % 2 === 0 } } }).then(() => undefined));
  await gql(url, token, DISABLE, { input: { serviceId } });

  // the floor of a page of 50 services' eligibility: 50 connections opened at once, one query each, closed (the
  // gateway holds each service's connection until the answer is ready, and closes it before sending it)
  const bare = await timeCalls(calls, async () => {
    const clients = await Promise.all(Array.from({ length: SERVICES_PAGE }, async () => {
      const c = new Client({ connectionString: env.target.url() });
      await c.connect();
      await c.query(`SELECT current_setting('server_version_num'), (SELECT rolsuper FROM pg_roles WHERE rolname = 'avnadmin')`);
      return c;
    }));
    await Promise.all(clients.map((c) => c.end()));
  });

  // a page of 50 services of one project, each on the bench's target server, one of them with policies
  const t = env.admin.tenancy;
  const project = await t.createProject(env.tenant.organizationId, 'bench-services', true);
  for (let i = 0; i < SERVICES_PAGE; i++) await t.registerService(project.id, `svc-${String(i).padStart(2, '0')}`, env.target.url());
  const { token: listToken } = await t.createToken(project.id, 'bench-services', 'avnadmin');
  // 50 services' live eligibility costs 50 x 25 points plus the selection (about 1,500): over the default
  // GRAPHQL_MAX_COST of 1000 (README, Bounds), so this page is served by a gateway with the limit at 2000
  const wideGateway = await env.extraGateway('services-page', { GRAPHQL_MAX_COST: '2000' });
  let page: Awaited<ReturnType<typeof timeCalls>>;
  try {
    page = await timeCalls(calls, async () => {
      const data = await gql(wideGateway.url, listToken, SERVICES, { first: SERVICES_PAGE });
      if (data.services.edges.length !== SERVICES_PAGE || !data.services.edges.every((e: any) => e.node.eligibility.eligible)) {
        throw new Error(`services page: ${JSON.stringify(data).slice(0, 300)}`);
      }
    });
  } finally {
    await wideGateway.stop();
  }

  const baselineName = 'configureAuditLogging of one scope (one database, one setting), same run';
  return [
    { section: 'control', name: `configureAuditLogging of a service policy with targetDatabases over ${TARGET_DATABASES} databases (one setting on each), ${calls} calls`,
      unit: 'ms', measured: wide, baseline, baselineName,
      target: { text: `p50 <= ${TARGET_DATABASES}x baseline`, met: wide.p50 <= TARGET_DATABASES * baseline.p50 } },
    { section: 'control', name: `services(first: ${SERVICES_PAGE}) over ${SERVICES_PAGE} services, with live eligibility, audit status and policies (GRAPHQL_MAX_COST 2000), ${calls} calls`,
      unit: 'ms', measured: page, baseline: bare,
      baselineName: `${SERVICES_PAGE} connections opened at once, one query each, closed (pg client, no gateway), same run; one scope's configure: ${baseline.p50.toFixed(1)} ms p50`,
      target: { text: 'p50 <= 1.5x baseline', met: page.p50 <= 1.5 * bare.p50 } },
  ];
}
