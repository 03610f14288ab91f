/**
 * failing-apply: when the server does not end up with what was applied, the gateway restores the
 * previous settings, answers APPLY_FAILED, and records nothing. A real way to get there: a value in
 * postgresql.conf survives ALTER SYSTEM RESET, so `disable` cannot bring pgaudit.log back to 'none'.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, POLICY, show, sql, startTestGateway, Tenant, TestGateway } from './support/harness';
import { historyState } from './support/unchanged';

let g: TestGateway;
let cluster: PostgresCluster;
let t: Tenant;
const baseDir = clusterBaseDir(path.resolve(__dirname, '../.local/test-clusters', `apply-failed-${process.pid}`), `apply-failed-${process.pid}`);

/** The pgaudit lines of postgresql.auto.conf, as a set (ALTER SYSTEM may reorder them). */
const autoConf = async () => (await sql<{ name: string; setting: string }>(cluster.url(),
  `SELECT name, setting FROM pg_file_settings WHERE name LIKE 'pgaudit.%' AND sourcefile LIKE '%auto.conf'`))
  .map((r) => `${r.name}=${r.setting}`).sort();

beforeAll(async () => {
  cluster = await PostgresCluster.start({ name: 'pinned-conf', baseDir, binDir: debianPgBinDir(15), preloadPgaudit: true,
    settings: { 'pgaudit.log': "'ddl'" } });
  g = await startTestGateway({ APPLY_READBACK_TIMEOUT_MS: '1000' });
  t = await createTenant(g, { serviceUrl: cluster.url() });
});
afterAll(async () => {
  await g.close();
  await cluster?.stop();
  fs.rmSync(baseDir, { recursive: true, force: true });
});

/** Enable with log READ and log_rows: applied the first time; again, the same settings change nothing (no revision). */
async function enableRead(): Promise<any> {
  const r = (await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, settings: { log: ['READ'], logRows: true } } })).data!.enableAuditLogging;
  expect(r.userErrors).toEqual([]);
  return r;
}

it('successful-enable over a postgresql.conf value: ALTER SYSTEM wins', async () => {
  const r = await enableRead();
  expect(r.revision.changes).toEqual(expect.arrayContaining([{ setting: 'pgaudit.log', from: 'ddl', to: 'read' }]));
  expect(await show(cluster.url(), 'pgaudit.log')).toBe('read');
});

it('failing-apply: disable cannot reset a postgresql.conf value; the server is restored and nothing is recorded', async () => {
  await enableRead();                      // the state the first test leaves (a no-op after it): this test also runs alone
  const history = await historyState(g, t.serviceId);
  const confBefore = await autoConf();
  const r = (await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, reason: 'try' } })).data!.disableAuditLogging;
  expect(r.userErrors).toEqual([expect.objectContaining({ code: 'APPLY_FAILED' })]);
  expect(r.userErrors[0].message).toMatch(/pgaudit\.log is 'ddl', expected 'none'.*restored/);
  expect(r.revision).toBeNull();
  expect(r.policy).toBeNull();
  expect(await historyState(g, t.serviceId)).toEqual(history);
  expect(await autoConf()).toEqual(confBefore);
  for (let i = 0; i < 200 && (await show(cluster.url(), 'pgaudit.log')) !== 'read'; i++) await new Promise((res) => setTimeout(res, 10));
  expect(await show(cluster.url(), 'pgaudit.log')).toBe('read');
  expect(await show(cluster.url(), 'pgaudit.log_rows')).toBe('on');
  const policy = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
  expect(policy).toMatchObject({ enabled: true, version: 1 });
});

it('failing-unreachable: with the server down, mutations say SERVICE_UNREACHABLE and the policy shows the last applied settings', async () => {
  await enableRead();                      // the state the first test leaves (a no-op after it): this test also runs alone
  await cluster.stop();
  const history = await historyState(g, t.serviceId);
  const c = (await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings: { logRows: false } } })).data!.configureAuditLogging;
  expect(c.userErrors).toEqual([expect.objectContaining({ code: 'SERVICE_UNREACHABLE' })]);
  expect(JSON.stringify(c)).not.toContain(String(cluster.port));           // no connection details leak
  expect(await historyState(g, t.serviceId)).toEqual(history);
  const e = (await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId })).data!.auditEligibility;
  expect(e.eligible).toBe(false);
  expect(e.checks.find((x: any) => x.requirement === 'POSTGRES_VERSION').detail).toMatch(/could not be reached/);
  const p = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
  expect(p).toMatchObject({ settingsSource: 'LAST_APPLIED', version: 1, enabled: true });
  expect(p.settings).toMatchObject({ log: ['READ'], logRows: true });
});
