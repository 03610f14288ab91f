/**
 * "Nothing changed": what a target server holds of pgaudit and what the gateway recorded of a service,
 * snapshotted before and compared after.
 */
import type { TestGateway } from './harness';
import { sql } from './harness';

/** Everything pgaudit-related a server holds (and log_connections / log_disconnections): system-level values, per-database, per-role and role-in-database settings, extensions. */
export async function serverState(url: string): Promise<unknown> {
  // the session-logging switches a service-level policy may hold beside pgaudit's
  const policyGucs = `(name LIKE 'pgaudit.%' OR name IN ('log_connections', 'log_disconnections'))`;
  const system = await sql(url, `SELECT name, setting FROM pg_settings WHERE ${policyGucs} ORDER BY name`);
  const files = await sql(url, `SELECT name, setting FROM pg_file_settings WHERE ${policyGucs} ORDER BY seqno`);
  const perDb = await sql(url, `SELECT d.datname, r.rolname, s.setconfig FROM pg_db_role_setting s
    LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole ORDER BY 1, 2`);
  const ext = await sql(url, `SELECT extname FROM pg_extension WHERE extname = 'pgaudit'`);
  return { system, files, perDb, ext };
}

/** The gateway's record of a service: policies and revisions (for "nothing changed" checks). */
export async function historyState(g: TestGateway, serviceId: string): Promise<unknown> {
  const prisma = g.gateway.db.prisma;
  const policies = await prisma.auditPolicy.findMany({ where: { serviceId }, orderBy: [{ database: 'asc' }, { role: 'asc' }] });
  const revisions = await prisma.auditPolicyRevision.findMany({ where: { policy: { serviceId } }, orderBy: [{ policyId: 'asc' }, { version: 'asc' }] });
  return { policies, revisions };
}

/** Runs `fn` and checks that neither the server at `url` (its pgaudit state) nor the gateway's history of `serviceId` moved. */
export async function unchanged<T>(g: TestGateway, url: string, serviceId: string, fn: () => Promise<T>): Promise<T> {
  const server = await serverState(url);
  const history = await historyState(g, serviceId);
  const out = await fn();
  expect(await serverState(url)).toEqual(server);
  expect(await historyState(g, serviceId)).toEqual(history);
  return out;
}
