/**
 * Service credentials encrypted at rest, against the real gateway database and real target servers:
 * - a database at the version before encryption, holding plaintext URLs, is migrated: every URL sealed, the
 *   plaintext column gone, and no table or column of the gateway database holds the URL or its password;
 *   without a master key the migration refuses and changes no row;
 * - a credential copied to another service's row does not decrypt: a coded GraphQL error without the URL,
 *   and nothing changes on the server or in the history;
 * - `admin rotate-key` (the built CLI) moves every service to a new master key version, idempotently, and every
 *   service stays reachable with the old key removed.
 * Rotation and the legacy migration use databases of their own: the shared gateway database is other suites'.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { migrateGatewayDb } from '../src/api/gateway';
import { loadConfig, requireMasterKeys } from '../src/base/config';
import { listMigrations, migrate } from '../src/base/db/migrate';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { SEAL_BEFORE_MIGRATION } from '../src/modules/tenancy/credential.migration';
import { CLI, ROOT } from './support/cli';
import { migrateBefore } from './support/old-migrations';
import { createTenant, ELIGIBILITY, ENABLE, POLICY, resetServer, sql, startTestGateway, TestGateway, urls } from './support/harness';
import { unchanged } from './support/unchanged';

const key = () => `${randomBytes(32).toString('base64')}`;
/** A target URL with a password in it (the test clusters trust local connections, so any password connects). */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** Every value of every column of every table of the gateway database, as text, plus the planner's statistics. */
async function dumpText(dbUrl: string): Promise<string> {
  const tables = await sql<{ t: string }>(dbUrl, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t
    FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`);
  expect(tables.map((t) => t.t)).toContain('public.service');
  let text = '';
  for (const { t } of tables) {
    for (const row of await sql<{ r: string }>(dbUrl, `SELECT x::text AS r FROM ${t} x`)) text += row.r + '\n';
  }
  for (const row of await sql<{ r: string }>(dbUrl, `SELECT s::text AS r FROM pg_statistic s`)) text += row.r + '\n';
  return text;
}

/** Neither the secret nor its bytes (as bytea shows them, in hex) appear anywhere. */
function expectAbsent(dump: string, secrets: string[]): void {
  for (const s of secrets) {
    expect(dump.includes(s)).toBe(false);
    expect(dump.toLowerCase().includes(Buffer.from(s).toString('hex'))).toBe(false);
  }
}

async function freshDatabase(name: string): Promise<string> {
  await sql(urls.plain, `DROP DATABASE IF EXISTS ${name}`);
  await sql(urls.plain, `CREATE DATABASE ${name}`);
  return withDatabase(urls.plain, name);
}

describe('migrating a database that holds plaintext URLs', () => {
  const dbName = `creds_legacy_${process.pid}`;
  let db: string;
  const password = `legacy-pw-${randomUUID()}`;
  const legacyUrl = withPassword(urls.pgaudit, password);
  const ids = { org: randomUUID(), project: randomUUID(), a: randomUUID(), b: randomUUID() };
  const keys = `1:${key()}`;
  const plaintextRows = () => sql(db, `SELECT id::text, connection_url FROM service ORDER BY id`);
  const recorded = async () => (await sql<{ migration_name: string }>(db, `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1`)).map((r) => r.migration_name);

  beforeAll(async () => {
    db = await freshDatabase(dbName);
    await migrateBefore(db, '20261130100000');   // the gateway's migrations as they were before encryption
    await sql(db, `INSERT INTO organization (id, name, pro_platform) VALUES ($1, 'legacy org', true)`, [ids.org]);
    await sql(db, `INSERT INTO project (id, organization_id, name, pro_features) VALUES ($1, $2, 'legacy project', true)`, [ids.project, ids.org]);
    await sql(db, `INSERT INTO service (id, project_id, name, connection_url) VALUES ($1, $3, 'a', $4), ($2, $3, 'b', $5)`,
      [ids.a, ids.b, ids.project, legacyUrl, withPassword(urls.plain, password + '-b')]);
    await resetServer(urls.pgaudit);
  });
  afterAll(async () => { await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`); });

  it('failing-no-key: without a master key the migration refuses and every plaintext row stays as it was', async () => {
    const before = await plaintextRows();
    expect(before).toHaveLength(2);
    await expect(migrateGatewayDb(db, null)).rejects.toThrow(/2 service\(s\) still hold a plaintext connection URL: set CREDENTIALS_MASTER_KEYS/);
    expect(await plaintextRows()).toEqual(before);
    expect(await recorded()).not.toContain(SEAL_BEFORE_MIGRATION);
  });

  it('failing-sql-only: a runner that cannot encrypt (like prisma migrate deploy) is stopped by the migration itself, losing nothing', async () => {
    const before = await plaintextRows();
    await expect(migrate(db)).rejects.toThrow(/service rows still hold plaintext connection URLs: run `pg-audit-gateway migrate`/);
    expect(await plaintextRows()).toEqual(before);
    expect(await recorded()).not.toContain(SEAL_BEFORE_MIGRATION);
  });

  it('successful: migrate seals every row, drops the plaintext column, and the database holds neither URL nor password', async () => {
    const r = await migrateGatewayDb(db, requireMasterKeys(loadConfig({ ...process.env, CREDENTIALS_MASTER_KEYS: keys })));
    expect(r.sealedServiceUrls).toBe(2);
    // step 1 was applied by the refused runs above, harmlessly; the sealing one and every later one now
    expect(r.applied).toEqual((await listMigrations()).map((m) => m.name).filter((n) => n >= SEAL_BEFORE_MIGRATION));
    expect(r.applied[0]).toBe(SEAL_BEFORE_MIGRATION);
    const columns = await sql<{ column_name: string; is_nullable: string }>(db,
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'service' ORDER BY column_name`);
    expect(columns.map((c) => c.column_name)).not.toContain('connection_url');
    expect(columns.filter((c) => c.column_name.startsWith('credential_')).every((c) => c.is_nullable === 'NO')).toBe(true);
    const rows = await sql(db, `SELECT id::text, credential_key_version FROM service ORDER BY id`);
    expect(rows.map((r) => r.credential_key_version)).toEqual([1, 1]);
    const dump = await dumpText(db);
    expect(dump).toContain(ids.a);   // the scan does see the service rows
    expectAbsent(dump, [password, legacyUrl, withPassword(urls.plain, password + '-b'), 'postgres://', 'postgresql://']);
    // a second run has nothing to do
    expect((await migrateGatewayDb(db, requireMasterKeys(loadConfig({ ...process.env, CREDENTIALS_MASTER_KEYS: keys })))).sealedServiceUrls).toBe(0);
  });

  it('successful: the migrated service is reachable through the gateway (a real eligibility check on the server)', async () => {
    const g = await startTestGateway({ DATABASE_URL: db, CREDENTIALS_MASTER_KEYS: keys });
    try {
      const { token } = await g.gateway.tenancy.createToken(ids.project, 'legacy token', 'avnadmin');
      const r = await g.exec(token, ELIGIBILITY, { serviceId: ids.a });
      expect(r.errors).toBeUndefined();
      expect(r.data!.auditEligibility.eligible).toBe(true);
    } finally { await g.close(); }
  });
});

describe('the shared gateway database', () => {
  let g: TestGateway;
  beforeAll(async () => {
    await resetServer(urls.pgaudit);
    g = await startTestGateway();
  });
  afterAll(async () => { await g?.close(); });

  it('holds no URL or password of a service registered with one', async () => {
    const password = `registered-pw-${randomUUID()}`;
    const url = withPassword(urls.pgaudit, password);
    const t = await createTenant(g, { serviceUrl: url });
    const r = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
    expect(r.data!.auditEligibility.eligible).toBe(true);   // it does connect with it
    const dump = await dumpText(urls.gatewayDb);
    expect(dump).toContain(t.serviceId);
    expectAbsent(dump, [password, url]);
  });

  it('failing-copied-row: a credential copied to another service does not decrypt; a coded error without the URL, nothing changed', async () => {
    const password = `copied-pw-${randomUUID()}`;
    const url = withPassword(urls.pgaudit, password);
    const a = await createTenant(g, { serviceUrl: url });
    const b = await createTenant(g, { serviceUrl: urls.pgaudit });
    await sql(urls.gatewayDb, `UPDATE service b SET credential_ciphertext = a.credential_ciphertext, credential_nonce = a.credential_nonce,
        credential_wrapped_key = a.credential_wrapped_key, credential_key_nonce = a.credential_key_nonce, credential_key_version = a.credential_key_version
      FROM service a WHERE a.id = $1 AND b.id = $2`, [a.serviceId, b.serviceId]);
    const row = async () => sql(urls.gatewayDb, `SELECT * FROM service WHERE id = $1`, [b.serviceId]);
    const rowBefore = await row();

    const checkError = (r: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }) => {
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'CREDENTIALS_UNREADABLE' });
      expect(r.errors![0]!.message).toBe('the gateway cannot use its stored credentials for this service; nothing was changed (an operator must check its master keys)');
      const text = JSON.stringify(r);
      for (const s of [password, url, 'postgres://', a.serviceId]) expect(text).not.toContain(s);
    };
    checkError(await g.exec(b.token, ELIGIBILITY, { serviceId: b.serviceId }));
    await unchanged(g, urls.pgaudit, b.serviceId, async () => {
      checkError(await g.exec(b.token, ENABLE, { input: { serviceId: b.serviceId, reason: 'copied row' } }));
    });
    expect(await row()).toEqual(rowBefore);
    // the service it came from is untouched and still works
    expect((await g.exec(a.token, ELIGIBILITY, { serviceId: a.serviceId })).data!.auditEligibility.eligible).toBe(true);
  });
});

describe('admin rotate-key', () => {
  const dbName = `creds_rotate_${process.pid}`;
  let db: string;
  const [k1, k2, k3] = [key(), key(), key()];
  const services: { serviceId: string; token: string }[] = [];

  function cli(args: string[], keys: string) {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000,
      env: { ...process.env, DATABASE_URL: db, CREDENTIALS_MASTER_KEYS: keys } });
    if (r.error) throw r.error;
    return r;
  }
  const versions = async () => (await sql<{ v: number }>(db, `SELECT credential_key_version AS v FROM service ORDER BY id`)).map((r) => r.v);
  const credentialRows = () => sql(db, `SELECT * FROM service ORDER BY id`);

  beforeAll(async () => {
    db = await freshDatabase(dbName);
    await resetServer(urls.pgaudit);
    const g = await startTestGateway({ DATABASE_URL: db, CREDENTIALS_MASTER_KEYS: `1:${k1}` });
    try {
      for (const serviceUrl of [withPassword(urls.pgaudit, 'rotate-pw-1'), urls.pgaudit, urls.plain]) {
        const t = await createTenant(g, { serviceUrl });
        services.push(t);
      }
      const r = await g.exec(services[0]!.token, ENABLE, { input: { serviceId: services[0]!.serviceId, reason: 'before rotation' } });
      expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
    } finally { await g.close(); }
  });
  afterAll(async () => {
    await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`);
    await resetServer(urls.pgaudit);
  });

  it('failing-unknown-key: without the key the credentials were sealed under, nothing is rotated or changed', async () => {
    const before = await credentialRows();
    const r = cli(['admin', 'rotate-key', '--json'], `3:${k3}`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pg-audit-gateway: rotated 0 service\(s\) to master key version 3; 3 could not be decrypted/);
    expect(r.stderr).not.toContain(k1);
    expect(await credentialRows()).toEqual(before);
  });

  it('successful: a new current key, then rotate-key: every row at the new version, idempotent', async () => {
    expect(await versions()).toEqual([1, 1, 1]);
    const r = cli(['admin', 'rotate-key', '--json'], `2:${k2},1:${k1}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ keyVersion: 2, rotated: 3, alreadyCurrent: 0 });
    expect(await versions()).toEqual([2, 2, 2]);
    const again = cli(['admin', 'rotate-key', '--json'], `2:${k2},1:${k1}`);
    expect(JSON.parse(again.stdout)).toEqual({ keyVersion: 2, rotated: 0, alreadyCurrent: 3 });
    const human = cli(['admin', 'rotate-key'], `2:${k2},1:${k1}`);
    expect(human.stdout).toBe('rotated 0 service(s) to master key version 2; 3 already there\n');
  });

  it('successful: with the old key removed, every service is still reachable (eligibility and a live policy read)', async () => {
    const g = await startTestGateway({ DATABASE_URL: db, CREDENTIALS_MASTER_KEYS: `2:${k2}` });
    try {
      for (const t of services) {
        const r = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
        expect(r.errors).toBeUndefined();
        // every check satisfied, the server's version and avnadmin read live through the decrypted URL
        expect(r.data!.auditEligibility.eligible).toBe(true);
      }
      const policy = await g.exec(services[0]!.token, POLICY, { serviceId: services[0]!.serviceId });
      expect(policy.errors).toBeUndefined();
      expect(policy.data!.auditPolicy).toMatchObject({ enabled: true, settingsSource: 'SERVER', version: 1 });
    } finally { await g.close(); }
  });

  it('failing-old-key-only: a gateway with only the retired key cannot open the rotated rows, and says so without the URL', async () => {
    const g = await startTestGateway({ DATABASE_URL: db, CREDENTIALS_MASTER_KEYS: `1:${k1}` });
    try {
      await unchanged(g, urls.pgaudit, services[0]!.serviceId, async () => {
        const r = await g.exec(services[0]!.token, ELIGIBILITY, { serviceId: services[0]!.serviceId });
        expect(r.errors![0]!.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'CREDENTIALS_UNREADABLE' });
        expect(JSON.stringify(r)).not.toContain('rotate-pw-1');
      });
    } finally { await g.close(); }
  });
});
