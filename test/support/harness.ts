/**
 * What integration tests share: a real gateway (real Prisma, real target servers) driven through
 * Apollo's executeOperation with a context built by the same code as HTTP requests (token -> principal),
 * tenants bootstrapped through TenancyService (what the CLI uses), and direct SQL on the servers to
 * check what really happened there.
 */
import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { Client } from 'pg';
import { createGateway, Gateway, migrateGatewayDb } from '../../src/api/gateway';
import { loadConfig, requireMasterKeys } from '../../src/base/config';
import type { ServiceRecord } from '../../src/modules/tenancy/tenancy.repository';
import { CredentialVault } from '../../src/modules/tenancy/service-credential';
import type { GatewayContext } from '../../src/api/context';
import { contextFor, createApollo } from '../../src/api/http-server';
import { createLogger, silentLogger } from '../../src/base/logger';
import { withDatabase } from '../../src/modules/audit-policy/target/target.session';
import { CheckpointRepository } from '../../src/modules/ingest/checkpoint.repository';
import { IngestOptions, Ingester, IngestStats } from '../../src/modules/ingest/ingester';
import { randomUUID } from 'node:crypto';
import type { AuditEventDocument } from '../../src/modules/audit-events/event.document';
import { env, urls } from './env';

export { env, urls };

export interface TestGateway {
  gateway: Gateway;
  apollo: ApolloServer<GatewayContext>;
  /** Run an operation as the bearer of `token`; returns data and errors like a client would see them. */
  exec<T = Record<string, any>>(token: string, query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  close(): Promise<void>;
}

export async function startTestGateway(overrides: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({ ...process.env, ...overrides });
  await migrateGatewayDb(config.databaseUrl, requireMasterKeys(config));
  const logger = process.env.TEST_LOG ? createLogger('debug') : silentLogger;   // TEST_LOG=1 to see the gateway's logs
  const gateway = createGateway(config, logger);
  const apollo = createApollo();
  await apollo.start();
  return {
    gateway, apollo,
    async exec(token, query, variables) {
      const contextValue = await contextFor(gateway, `Bearer ${token}`, 'test');
      const res = await apollo.executeOperation({ query, variables }, { contextValue });
      if (res.body.kind !== 'single') throw new Error('unexpected incremental response');
      return JSON.parse(JSON.stringify(res.body.singleResult));
    },
    async close() { await apollo.stop(); await gateway.close(); },
  };
}

/** Indexes what `logDir` holds for a service, once (as `ingest --once` does), then refreshes the index so that reads see it. */
export async function ingestOnce(g: TestGateway, serviceId: string, logDir: string, options: IngestOptions = {}): Promise<IngestStats> {
  const service = (await g.gateway.tenancy.serviceById(serviceId))!;
  const stats = await new Ingester(service, logDir, g.gateway.eventStore!, new CheckpointRepository(g.gateway.db.prisma), silentLogger, options).runOnce();
  await g.gateway.eventStore!.refresh();
  return stats;
}

export interface Tenant { organizationId: string; projectId: string; serviceId: string; token: string }

let counter = 0;
/** A fresh organization + project + service + token. Defaults: entitled, acting as avnadmin. */
/**
 * `n` plain SELECT events of `tenant` in `database`, a minute apart before now, written straight to the event store
 * (no log, no ingester: for tests of what reads them) and refreshed; `ingestedAt` stamps them as the ingester would.
 */
export async function indexEvents(g: TestGateway, tenant: Tenant, n: number, opts: { database: string; ingestedAt?: string }): Promise<AuditEventDocument[]> {
  const docs: AuditEventDocument[] = Array.from({ length: n }, (_, i) => ({ id: randomUUID().replace(/-/g, ''), serviceId: tenant.serviceId,
    projectId: tenant.projectId, organizationId: tenant.organizationId, timestamp: new Date(Date.now() - (i + 1) * 60_000).toISOString(),
    auditType: 'SESSION', statementId: i + 1, substatementId: 1, class: 'READ', command: 'SELECT', objectType: null, objectName: null,
    statement: `SELECT ${i}`, statementStatus: 'LOGGED', parameters: null, rows: null, user: 'u', database: opts.database, sessionId: 's',
    sessionLineNum: i + 1, applicationName: null, remoteHost: null }));
  await g.gateway.eventStore!.ensureTemplate();
  const { rejected } = await g.gateway.eventStore!.bulkIndex(docs, [], opts.ingestedAt);
  if (rejected.length > 0) throw new Error(`events rejected: ${JSON.stringify(rejected).slice(0, 500)}`);
  await g.gateway.eventStore!.refresh();
  return docs;
}

export async function createTenant(g: TestGateway, opts: { serviceUrl: string; proPlatform?: boolean; proFeatures?: boolean; role?: string }): Promise<Tenant> {
  const n = `${process.pid}-${++counter}-${Date.now()}`;
  const t = g.gateway.tenancy;
  const org = await t.createOrganization(`org-${n}`, opts.proPlatform ?? true);
  const project = await t.createProject(org.id, `project-${n}`, opts.proFeatures ?? true);
  const service = await t.registerService(project.id, `service-${n}`, opts.serviceUrl);
  const { token } = await t.createToken(project.id, `token-${n}`, opts.role ?? 'avnadmin');
  return { organizationId: org.id, projectId: project.id, serviceId: service.id, token };
}

/**
 * A service record sealed under the run's master keys (globalSetup sets CREDENTIALS_MASTER_KEYS), with the
 * vault that opens it: for suites that drive the target connector directly.
 */
export function sealedTarget(id: string, url: string): { vault: CredentialVault; service: ServiceRecord } {
  const vault = new CredentialVault(requireMasterKeys(loadConfig(process.env)));
  return { vault, service: { id, name: id, projectId: id, credential: vault.seal(id, url), proFeatures: true, organizationId: id, proPlatform: true } };
}

/** One query on a NEW connection (optionally to another database). */
export async function sql<R extends Record<string, any> = Record<string, any>>(url: string, text: string, params: unknown[] = [], database?: string): Promise<R[]> {
  const client = new Client({ connectionString: database ? withDatabase(url, database) : url });
  await client.connect();
  try { return (await client.query<R>(text, params)).rows; } finally { await client.end(); }
}

/** SHOW <guc> in a new connection, as a freshly connecting client of the database sees it. */
export async function show(url: string, guc: string, database?: string): Promise<string> {
  const [row] = await sql<{ v: string }>(url, `SELECT current_setting($1) AS v`, [guc], database);
  return row!.v;
}

/** Put a target server back to no pgaudit configuration at all (between test files). */
export async function resetServer(url: string): Promise<void> {
  const dbs = await sql<{ datname: string }>(url, `SELECT datname FROM pg_database WHERE datallowconn`);
  for (const { datname } of dbs) {
    await sql(url, `ALTER DATABASE "${datname.replace(/"/g, '""')}" RESET ALL`);
    await sql(url, `DROP EXTENSION IF EXISTS pgaudit`, [], datname).catch(() => undefined);
  }
  const roles = await sql<{ rolname: string; datname: string | null }>(url, `SELECT r.rolname, d.datname FROM pg_db_role_setting s
    JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase`);
  for (const { rolname, datname } of roles) {
    await sql(url, `ALTER ROLE "${rolname.replace(/"/g, '""')}"${datname ? ` IN DATABASE "${datname.replace(/"/g, '""')}"` : ''} RESET ALL`);
  }
  await sql(url, `ALTER SYSTEM RESET ALL`);
  await sql(url, `SELECT pg_reload_conf()`);
  for (let i = 0; i < 200; i++) {
    const rows = await sql(url, `SELECT 1 FROM pg_settings WHERE name LIKE 'pgaudit.%' AND source = 'configuration file'`);
    if (rows.length === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('server did not drop its pgaudit settings after reload');
}

export const POLICY_FIELDS = `id serviceId database enabled version updatedBy updatedAt settingsSource
  settings { log logExclude logCatalog logClient logLevel logParameter logParameterMaxSize logRelation logRows logStatement logStatementOnce role }`;
export const PAYLOAD = `policy { ${POLICY_FIELDS} }
  revision { id version action actor reason statements changes { setting from to } settings { log logExclude logRelation logCatalog } }
  statements userErrors { code message field }`;

export const ENABLE = `mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { ${PAYLOAD} } }`;
export const CONFIGURE = `mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { ${PAYLOAD} } }`;
export const DISABLE = `mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { ${PAYLOAD} } }`;
export const POLICY = `query($serviceId: ID!, $database: String, $role: String, $first: Int, $after: String) {
  auditPolicy(serviceId: $serviceId, database: $database, role: $role) { ${POLICY_FIELDS} role targetDatabases
    history(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { version action actor reason changes { setting from to } } } } } }`;
export const ELIGIBILITY = `query($serviceId: ID!) { auditEligibility(serviceId: $serviceId) { eligible checks { requirement satisfied detail } } }`;

/**
 * PostgreSQL 15's csvlog as a temporary table (the documentation's postgres_log), so that COPY ... CSV
 * gives PostgreSQL's own reading of a csvlog file; COPY fails on any row that is not 26 valid columns.
 * With `uniqueLines`, a repeated (session_id, session_line_num) fails it too.
 */
export async function createPostgresLogTable(client: Client, uniqueLines = false): Promise<void> {
  await client.query(`CREATE TEMP TABLE postgres_log (log_time timestamp(3) with time zone, user_name text, database_name text,
    process_id integer, connection_from text, session_id text, session_line_num bigint, command_tag text,
    session_start_time timestamp with time zone, virtual_transaction_id text, transaction_id bigint, error_severity text,
    sql_state_code text, message text, detail text, hint text, internal_query text, internal_query_pos integer, context text,
    query text, query_pos integer, location text, application_name text, backend_type text, leader_pid integer, query_id bigint
    ${uniqueLines ? ', PRIMARY KEY (session_id, session_line_num)' : ''})`);
}
