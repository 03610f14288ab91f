/**
 * setObjectAudit on a real PostgreSQL 15 + pgaudit: the auditor role's grants and pgaudit.role land on the server,
 * a new session's statements are logged (AUDIT: OBJECT in the server's own csvlog) exactly where they should be,
 * refusals change nothing (grants, pgaudit.role, history), and the settings policy of the same database keeps
 * pgaudit.role at the auditor. Works in a database of its own, created here.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import {
  createTenant, DISABLE, ENABLE, env, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls,
} from './support/harness';
import { historyState, unchanged } from './support/unchanged';

const DB = `objaudit_${process.pid}`;
const AUDITOR = 'pgaudit_auditor';
let g: TestGateway;
let logDir: string;

const OBJECT_AUDIT = 'objectAudit { auditorRole source objects { schema relation privileges columns } }';
const SET = `mutation($input: SetObjectAuditInput!) { setObjectAudit(input: $input) {
  policy { id database enabled version settings { role } ${OBJECT_AUDIT} }
  revision { id version action reason statements changes { setting from to } settings { role } ${OBJECT_AUDIT} }
  statements userErrors { code message field } } }`;
const POLICY = `query($serviceId: ID!, $database: String) { auditPolicy(serviceId: $serviceId, database: $database) {
  id enabled version settings { role log } ${OBJECT_AUDIT}
  historyIntegrity { intact revisions firstBroken { version problem } }
  history(first: 50) { edges { node { version action } } } } }`;

beforeAll(async () => {
  logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  for (const ddl of [
    'CREATE TABLE audited_t (id int PRIMARY KEY, amount int, note text)',
    'CREATE TABLE other_t (id int PRIMARY KEY, note text)',
    `INSERT INTO audited_t VALUES (1, 10, 'a'), (2, 20, 'b')`,
    `INSERT INTO other_t VALUES (1, 'x')`,
    'CREATE SEQUENCE a_seq',
  ]) await sql(urls.pgaudit, ddl, [], DB);
  g = await startTestGateway();
});
afterAll(async () => {
  await g.close();
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
});

/** No object audit at all in the database: the auditor holds nothing there, pgaudit.role not set on it. */
async function cleanDatabase(): Promise<void> {
  const exists = await sql(urls.pgaudit, `SELECT 1 FROM pg_roles WHERE rolname = $1`, [AUDITOR]);
  if (exists.length > 0) await sql(urls.pgaudit, `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${AUDITOR}`, [], DB);
  await sql(urls.pgaudit, `ALTER DATABASE ${DB} RESET ALL`);
}

async function freshTenant(opts: { proFeatures?: boolean } = {}): Promise<Tenant> {
  await cleanDatabase();
  return createTenant(g, { serviceUrl: urls.pgaudit, ...opts });
}

async function setObjects(t: Tenant, input: Record<string, unknown>): Promise<any> {
  const r = await g.exec(t.token, SET, { input: { serviceId: t.serviceId, database: DB, ...input } });
  expect(r.errors).toBeUndefined();
  return r.data!.setObjectAudit;
}

async function applied(t: Tenant, input: Record<string, unknown>): Promise<any> {
  const p = await setObjects(t, input);
  if (p.userErrors.length > 0) throw new Error(`setup: setObjectAudit failed: ${JSON.stringify(p.userErrors)}`);
  return p;
}

/** What the auditor holds in the database, from the catalogs (independent of the gateway's reading). */
async function grants(): Promise<string[]> {
  const rows = await sql<{ g: string }>(urls.pgaudit, `
    SELECT c.relname || ':' || a.privilege_type AS g FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
     WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)
    UNION ALL
    SELECT c.relname || '.' || att.attname || ':' || a.privilege_type FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
      CROSS JOIN LATERAL aclexplode(att.attacl) a WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)
    ORDER BY 1`, [AUDITOR], DB);
  return rows.map((r) => r.g);
}

/** The database's own pgaudit.role (pg_db_role_setting), null when not set there. */
async function databaseRole(): Promise<string | null> {
  const rows = await sql<{ e: string }>(urls.pgaudit, `SELECT unnest(s.setconfig) AS e FROM pg_db_role_setting s
    JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0`, [DB]);
  const e = rows.map((r) => r.e).find((x) => x.startsWith('pgaudit.role='));
  return e ? e.slice('pgaudit.role='.length) : null;
}

/** Everything refusals must leave alone: the server's pgaudit state, the auditor's grants, the gateway's history. */
async function unchangedAll<T>(t: Tenant, fn: () => Promise<T>): Promise<T> {
  const before = await grants();
  const out = await unchanged(g, urls.pgaudit, t.serviceId, fn);
  expect(await grants()).toEqual(before);
  return out;
}

// ---- the server's own log ------------------------------------------------------------------------------------

function logText(): string {
  return readdirSync(logDir).filter((f) => f.endsWith('.csv')).sort().map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('');
}

/** Object-audit lines of the csvlog naming `marker`. */
function objectLines(marker: string): string[] {
  return logText().split('\n').filter((l) => l.includes('AUDIT: OBJECT,') && l.includes(marker));
}

/**
 * Runs `statements` in a NEW session on the database (each with its marker), then a sentinel (RAISE LOG);
 * once the sentinel shows in the log, every line of the statements before it has been written too.
 * Returns, per marker, whether an AUDIT: OBJECT line names it.
 */
async function logged(statements: ((marker: string) => string)[]): Promise<boolean[]> {
  const markers = statements.map(() => `m_${randomUUID().replace(/-/g, '')}`);
  const end = `m_${randomUUID().replace(/-/g, '')}`;
  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB) });
  await c.connect();
  try {
    for (const [i, s] of statements.entries()) await c.query(s(markers[i]!));
    await c.query(`DO $$ BEGIN RAISE LOG '${end}'; END $$`);
  } finally { await c.end(); }
  for (let i = 0; !logText().includes(`LOG,00000,"${end}"`); i++) {
    if (i > 200) throw new Error('the sentinel statement never reached the csvlog');
    await new Promise((r) => setTimeout(r, 50));
  }
  return markers.map((m) => objectLines(m).length > 0);
}

const selectAudited = (m: string) => `SELECT '${m}' AS marker, count(*) FROM audited_t`;
const selectOther = (m: string) => `SELECT '${m}' AS marker, count(*) FROM other_t`;
const updateAmount = (m: string) => `UPDATE audited_t SET amount = amount + 1 WHERE note <> '${m}'`;
const updateNote = (m: string) => `UPDATE audited_t SET note = '${m}' WHERE id = 1`;

// ---- tests ---------------------------------------------------------------------------------------------------

describe('setObjectAudit', () => {
  it('SELECT on one table: grants, pgaudit.role and the revision; a new session\'s SELECT on it is logged, on another table not', async () => {
    const t = await freshTenant();
    const p = await setObjects(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }], reason: 'PCI 10.2' });
    expect(p.userErrors).toEqual([]);
    expect(p.statements).toEqual(expect.arrayContaining([
      `GRANT SELECT ON TABLE "public"."audited_t" TO "${AUDITOR}"`, `ALTER DATABASE "${DB}" SET pgaudit.role = '${AUDITOR}'`]));
    expect(p.revision).toMatchObject({ version: 1, action: 'OBJECT_AUDIT_CONFIGURED', reason: 'PCI 10.2', settings: { role: AUDITOR },
      objectAudit: { auditorRole: AUDITOR, source: null, objects: [{ schema: 'public', relation: 'audited_t', privileges: ['SELECT'], columns: null }] } });
    expect(p.revision.changes).toEqual(expect.arrayContaining([{ setting: 'pgaudit.role', from: '', to: AUDITOR },
      { setting: 'object public.audited_t', from: null, to: 'SELECT' }]));
    expect(p.policy).toMatchObject({ database: DB, enabled: false, version: 1,
      objectAudit: { auditorRole: AUDITOR, source: 'SERVER', objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] } });
    expect(await grants()).toEqual(['audited_t:SELECT']);
    expect(await show(urls.pgaudit, 'pgaudit.role', DB)).toBe(AUDITOR);
    const [role] = await sql(urls.pgaudit, `SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1`, [AUDITOR]);
    expect(role).toEqual({ rolcanlogin: false, rolsuper: false });
    expect(await logged([selectAudited, selectOther])).toEqual([true, false]);
  });

  it('column-level UPDATE: the asked column is logged, another is not; the SELECT no longer asked is revoked (catalog and log)', async () => {
    const t = await freshTenant();
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });
    const p = await applied(t, { objects: [{ relation: 'audited_t', privileges: ['UPDATE'], columns: ['amount'] }], expectedVersion: 1 });
    expect(p.statements).toEqual([`REVOKE SELECT ON TABLE "public"."audited_t" FROM "${AUDITOR}"`,
      `GRANT UPDATE ("amount") ON TABLE "public"."audited_t" TO "${AUDITOR}"`]);
    expect(p.revision.changes).toEqual([{ setting: 'object public.audited_t', from: 'SELECT', to: 'UPDATE (amount)' }]);
    expect(await grants()).toEqual(['audited_t.amount:UPDATE']);
    expect(await logged([updateNote, selectAudited, updateAmount])).toEqual([false, false, true]);
  });

  it('objects [] removes everything: grants revoked, pgaudit.role RESET on the database, the role kept', async () => {
    const t = await freshTenant();
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT', 'DELETE'] }, { relation: 'other_t', privileges: ['INSERT'], columns: ['note'] }] });
    expect(await grants()).toEqual(['audited_t:DELETE', 'audited_t:SELECT', 'other_t.note:INSERT']);
    const p = await applied(t, { objects: [] });
    expect(p.statements).toEqual(expect.arrayContaining([`ALTER DATABASE "${DB}" RESET pgaudit.role`]));
    expect(p.revision.objectAudit).toEqual({ auditorRole: AUDITOR, source: null, objects: [] });
    expect(p.revision.changes).toEqual(expect.arrayContaining([{ setting: 'pgaudit.role', from: AUDITOR, to: '' },
      { setting: 'object public.other_t', from: 'INSERT (note)', to: null }]));
    expect(await grants()).toEqual([]);
    expect(await databaseRole()).toBeNull();
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_roles WHERE rolname = $1`, [AUDITOR])).toHaveLength(1);
    expect(await logged([selectAudited])).toEqual([false]);
  });

  it('the same objects again change nothing and add no revision', async () => {
    const t = await freshTenant();
    expect(await applied(t, { objects: [] })).toMatchObject({ statements: [], revision: null, policy: null });   // never configured
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });
    const p = await applied(t, { objects: [{ schema: 'public', relation: 'audited_t', privileges: ['SELECT'] }] });
    expect(p).toMatchObject({ statements: [], revision: null, policy: { version: 1 } });
  });

  describe('refusals change nothing (grants, pgaudit.role, history)', () => {
    let t: Tenant;
    beforeAll(async () => {
      t = await freshTenant();
      await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });
    });

    it('every unknown relation, and what is not a table/view, is reported with its path', async () => {
      const p = await unchangedAll(t, () => setObjects(t, { objects: [{ relation: 'nope', privileges: ['SELECT'] },
        { relation: 'other_t', privileges: ['SELECT'] }, { schema: 'nowhere', relation: 'other_t', privileges: ['SELECT'] },
        { relation: 'a_seq', privileges: ['SELECT'] }, { relation: 'AUDITED_T', privileges: ['SELECT'] }] }));
      expect(p.userErrors.map((e: any) => [e.code, e.field])).toEqual([
        ['RELATION_NOT_FOUND', ['input', 'objects', '0', 'relation']], ['RELATION_NOT_FOUND', ['input', 'objects', '2', 'relation']],
        ['RELATION_NOT_FOUND', ['input', 'objects', '3', 'relation']], ['RELATION_NOT_FOUND', ['input', 'objects', '4', 'relation']]]);
      expect(p.revision).toBeNull();
    });

    it('unknown columns and DELETE with columns, all at once', async () => {
      const p = await unchangedAll(t, () => setObjects(t, { objects: [{ relation: 'audited_t', privileges: ['UPDATE'], columns: ['amount', 'nope', 'x'] },
        { relation: 'other_t', privileges: ['DELETE'], columns: ['note'] }] }));
      expect(p.userErrors.map((e: any) => [e.code, e.field])).toEqual(expect.arrayContaining([
        ['COLUMN_NOT_FOUND', ['input', 'objects', '0', 'columns', '1']], ['COLUMN_NOT_FOUND', ['input', 'objects', '0', 'columns', '2']],
        ['INVALID_SETTING', ['input', 'objects', '1', 'columns']]]));
      expect(p.userErrors).toHaveLength(3);
    });

    it('an auditor role that can log in, is a superuser, or is the caller\'s own role', async () => {
      await sql(urls.pgaudit, `DROP ROLE IF EXISTS oa_login; CREATE ROLE oa_login LOGIN; DROP ROLE IF EXISTS oa_super; CREATE ROLE oa_super SUPERUSER NOLOGIN`);
      for (const role of ['oa_login', 'oa_super', 'avnadmin']) {
        const p = await unchangedAll(t, () => setObjects(t, { auditorRole: role, objects: [{ relation: 'other_t', privileges: ['SELECT'] }] }));
        expect(p.userErrors.map((e: any) => [e.code, e.field])).toEqual([['INVALID_SETTING', ['input', 'auditorRole']]]);
      }
    });

    it('an entitlement that fails (and a database that does not exist)', async () => {
      const poor = await freshTenant({ proFeatures: false });
      await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });   // the server state to keep
      const p = await unchangedAll(poor, () => setObjects(poor, { objects: [{ relation: 'other_t', privileges: ['SELECT'] }] }));
      expect(p.userErrors.map((e: any) => e.code)).toEqual(['PRO_FEATURES_REQUIRED']);
      const q = await unchangedAll(t, () => g.exec(t.token, SET, { input: { serviceId: t.serviceId, database: 'no such db', objects: [] } }));
      expect(q.data!.setObjectAudit.userErrors.map((e: any) => e.code)).toEqual(['DATABASE_NOT_FOUND']);
    });

    it('expectedVersion conflict', async () => {
      const p = await unchangedAll(t, () => setObjects(t, { expectedVersion: 99, objects: [] }));
      expect(p.userErrors.map((e: any) => [e.code, e.field])).toEqual([['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
    });

    it('dryRun returns the SQL and changes nothing', async () => {
      const p = await unchangedAll(t, () => setObjects(t, { dryRun: true, objects: [{ relation: 'other_t', privileges: ['INSERT', 'UPDATE'], columns: ['note'] }] }));
      expect(p.userErrors).toEqual([]);
      expect(p.revision).toBeNull();
      expect(p.statements).toEqual([`REVOKE SELECT ON TABLE "public"."audited_t" FROM "${AUDITOR}"`,
        `GRANT INSERT ("note") ON TABLE "public"."other_t" TO "${AUDITOR}"`, `GRANT UPDATE ("note") ON TABLE "public"."other_t" TO "${AUDITOR}"`]);
    });

    it('input bounds are checked at the door (more than 200 objects, a name over 63 bytes)', async () => {
      const many = Array.from({ length: 201 }, () => ({ relation: 'other_t', privileges: ['SELECT'] }));
      const r1 = await unchangedAll(t, () => g.exec(t.token, SET, { input: { serviceId: t.serviceId, database: DB, objects: many } }));
      expect(r1.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const r2 = await unchangedAll(t, () => g.exec(t.token, SET, { input: { serviceId: t.serviceId, database: DB,
        objects: [{ relation: 'x'.repeat(64), privileges: ['SELECT'] }] } }));
      expect(r2.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  it('idempotency: the same request under a used key replays its result; another request under it is refused', async () => {
    const t = await freshTenant();
    const input = { idempotencyKey: `k-${randomUUID()}`, objects: [{ relation: 'audited_t', privileges: ['INSERT'] }] };
    const first = await applied(t, input);
    const before = await historyState(g, t.serviceId);
    await sql(urls.pgaudit, `REVOKE INSERT ON audited_t FROM ${AUDITOR}`, [], DB);   // a replay must not apply it again
    const again = await applied(t, input);
    expect(again.revision.id).toBe(first.revision.id);
    expect(again.statements).toEqual(first.statements);
    expect(await grants()).toEqual([]);
    expect(await historyState(g, t.serviceId)).toEqual(before);
    const other = await unchangedAll(t, () => setObjects(t, { ...input, objects: [] }));
    expect(other.userErrors.map((e: any) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('the settings policy keeps pgaudit.role at the auditor: enable without role, disable; object audit keeps logging', async () => {
    const t = await freshTenant();
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });
    const e = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, database: DB, settings: { log: ['DDL'] } } });
    expect(e.data!.enableAuditLogging.userErrors).toEqual([]);
    expect(e.data!.enableAuditLogging.policy).toMatchObject({ enabled: true, version: 2, settings: { role: AUDITOR } });
    expect(await databaseRole()).toBe(AUDITOR);
    const d = await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, database: DB } });
    expect(d.data!.disableAuditLogging.userErrors).toEqual([]);
    expect(d.data!.disableAuditLogging.statements).not.toContain(`ALTER DATABASE "${DB}" RESET pgaudit.role`);
    expect(await databaseRole()).toBe(AUDITOR);
    expect(await show(urls.pgaudit, 'pgaudit.log', DB)).toBe('none');
    expect(await logged([selectAudited])).toEqual([true]);
    // an explicit role wins
    const c = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, database: DB, settings: { log: ['DDL'], role: '' } } });
    expect(c.data!.enableAuditLogging.userErrors).toEqual([]);
    expect(await show(urls.pgaudit, 'pgaudit.role', DB)).toBe('');

    const q = await g.exec(t.token, POLICY, { serviceId: t.serviceId, database: DB });
    expect(q.errors).toBeUndefined();
    expect(q.data!.auditPolicy.history.edges.map((x: any) => x.node.action)).toEqual(['ENABLED', 'DISABLED', 'ENABLED', 'OBJECT_AUDIT_CONFIGURED']);
    expect(q.data!.auditPolicy.historyIntegrity).toEqual({ intact: true, revisions: 4, firstBroken: null });
  });

  it('the history chain holds over object-audit revisions, and the policy shows them', async () => {
    const t = await freshTenant();
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT'] }] });
    await applied(t, { objects: [{ relation: 'audited_t', privileges: ['SELECT', 'UPDATE'], columns: ['amount'] }] });
    await applied(t, { objects: [] });
    const q = await g.exec(t.token, POLICY, { serviceId: t.serviceId, database: DB });
    expect(q.errors).toBeUndefined();
    expect(q.data!.auditPolicy).toMatchObject({ enabled: false, version: 3, objectAudit: { auditorRole: AUDITOR, source: 'SERVER', objects: [] },
      historyIntegrity: { intact: true, revisions: 3, firstBroken: null } });
    const verdicts = await g.gateway.policies.verifyHistories(t.serviceId);
    expect(verdicts.every((v) => v.intact)).toBe(true);
  });
});
