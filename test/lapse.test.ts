/**
 * Audit logging is disabled when the plan lapses: `admin set-plan ... false` (the built CLI) writes one lapse
 * job per enabled policy with the flag and works them at once; the server's pgaudit settings are RESET, each
 * policy gets one revision by `system` with the reason, the chain stays intact. A service that cannot be reached
 * keeps its job, retried by serve's worker (LapseWorker) until it is back. Two workers never disable one policy
 * twice. Switching the plan back on re-enables nothing; a job still pending then still runs, unless a user changed
 * the policy since.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { silentLogger } from '../src/base/logger';
import { LAPSE_FAILURE_TEXT } from '../src/modules/audit-policy/lapse.rules';
import type { LapsedScope } from '../src/modules/audit-policy/lapse.service';
import { LapseWorker } from '../src/modules/audit-policy/lapse.worker';
import { cliJson, runCli } from './support/cli';
import { CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, POLICY, resetServer, show, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

let g: TestGateway;
let cluster: PostgresCluster;
const baseDir = clusterBaseDir(path.resolve(__dirname, '../.local/test-clusters', `lapse-${process.pid}`), `lapse-${process.pid}`);
const startCluster = (port?: number) => PostgresCluster.start({ name: 'lapse-target', baseDir, binDir: debianPgBinDir(15), preloadPgaudit: true,
  fresh: port === undefined, ...(port !== undefined ? { port } : {}) });
/** What both the CLI and the test gateways run with: short retries, a quick verdict on a stopped server. */
const FAST = { LAPSE_RETRY_INTERVAL_MS: '200', TARGET_CONNECT_TIMEOUT_MS: '1000' };
const cliEnv = () => ({ ...process.env, DATABASE_URL: urls.gatewayDb, ...FAST });

beforeAll(async () => {
  cluster = await startCluster();
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `CREATE DATABASE lapse_db`).catch(() => undefined);
  g = await startTestGateway(FAST);
});
afterAll(async () => {
  await g?.close();
  await cluster?.stop();
  fs.rmSync(baseDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await resetServer(urls.pgaudit);
  await resetServer(cluster.url());
});

let n = 0;
const unique = () => `lapse-${process.pid}-${++n}-${Date.now()}`;

/** `admin set-plan <args> --json`: exit 0, one JSON object. */
const setPlan = (args: string[]) => cliJson(['admin', 'set-plan', ...args], cliEnv());

/** A second project (with a service on `url` and a token) in the tenant's organization. */
async function secondProject(t: Tenant, url: string): Promise<{ projectId: string; serviceId: string; token: string }> {
  const tenancy = g.gateway.tenancy;
  const name = unique();
  const project = await tenancy.createProject(t.organizationId, `project ${name}`, true);
  const service = await tenancy.registerService(project.id, `service ${name}`, url);
  const { token } = await tenancy.createToken(project.id, `token ${name}`, 'avnadmin');
  return { projectId: project.id, serviceId: service.id, token };
}

async function enable(token: string, serviceId: string, database?: string): Promise<string> {
  const r = (await g.exec(token, ENABLE, { input: { serviceId, database, settings: { log: ['DDL', 'WRITE'] } } })).data!.enableAuditLogging;
  expect(r.userErrors).toEqual([]);
  return r.policy.id as string;
}

const revisions = (policyId: string) => sql<{ version: number; action: string; actor: string; actor_token_id: string | null; reason: string | null }>(
  urls.gatewayDb, `SELECT version, action, actor, actor_token_id, reason FROM audit_policy_revision WHERE policy_id = $1 ORDER BY version`, [policyId]);
const jobsOf = (policyIds: string[]) => sql<{ policy_id: string; attempts: number; done_at: Date | null; outcome: string | null; last_error: string | null; reason: string }>(
  urls.gatewayDb, `SELECT policy_id::text, attempts, done_at, outcome, last_error, reason FROM policy_lapse_job WHERE policy_id = ANY($1::uuid[]) ORDER BY created_at`, [policyIds]);
const enabled = async (policyId: string) => (await sql<{ enabled: boolean }>(urls.gatewayDb, `SELECT enabled FROM audit_policy WHERE id = $1`, [policyId]))[0]!.enabled;
const nameOf = async (table: 'organization' | 'project', id: string) => (await sql<{ name: string }>(urls.gatewayDb, `SELECT name FROM ${table} WHERE id = $1`, [id]))[0]!.name;
const byPolicy = (a: { policyId: string }, b: { policyId: string }) => a.policyId.localeCompare(b.policyId);
const sorted = <T extends { policyId: string }>(xs: T[]) => [...xs].sort(byPolicy);
const unsatisfied = async (token: string, serviceId: string) => (await g.exec(token, ELIGIBILITY, { serviceId })).data!.auditEligibility.checks
  .filter((c: any) => !c.satisfied).map((c: any) => c.requirement);
const intact = (serviceId: string) => {
  const r = cliJson(['admin', 'verify-history', '--service', serviceId], cliEnv());
  return r.intact === true && r.policies.length > 0;
};
async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The one revision a lapse adds: DISABLED by system, no token, the reason. */
async function expectLapseRevision(policyId: string, reason: string): Promise<void> {
  const revs = await revisions(policyId);
  expect(revs.filter((r) => r.actor === 'system')).toHaveLength(1);
  expect(revs[revs.length - 1]).toMatchObject({ action: 'DISABLED', actor: 'system', actor_token_id: null, reason });
}

describe('admin set-plan --organization ID --pro-platform false', () => {
  it('disables every enabled policy of every service of the organization at once, as system with the reason; the plan back on re-enables nothing', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const other = await secondProject(t, cluster.url());
    const service = await enable(t.token, t.serviceId);
    const database = await enable(t.token, t.serviceId, 'lapse_db');
    const second = await enable(other.token, other.serviceId);
    const userDisabled = await enable(other.token, other.serviceId, 'postgres');
    expect((await g.exec(other.token, DISABLE, { input: { serviceId: other.serviceId, database: 'postgres' } })).data!.disableAuditLogging.userErrors).toEqual([]);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('write,ddl');
    expect(await show(cluster.url(), 'pgaudit.log')).toBe('write,ddl');
    const reason = `Pro Platform was switched off for organization ${await nameOf('organization', t.organizationId)}`;

    const out = setPlan(['--organization', t.organizationId, '--pro-platform', 'false']);
    expect(out).toMatchObject({ id: t.organizationId, proPlatform: false, alreadyDisabled: [], superseded: [], pending: [] });
    expect(sorted(out.disabled as LapsedScope[])).toEqual(sorted([
      { policyId: service, serviceId: t.serviceId, database: null },
      { policyId: database, serviceId: t.serviceId, database: 'lapse_db' },
      { policyId: second, serviceId: other.serviceId, database: null },
    ]));

    // the servers: new connections see pgaudit's defaults; nothing pgaudit is left in postgresql.auto.conf or pg_db_role_setting
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    expect(await show(urls.pgaudit, 'pgaudit.log', 'lapse_db')).toBe('none');
    expect(await show(cluster.url(), 'pgaudit.log')).toBe('none');
    expect(await sql(urls.pgaudit, `SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = 'lapse_db' AND EXISTS (SELECT 1 FROM unnest(s.setconfig) c WHERE c LIKE 'pgaudit.%')`)).toEqual([]);
    for (const url of [urls.pgaudit, cluster.url()]) {
      expect(await sql(url, `SELECT 1 FROM pg_file_settings WHERE name LIKE 'pgaudit.%' AND sourcefile LIKE '%auto.conf'`)).toEqual([]);
    }

    // the history: one revision each, by system, no token, the reason; the chains verify
    for (const id of [service, database, second]) await expectLapseRevision(id, reason);
    expect((await revisions(userDisabled)).map((r) => r.actor)).not.toContain('system');
    expect(intact(t.serviceId)).toBe(true);
    expect(intact(other.serviceId)).toBe(true);
    const history = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, first: 1 })).data!.auditPolicy;
    expect(history).toMatchObject({ enabled: false, updatedBy: 'system' });
    expect(history.history.edges[0].node).toMatchObject({ action: 'DISABLED', actor: 'system', reason });

    // the jobs: one per enabled policy, done; none for the policy its user had disabled
    expect((await jobsOf([service, database, second])).map((j) => [j.outcome, j.attempts, j.done_at !== null])).toEqual(
      [['DISABLED', 0, true], ['DISABLED', 0, true], ['DISABLED', 0, true]]);
    expect(await jobsOf([userDisabled])).toEqual([]);

    // eligibility shows the lapse, and a change is refused at once (the plan is read on every request)
    expect(await unsatisfied(t.token, t.serviceId)).toEqual(['PRO_PLATFORM']);
    const refused = (await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId } })).data!.enableAuditLogging;
    expect(refused.userErrors.map((e: any) => e.code)).toEqual(['PRO_PLATFORM_REQUIRED']);

    // back on: nothing is re-enabled, no job, no revision
    expect(setPlan(['--organization', t.organizationId, '--pro-platform', 'true'])).toEqual({ id: t.organizationId, proPlatform: true });
    expect(await unsatisfied(t.token, t.serviceId)).toEqual([]);
    for (const id of [service, database, second]) {
      expect(await enabled(id)).toBe(false);
      expect((await revisions(id)).filter((r) => r.actor === 'system')).toHaveLength(1);
    }
    expect(await jobsOf([service, database, second, userDisabled])).toHaveLength(3);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    expect(await show(cluster.url(), 'pgaudit.log')).toBe('none');

    // off again with nothing enabled: no job, an empty summary
    expect(setPlan(['--organization', t.organizationId, '--pro-platform', 'false']))
      .toEqual({ id: t.organizationId, proPlatform: false, disabled: [], alreadyDisabled: [], superseded: [], pending: [] });
  });

  it('a service that cannot be reached keeps its job (exit 0, pending: unreachable); serve\'s worker disables it once the server is back, one revision', async () => {
    const t = await createTenant(g, { serviceUrl: cluster.url() });
    const policy = await enable(t.token, t.serviceId);
    const port = cluster.port;
    await cluster.stop();
    let worker: LapseWorker | null = null;
    try {
      const r = runCli(['admin', 'set-plan', '--organization', t.organizationId, '--pro-platform', 'false', '--json'], cliEnv());
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ proPlatform: false, disabled: [], alreadyDisabled: [], superseded: [] });
      expect(out.pending).toEqual([{ policyId: policy, serviceId: t.serviceId, database: null, reason: 'unreachable', attempts: 1 }]);
      const [job] = await jobsOf([policy]);
      expect(job).toMatchObject({ attempts: 1, done_at: null, outcome: null, last_error: LAPSE_FAILURE_TEXT.unreachable });
      expect(job!.last_error).not.toMatch(/127\.0\.0\.1|postgres:\/\/|avnadmin/);
      expect(await enabled(policy)).toBe(true);
      expect((await revisions(policy)).map((x) => x.action)).toEqual(['ENABLED']);
      // the human summary names what is pending
      const human = runCli(['admin', 'set-plan', '--organization', t.organizationId, '--pro-platform', 'false'], cliEnv());
      expect(human.status).toBe(0);
      expect(human.stdout).toMatch(/0 policies.*1 pending \(retried by serve\)\npending {2}service [0-9a-f-]{36} {2}database \(service\) {2}unreachable\n$/);

      // serve's worker retries while the server is down (attempts grow, backoff), and succeeds once it is back
      worker = new LapseWorker(g.gateway.lapses, 200, silentLogger);
      worker.start();
      await until('a retry', async () => (await jobsOf([policy]))[0]!.attempts >= 3);
      expect(await enabled(policy)).toBe(true);
      cluster = await startCluster(port);
      await until('the job to finish', async () => (await jobsOf([policy]))[0]!.done_at !== null);
    } finally {
      await worker?.stop();
      if (cluster.port !== port || !fs.existsSync(path.join(cluster.dataDir, 'postmaster.pid'))) cluster = await startCluster(port).catch(() => cluster);
    }
    expect((await jobsOf([policy]))[0]).toMatchObject({ outcome: 'DISABLED', last_error: null });
    expect(await g.gateway.registry.getSingleMetricAsString('pgaudit_gateway_lapse_job_failures_total'))
      .toMatch(/^pgaudit_gateway_lapse_job_failures_total\{reason="unreachable"\} [1-9]/m);   // the CLI's two attempts were another process's
    expect(await show(cluster.url(), 'pgaudit.log')).toBe('none');
    expect(await enabled(policy)).toBe(false);
    await expectLapseRevision(policy, `Pro Platform was switched off for organization ${await nameOf('organization', t.organizationId)}`);
    expect((await revisions(policy)).map((x) => x.action)).toEqual(['ENABLED', 'DISABLED']);
    expect(intact(t.serviceId)).toBe(true);
  });

  it('two workers on one queue (two gateways): exactly one revision per policy', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const other = await secondProject(t, cluster.url());
    const ids = [await enable(t.token, t.serviceId), await enable(t.token, t.serviceId, 'lapse_db'), await enable(other.token, other.serviceId),
      await enable(other.token, other.serviceId, 'postgres')];
    const jobs = await g.gateway.lapses.setProPlatform(t.organizationId, false);   // written, not worked
    expect(jobs).toHaveLength(4);
    const metric = async (gw: TestGateway, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await gw.gateway.registry.getSingleMetricAsString(name))![1]);
    const disabledBefore = await metric(g, 'pgaudit_gateway_lapse_policies_disabled_total');
    const g2 = await startTestGateway(FAST);
    try {
      const [a, b] = await Promise.all([g.gateway.lapses.runDue({ batch: 1 }), g2.gateway.lapses.runDue({ batch: 1 })]);
      expect(sorted([...a.disabled, ...b.disabled]).map((s) => s.policyId)).toEqual([...ids].sort());
      expect([...a.pending, ...b.pending, ...a.alreadyDisabled, ...b.alreadyDisabled]).toEqual([]);
      for (const id of ids) expect((await revisions(id)).filter((r) => r.actor === 'system')).toHaveLength(1);
      expect(await metric(g, 'pgaudit_gateway_lapse_policies_disabled_total') - disabledBefore
        + await metric(g2, 'pgaudit_gateway_lapse_policies_disabled_total')).toBe(4);
      // the gauge is what a pass counted at its end (the other worker may still have held a job then): a pass with nothing to do says 0
      expect(await g.gateway.lapses.runDue()).toEqual({ disabled: [], alreadyDisabled: [], superseded: [], pending: [] });
      expect(await metric(g, 'pgaudit_gateway_lapse_jobs_pending')).toBe(0);

      // the same disable run twice at once (e.g. a claim that ran out): the row lock lets one through, the other finds it disabled
      setPlan(['--organization', t.organizationId, '--pro-platform', 'true']);
      const again = await enable(t.token, t.serviceId);
      const outcomes = await Promise.all([g.gateway.policies.disableForLapse(again, 'race', null), g2.gateway.policies.disableForLapse(again, 'race', null)]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['disabled', 'notEnabled']);
      expect((await revisions(again)).filter((r) => r.reason === 'race')).toHaveLength(1);
    } finally {
      await g2.close();
    }
    expect(intact(t.serviceId)).toBe(true);
    expect(intact(other.serviceId)).toBe(true);
  });
});

describe('admin set-plan --project ID --pro-features false', () => {
  it('disables the project\'s policies only, with the project in the reason; eligibility shows PRO_FEATURES', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const other = await secondProject(t, cluster.url());
    const mine = await enable(t.token, t.serviceId, 'lapse_db');
    const theirs = await enable(other.token, other.serviceId);
    const out = setPlan(['--project', t.projectId, '--pro-features', 'false']);
    expect(out).toEqual({ id: t.projectId, proFeatures: false, disabled: [{ policyId: mine, serviceId: t.serviceId, database: 'lapse_db' }],
      alreadyDisabled: [], superseded: [], pending: [] });
    expect(await show(urls.pgaudit, 'pgaudit.log', 'lapse_db')).toBe('none');
    await expectLapseRevision(mine, `Pro Features was switched off for project ${await nameOf('project', t.projectId)}`);
    expect(await unsatisfied(t.token, t.serviceId)).toEqual(['PRO_FEATURES']);
    // the organization's other project is untouched
    expect(await enabled(theirs)).toBe(true);
    expect(await show(cluster.url(), 'pgaudit.log')).toBe('write,ddl');
    expect(await jobsOf([theirs])).toEqual([]);
    expect(await unsatisfied(other.token, other.serviceId)).toEqual([]);
  });

  it('a job still pending when the plan comes back on still runs (the lapse happened); one the user overtook by re-enabling is left alone', async () => {
    const t = await createTenant(g, { serviceUrl: urls.pgaudit });
    const policy = await enable(t.token, t.serviceId);
    const reason = `Pro Features was switched off for project ${await nameOf('project', t.projectId)}`;
    expect(await g.gateway.lapses.setProFeatures(t.projectId, false)).toHaveLength(1);   // written, not worked yet
    expect(setPlan(['--project', t.projectId, '--pro-features', 'true'])).toEqual({ id: t.projectId, proFeatures: true });
    expect((await jobsOf([policy]))[0]!.done_at).toBeNull();
    const s = await g.gateway.lapses.runDue();
    expect(s.disabled).toEqual([{ policyId: policy, serviceId: t.serviceId, database: null }]);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('none');
    await expectLapseRevision(policy, reason);

    // lapse again while enabled, back on, and the user changes the policy before the job runs: the job is superseded
    await enable(t.token, t.serviceId);
    expect(await g.gateway.lapses.setProFeatures(t.projectId, false)).toHaveLength(1);
    setPlan(['--project', t.projectId, '--pro-features', 'true']);
    const configured = (await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings: { log: ['DDL'] } } })).data!.configureAuditLogging;
    expect(configured.userErrors).toEqual([]);
    const s2 = await g.gateway.lapses.runDue();
    expect(s2.superseded).toEqual([{ policyId: policy, serviceId: t.serviceId, database: null }]);
    expect(s2.disabled).toEqual([]);
    expect(await enabled(policy)).toBe(true);
    expect(await show(urls.pgaudit, 'pgaudit.log')).toBe('ddl');
    expect((await revisions(policy)).filter((r) => r.actor === 'system')).toHaveLength(1);
    expect((await jobsOf([policy])).map((j) => j.outcome)).toEqual(['DISABLED', 'SUPERSEDED']);
    expect(intact(t.serviceId)).toBe(true);
  });
});

it('set-plan --help documents the lapse and its retries', () => {
  const r = runCli(['--help'], cliEnv());
  expect(r.stdout).toMatch(/audit logging is disabled on every enabled policy/);
  expect(r.stdout).toMatch(/LAPSE_RETRY_INTERVAL_MS/);
});
