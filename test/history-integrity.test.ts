/**
 * A history that proves it was not edited: real changes through GraphQL on a real PostgreSQL 15 + pgaudit give
 * a chain that verifies; revisions edited or deleted directly in the gateway database (as someone with write
 * access to it would) are named by AuditPolicy.historyIntegrity and by `admin verify-history`. Also: histories
 * stored before the chain existed are hashed by `migrate` and verify intact.
 */
import { randomUUID } from 'node:crypto';
import { createGateway, migrateGatewayDb } from '../src/api/gateway';
import { loadConfig, requireMasterKeys } from '../src/base/config';
import { silentLogger } from '../src/base/logger';
import { migrate } from '../src/base/db/migrate';
import { HASH_BEFORE_MIGRATION } from '../src/modules/audit-policy/history-chain.migration';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { runCli } from './support/cli';
import { migrateBefore } from './support/old-migrations';
import { CONFIGURE, createTenant, ENABLE, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

let g: TestGateway;

beforeAll(async () => { g = await startTestGateway(); });
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

const INTEGRITY = `query($serviceId: ID!) { auditPolicy(serviceId: $serviceId) { id version
  historyIntegrity { intact revisions headHash firstBroken { version problem } }
  history(first: 10) { edges { node { version contentHash } } } } }`;

/** A new service with four revisions made through GraphQL: enable, then three configures. */
async function serviceWithHistory(): Promise<Tenant> {
  await resetServer(urls.pgaudit);
  const t = await createTenant(g, { serviceUrl: urls.pgaudit });
  const changes: [string, string, Record<string, unknown>][] = [
    [ENABLE, 'enableAuditLogging', { reason: 'SOC 2 evidence', settings: { log: ['DDL'] } }],
    [CONFIGURE, 'configureAuditLogging', { expectedVersion: 1, reason: 'writes too', settings: { log: ['DDL', 'WRITE'] } }],
    [CONFIGURE, 'configureAuditLogging', { expectedVersion: 2, reason: 'rows', settings: { logRows: true } }],
    [CONFIGURE, 'configureAuditLogging', { expectedVersion: 3, reason: 'catalog off', settings: { logCatalog: false } }],
  ];
  for (const [query, field, input] of changes) {
    const r = await g.exec(t.token, query, { input: { serviceId: t.serviceId, ...input } });
    if (!r.data?.[field] || r.data[field].userErrors.length > 0) throw new Error(`setup: ${field} failed: ${JSON.stringify(r)}`);
  }
  return t;
}

async function integrity(t: Tenant) {
  const r = await g.exec(t.token, INTEGRITY, { serviceId: t.serviceId });
  expect(r.errors).toBeUndefined();
  return r.data!.auditPolicy;
}

function verifyHistory(serviceId: string) {
  const r = runCli(['admin', 'verify-history', '--service', serviceId, '--json'], { ...process.env, DATABASE_URL: urls.gatewayDb });
  return { status: r.status, stderr: r.stderr, out: JSON.parse(r.stdout) };
}

const revisionRows = (policyId: string) => sql(urls.gatewayDb,
  `SELECT * FROM audit_policy_revision WHERE policy_id = $1 ORDER BY version`, [policyId]);

describe('historyIntegrity and admin verify-history', () => {
  it('successful: a history made through the API is intact; its head is the newest revision\'s hash', async () => {
    const t = await serviceWithHistory();
    const p = await integrity(t);
    const hashes = p.history.edges.map((e: any) => e.node.contentHash);
    expect(p.version).toBe(4);
    expect(p.historyIntegrity).toEqual({ intact: true, revisions: 4, headHash: hashes[0], firstBroken: null });
    expect(new Set(hashes).size).toBe(4);
    for (const h of hashes) expect(h).toMatch(/^[0-9a-f]{64}$/);

    const before = await revisionRows(p.id);
    const cli = verifyHistory(t.serviceId);
    expect(cli.status).toBe(0);
    expect(cli.out).toEqual({ intact: true, policies: [{ policyId: p.id, serviceId: t.serviceId, database: null,
      intact: true, revisions: 4, headHash: hashes[0], firstBroken: null }] });
    expect(await revisionRows(p.id)).toEqual(before); // verifying changes nothing
  });

  it('failing-edited: a reason or settings changed in the database is named by its version (CONTENT_CHANGED)', async () => {
    const t = await serviceWithHistory();
    const { id: policyId, historyIntegrity: { headHash } } = await integrity(t);
    await sql(urls.gatewayDb, `UPDATE audit_policy_revision SET reason = 'routine' WHERE policy_id = $1 AND version = 2`, [policyId]);
    const p = await integrity(t);
    expect(p.historyIntegrity).toEqual({ intact: false, revisions: 4, headHash, firstBroken: { version: 2, problem: 'CONTENT_CHANGED' } });

    const before = await revisionRows(policyId);
    const cli = verifyHistory(t.serviceId);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/1 of 1 policy histories are broken/);
    expect(cli.out.intact).toBe(false);
    expect(cli.out.policies[0]).toMatchObject({ policyId, intact: false, firstBroken: { version: 2, problem: 'CONTENT_CHANGED' } });
    expect(await revisionRows(policyId)).toEqual(before);

    // put back as it was: intact again; then a settings edit in version 3 is named
    await sql(urls.gatewayDb, `UPDATE audit_policy_revision SET reason = 'writes too' WHERE policy_id = $1 AND version = 2`, [policyId]);
    expect((await integrity(t)).historyIntegrity.intact).toBe(true);
    await sql(urls.gatewayDb, `UPDATE audit_policy_revision SET settings = jsonb_set(settings, '{logRows}', 'false')
      WHERE policy_id = $1 AND version = 3`, [policyId]);
    expect((await integrity(t)).historyIntegrity.firstBroken).toEqual({ version: 3, problem: 'CONTENT_CHANGED' });
  });

  it('failing-deleted: a deleted revision is named (MISSING_VERSION), the newest one too', async () => {
    const t = await serviceWithHistory();
    const { id: policyId } = await integrity(t);
    // no trigger forbids DELETE on the table (append-only is the application's rule): as the owner would
    const triggers = await sql(urls.gatewayDb, `SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_policy_revision'::regclass AND NOT tgisinternal`);
    expect(triggers).toEqual([]);
    await sql(urls.gatewayDb, `DELETE FROM audit_policy_revision WHERE policy_id = $1 AND version = 4`, [policyId]);
    expect((await integrity(t)).historyIntegrity).toMatchObject({ intact: false, revisions: 3, firstBroken: { version: 4, problem: 'MISSING_VERSION' } });

    await sql(urls.gatewayDb, `DELETE FROM audit_policy_revision WHERE policy_id = $1 AND version = 2`, [policyId]);
    expect((await integrity(t)).historyIntegrity).toMatchObject({ intact: false, revisions: 2, firstBroken: { version: 2, problem: 'MISSING_VERSION' } });
    const cli = verifyHistory(t.serviceId);
    expect(cli.status).toBe(1);
    expect(cli.out.policies[0]).toMatchObject({ policyId, intact: false, revisions: 2, firstBroken: { version: 2, problem: 'MISSING_VERSION' } });

    // renumbering what is left to hide the gap breaks the link instead
    await sql(urls.gatewayDb, `UPDATE audit_policy_revision SET version = 2 WHERE policy_id = $1 AND version = 3`, [policyId]);
    await sql(urls.gatewayDb, `UPDATE audit_policy SET version = 2 WHERE id = $1`, [policyId]);
    expect((await integrity(t)).historyIntegrity.firstBroken).toEqual({ version: 2, problem: 'LINK_BROKEN' });
  });

  it('concurrent: changes racing on one policy still form one unbroken chain (each links under the policy row lock)', async () => {
    const t = await serviceWithHistory();
    // each sets a log level no other one sets and the history has not (LOG): whatever order they run in, every
    // one is a change (a configure that changes nothing makes no revision)
    const results = await Promise.all(['DEBUG1', 'DEBUG2', 'INFO', 'NOTICE'].map((logLevel, i) =>
      g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, reason: `race ${i}`, settings: { logLevel } } })));
    const made = results.filter((r) => r.data?.configureAuditLogging?.revision).length;
    expect(made).toBe(4); // four requests fit the per-service cap (4): all wait for the row lock, none is refused
    const p = await integrity(t);
    expect(p.version).toBe(8);
    expect(p.historyIntegrity).toMatchObject({ intact: true, revisions: 8, firstBroken: null });
  });

  it('failing-usage: --service must be a service id; nothing is read', () => {
    const r = runCli(['admin', 'verify-history', '--service', 'nope', '--json'], { ...process.env, DATABASE_URL: urls.gatewayDb });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--service takes a service id/);
  });
});

describe('migrating histories stored before the chain', () => {
  const dbName = `history_legacy_${process.pid}`;
  let db: string;
  const ids = { org: randomUUID(), project: randomUUID(), service: randomUUID(), policyA: randomUUID(), policyB: randomUUID() };
  const hashless = () => sql(db, `SELECT count(*)::int AS n FROM audit_policy_revision WHERE content_hash IS NULL OR prev_hash IS NULL`);

  beforeAll(async () => {
    await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`);
    await sql(urls.plain, `CREATE DATABASE ${dbName}`);
    db = withDatabase(urls.plain, dbName);
    await migrateBefore(db, '20261130130000');   // the gateway's migrations as they were before the chain
    await sql(db, `INSERT INTO organization (id, name, pro_platform) VALUES ($1, 'legacy org', true)`, [ids.org]);
    await sql(db, `INSERT INTO project (id, organization_id, name, pro_features) VALUES ($1, $2, 'legacy project', true)`, [ids.project, ids.org]);
    await sql(db, `INSERT INTO service (id, project_id, name, credential_ciphertext, credential_nonce, credential_wrapped_key,
      credential_key_nonce, credential_key_version) VALUES ($1, $2, 'legacy', '\\x00', '\\x00', '\\x00', '\\x00', 1)`, [ids.service, ids.project]);
    await sql(db, `INSERT INTO audit_policy (id, service_id, database, enabled, version, settings, updated_by)
      VALUES ($1, $3, '', true, 3, '{"log": ["ddl"], "role": null}', 'legacy'), ($2, $3, 'sales', true, 1, '{"log": ["read"]}', 'legacy')`,
      [ids.policyA, ids.policyB, ids.service]);
    // written as the old gateway did: no hashes, created_at by the column default, jsonb in its own key order
    for (const [policy, version] of [[ids.policyA, 1], [ids.policyA, 2], [ids.policyA, 3], [ids.policyB, 1]] as const) {
      await sql(db, `INSERT INTO audit_policy_revision (id, policy_id, version, action, actor, actor_token_id, reason, settings, changes, statements)
        VALUES ($1, $2, $3, 'CONFIGURED', 'token:old as avnadmin', $4, $5, $6, $7, $8)`,
        [randomUUID(), policy, version, version === 1 ? null : randomUUID(), version === 2 ? null : `reason ${version}`,
          JSON.stringify({ log: ['ddl'], logRows: version > 1, role: null, logParameterMaxSize: version }),
          JSON.stringify([{ setting: 'pgaudit.log', from: null, to: 'ddl' }]), JSON.stringify([`ALTER SYSTEM SET pgaudit.log = 'ddl'`])]);
    }
  });
  afterAll(async () => { await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`); });

  it('failing-sql-only: a runner without the data step stops at the NOT NULL migration, losing nothing', async () => {
    await expect(migrate(db)).rejects.toThrow(/audit policy revisions have no hashes yet: run `pg-audit-gateway migrate`/);
    expect(await hashless()).toEqual([{ n: 4 }]);
    const recorded = await sql(db, `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL`);
    expect(recorded.map((r) => r.migration_name)).not.toContain(HASH_BEFORE_MIGRATION);
  });

  it('successful: migrate hashes every old revision in version order and the histories verify intact', async () => {
    const r = await migrateGatewayDb(db, requireMasterKeys(loadConfig(process.env)));
    expect(r.applied).toContain(HASH_BEFORE_MIGRATION);
    expect(await hashless()).toEqual([{ n: 0 }]);
    const gateway = createGateway(loadConfig({ ...process.env, DATABASE_URL: db }), silentLogger);
    try {
      const verdicts = await gateway.policies.verifyHistories(null);
      expect(verdicts.map((v) => [v.policyId, v.intact, v.revisions, v.firstBroken])).toEqual(
        [[ids.policyA, true, 3, null], [ids.policyB, true, 1, null]]); // service level ('') before 'sales'
      // and the chain is live: an edit of an old revision is named
      await sql(db, `UPDATE audit_policy_revision SET actor = 'someone' WHERE policy_id = $1 AND version = 1`, [ids.policyA]);
      const [a] = await gateway.policies.verifyHistories(ids.service).then((vs) => vs.filter((v) => v.policyId === ids.policyA));
      expect(a!.firstBroken).toEqual({ version: 1, problem: 'CONTENT_CHANGED' });
    } finally {
      await gateway.close();
    }
  });
});
