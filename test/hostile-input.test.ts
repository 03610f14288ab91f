/**
 * The hostile-input suite (issue 10, Tests): at least 2,000 distinct requests generated from a seed
 * (test/support/hostile-corpus.ts) against the real `serve` process, on raw sockets, 8 at a time. For every
 * answer: no 5xx, an answer at all (except where the client left), no stack trace, file path, connection URL,
 * password, cluster port, token, or any of tenant B's markers (tenant A sends every request, with B's service
 * id, event id and cursors among them). B's service is a server of its own, as every service is in production:
 * A's service may show everything its own server holds (auditScopes lists every database and role there). Between batches and at the end the process must be up (a crash is
 * counted and the process started again, so one crash does not hide the rest). After the run the target
 * server holds exactly what A's accepted calls applied: B's database settings, every other database's
 * settings and every object (databases, roles, extensions, relations, functions) are as before.
 *
 * HOSTILE_SEED (default 20261130) and HOSTILE_REQUESTS (default 2000) change the corpus; the figures go to
 * stdout and to .local/hostile-report.json (requests tried, 5xx, crashes, leaks, answers by status and family).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gatewaySchema } from '../src/api/schema';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { CLI, ROOT } from './support/cli';
import { hostileCorpus, HostileRequest, httpWire, INJECTIONS } from './support/hostile-corpus';
import { leakRules, leaksIn, sendRaw, WireReply } from './support/hostile-wire';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { createTenant, ENABLE, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { historyState } from './support/unchanged';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261130);
const COUNT = Math.max(Number(process.env.HOSTILE_REQUESTS ?? 2000), 1);
const CONCURRENCY = 8;
const BATCH = 100;
const MAX_BODY_BYTES = 1024 * 1024;
const METRICS_TOKEN = `hostile-metrics-${randomBytes(8).toString('hex')}`;
const PIT_KEEP_ALIVE_SECONDS = '10';
/** The filter of the export whose resume tokens the corpus uses (tenant A's events). */
const EXPORT_FILTER = { databases: ['hostilea_db'] };

/**
 * The gateway's environment for this suite: short HTTP timeouts so slow bodies end fast, the default body
 * limit. Configuration that would make answers depend on timing (a rate limit, say) is switched off here:
 * add its variables to this object (a 429 is an accepted answer, but it would cover less of the corpus).
 */
const SUITE_GATEWAY_ENV: Record<string, string> = {
  MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  HTTP_HEADERS_TIMEOUT_MS: '1500',
  HTTP_REQUEST_TIMEOUT_MS: '3000',
  HTTP_KEEPALIVE_TIMEOUT_MS: '1000',
  TARGET_CONNECT_TIMEOUT_MS: '3000',
  LOG_LEVEL: 'info',
  // The rate limits off: 2,000 requests of one token from one address would mostly be answered 429, which
  // says nothing about how the rest of the gateway takes hostile input (test/rate-limit.test.ts covers them).
  RATE_LIMIT_BUCKET_POINTS: '0',
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0',
  // a live tail the corpus opens ends after a second (SUBSCRIPTION_ENDED) instead of holding its connection for the
  // client's whole wait; /metrics, to check afterwards that every tail closed and no export failed on its own
  TAIL_MAX_LIFETIME_MS: '1000',
  METRICS_TOKEN: METRICS_TOKEN,
  // partial exports keep their point in time for a resume: short-lived here, so none outlives the suite by much
  // (afterAll waits for them: test/export.test.ts counts the cluster's PITs)
  EXPORT_PIT_KEEP_ALIVE_SECONDS: PIT_KEEP_ALIVE_SECONDS,
};

const EVENT_FIELDS = 'id statement user database objectName sessionId';

let g: TestGateway;
let a: Tenant;
let b: Tenant & { database: string };
let aEventId: string;
let bEventId: string;
let foreignCursors: string[] = [];
let exportResume: string;
let foreignExportResume: string;
const marker = `hostilebmark${randomBytes(6).toString('hex')}`;
const passwords = { a: `pwA-${randomBytes(9).toString('hex')}`, b: `pwB-${randomBytes(9).toString('hex')}` };

const withPassword = (url: string, password: string) => { const u = new URL(url); u.password = password; return u.toString(); };
const portOf = (url: string) => Number(new URL(url).port);

function eventDoc(t: Tenant, i: number, text: string): AuditEventDocument {
  return { id: randomUUID().replace(/-/g, ''), serviceId: t.serviceId, projectId: t.projectId, organizationId: t.organizationId,
    timestamp: new Date(Date.now() - (i + 1) * 60_000).toISOString(), auditType: 'SESSION', statementId: i + 1, substatementId: 1,
    class: 'WRITE', command: 'INSERT', objectType: 'TABLE', objectName: `public.${text}_t`, statement: `INSERT INTO ${text}_t VALUES ('${text}')`,
    statementStatus: 'LOGGED', parameters: [`${text}-param`], rows: null, user: `${text}_user`, database: `${text}_db`, sessionId: `${text}-session`,
    sessionLineNum: i + 1, applicationName: `${text}-app`, remoteHost: null };
}

/** Everything a request could leave behind on a server: databases, roles, and per database its extensions, relations, functions, settings. */
async function targetObjects(url: string): Promise<unknown> {
  const dbs = await sql<{ datname: string }>(url, `SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1`);
  const perDb: Record<string, unknown> = {};
  for (const { datname } of dbs) {
    perDb[datname] = {
      extensions: await sql(url, `SELECT extname FROM pg_extension ORDER BY 1`, [], datname),
      relations: await sql(url, `SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2`, [], datname),
      functions: await sql(url, `SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`, [], datname),
      eventTriggers: await sql(url, `SELECT evtname FROM pg_event_trigger ORDER BY 1`, [], datname),
    };
  }
  return {
    databases: dbs.map((d) => d.datname),
    roles: (await sql<{ rolname: string }>(url, `SELECT rolname FROM pg_roles ORDER BY 1`)).map((r) => r.rolname),
    perDb,
  };
}

const dbSettings = (url: string) => sql<{ datname: string; setconfig: string[] | null }>(url,
  `SELECT d.datname, s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = 0 ORDER BY 1`);

// --- the gateway under test: a real `serve` process -----------------------------------------------------------

interface Served { child: ChildProcess; port: number; stderr: string[] }
let served: Served;
const crashes: { code: number | null; signal: string | null; at: number }[] = [];

async function startServe(): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DATABASE_URL: urls.gatewayDb, PORT: '0', ...SUITE_GATEWAY_ENV } });
  const stderr: string[] = [];
  let pending = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr.join('\n')}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      stderr.push(...lines);
      const m = lines.map((l) => /"msg":"listening".*"port":(\d+)/.exec(l)).find(Boolean);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${stderr.join('\n')}`)); });
  });
  return { child, port, stderr };
}

async function healthy(): Promise<boolean> {
  const r = await sendRaw(served.port, { family: 'health', label: 'healthz', chunks: [httpWire('GET', '/healthz', [])] }, 10_000);
  return r.statuses[0] === 200;
}

/** The process is up and answers; a dead one is counted as a crash and started again. */
async function ensureUp(at: number): Promise<void> {
  if (served.child.exitCode !== null || served.child.signalCode !== null || !(await healthy())) {
    crashes.push({ code: served.child.exitCode, signal: served.child.signalCode, at });
    served.child.kill('SIGKILL');
    const old = served.stderr;
    served = await startServe();
    served.stderr.unshift(...old);
  }
}

// --- the run ----------------------------------------------------------------------------------------------------

interface Finding { kind: '5xx' | 'internal error' | 'no answer' | 'leak' | 'unbounded'; family: string; label: string; detail: string }

/** The largest refusal (4xx) of POST /export or /graphql/stream: one error with a bounded message, whatever was sent. */
const MAX_ROUTE_REFUSAL_BYTES = 4096;

/** The serve process's metrics (Prometheus text), as series -> value. */
async function scrapeServed(): Promise<Map<string, number>> {
  const r = await sendRaw(served.port, { family: 'metrics', label: 'metrics', chunks: [httpWire('GET', '/metrics', [['authorization', `Bearer ${METRICS_TOKEN}`]])] }, 10_000);
  const out = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    const m = /^(pgaudit_gateway_[^ ]+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

let clusterB: PostgresCluster;
const baseDirB = clusterBaseDir(path.resolve(__dirname, '../.local/test-clusters', `hostile-b-${process.pid}`), `hostile-b-${process.pid}`);

beforeAll(async () => {
  await resetServer(urls.pgaudit);
  clusterB = await PostgresCluster.start({ name: 'tenant-b', baseDir: baseDirB, binDir: debianPgBinDir(15), preloadPgaudit: true });
  g = await startTestGateway({ EXPORT_PIT_KEEP_ALIVE_SECONDS: PIT_KEEP_ALIVE_SECONDS });
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: withPassword(urls.pgaudit, passwords.a) });
  // Tenant B: every name carries the marker; its service URL another password; a database-level policy on a database of its own.
  const t = g.gateway.tenancy;
  const org = await t.createOrganization(`org-${marker}`, true);
  const project = await t.createProject(org.id, `project-${marker}`, true);
  const service = await t.registerService(project.id, `service-${marker}`, withPassword(clusterB.url(), passwords.b));
  const { token } = await t.createToken(project.id, `token-${marker}`, 'avnadmin');
  b = { organizationId: org.id, projectId: project.id, serviceId: service.id, token, database: `db_${marker}` };
  await sql(clusterB.url(), `CREATE DATABASE "${b.database}"`);

  // A: a service-level policy (a legitimate call); B: its database-level policy.
  const ea = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, reason: 'baseline' } });
  expect(ea.data!.enableAuditLogging.userErrors).toEqual([]);
  const eb = await g.exec(b.token, ENABLE, { input: { serviceId: b.serviceId, database: b.database, reason: `reason-${marker}`,
    settings: { log: ['ALL'], role: '' } } });
  expect(eb.errors).toBeUndefined();
  expect(eb.data!.enableAuditLogging.userErrors).toEqual([]);

  // Events of both; B's carry the marker in every text field.
  const docsA = Array.from({ length: 5 }, (_, i) => eventDoc(a, i, 'hostilea'));
  const docsB = Array.from({ length: 5 }, (_, i) => eventDoc(b, i, marker));
  expect((await g.gateway.eventStore!.bulkIndex([...docsA, ...docsB])).rejected).toEqual([]);
  await g.gateway.eventStore!.refresh();
  aEventId = docsA[0]!.id;
  bEventId = docsB[0]!.id;
  const cursors = await g.exec(b.token, `query($s: ID!, $d: String) { auditEvents(serviceId: $s, first: 1) { pageInfo { endCursor } edges { node { ${EVENT_FIELDS} } } }
    auditPolicy(serviceId: $s, database: $d) { history(first: 1) { pageInfo { endCursor } } } }`, { s: b.serviceId, d: b.database });
  expect(cursors.errors).toBeUndefined();
  expect(JSON.stringify(cursors.data)).toContain(marker);   // B's own token does see B's data: the markers are real
  foreignCursors = [cursors.data!.auditEvents.pageInfo.endCursor, cursors.data!.auditPolicy.history.pageInfo.endCursor].filter(Boolean);
  expect(foreignCursors).toHaveLength(2);

  // resume tokens of a partial export of A's events and of B's (the corpus forges, cuts and swaps them)
  const partialResume = async (token: string, serviceId: string, filter: Record<string, unknown>) => {
    const principal = (await g.gateway.tenancy.authenticate(token))!;
    const run = await g.gateway.exports.start(principal, { serviceId, format: 'ndjson', filter, limit: 1 });
    const outcome = await run.run({ write: async () => undefined });
    expect(outcome.status).toBe('partial');
    return outcome.resume!;
  };
  exportResume = await partialResume(a.token, a.serviceId, EXPORT_FILTER);
  foreignExportResume = await partialResume(b.token, b.serviceId, { databases: [`${marker}_db`] });

  served = await startServe();
}, 120_000);

afterAll(async () => {
  served?.child.kill('SIGTERM');
  // the partial exports' points in time lapse (EXPORT_PIT_KEEP_ALIVE_SECONDS): none is left for the next suite
  for (let i = 0; i < 60; i++) {
    const body = await (await fetch(`${process.env.OPENSEARCH_URL}/_search/point_in_time/_all`)).json() as { pits?: unknown[] };
    if ((body.pits?.length ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await g?.close();
  await clusterB?.stop();
  fs.rmSync(baseDirB, { recursive: true, force: true });
  await resetServer(urls.pgaudit);
});

it(`successful-hostile-corpus: ${COUNT} generated requests (seed ${SEED}): no 5xx, no crash, no leak, the target unharmed`, async () => {
  const started = Date.now();
  const objectsBefore = await targetObjects(urls.pgaudit);
  const settingsBefore = await dbSettings(urls.pgaudit);
  const bSettingsBefore = await dbSettings(clusterB.url());
  const bObjectsBefore = await targetObjects(clusterB.url());
  const bHistoryBefore = await historyState(g, b.serviceId);
  const aRevisionsBefore = await g.gateway.db.prisma.auditPolicyRevision.count({ where: { policy: { serviceId: a.serviceId } } });

  const corpus = hostileCorpus(gatewaySchema(), {
    token: a.token, serviceId: a.serviceId, eventId: aEventId, foreignServiceId: b.serviceId, foreignEventId: bEventId,
    foreignCursors, maxBodyBytes: MAX_BODY_BYTES, exportResume, foreignExportResume, exportFilter: EXPORT_FILTER,
  }, SEED, COUNT);
  expect(corpus.length).toBe(COUNT);

  const rules = leakRules({
    secrets: [passwords.a, passwords.b, a.token, b.token],
    foreignMarkers: [marker, b.projectId, b.organizationId],
    root: ROOT,
    clusterPorts: [portOf(urls.pgaudit), portOf(urls.gatewayDb), portOf(urls.pg10), portOf(process.env.OPENSEARCH_URL!), portOf(clusterB.url())],
    clientText: INJECTIONS.join('\n'),
  });
  const findings: Finding[] = [];
  const statuses: Record<string, number> = {};
  const families: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const judge = (req: HostileRequest, reply: WireReply) => {
    families[req.family.replace(/^field:.*/, 'field')] = (families[req.family.replace(/^field:.*/, 'field')] ?? 0) + 1;
    for (const s of reply.statuses) statuses[s] = (statuses[s] ?? 0) + 1;
    if (reply.statuses.length === 0) statuses.none = (statuses.none ?? 0) + 1;
    for (const m of reply.text.matchAll(/"code":"([A-Z_]+)"/g)) codes[m[1]!] = (codes[m[1]!] ?? 0) + 1;
    const fail = (kind: Finding['kind'], detail: string) => findings.push({ kind, family: req.family, label: req.label, detail: detail.slice(0, 400) });
    for (const s of reply.statuses) if (s >= 500) fail('5xx', `${s}: ${reply.text.slice(0, 300)}`);
    // an unexpected fault inside GraphQL execution (HTTP 200 with an INTERNAL_SERVER_ERROR error) is a bug like a 500
    if (!reply.statuses.some((s) => s >= 500) && reply.text.includes('"code":"INTERNAL_SERVER_ERROR"')) fail('internal error', reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4, 600));
    if (reply.statuses.length === 0 && !req.abort && req.family !== 'slow') fail('no answer', `closed=${reply.closed} after ${reply.ms} ms`);
    if (req.family === 'slow' && !reply.closed) fail('no answer', `a slow client was still connected after ${reply.ms} ms`);
    for (const l of leaksIn(reply.text, rules)) fail('leak', `${l.rule}: ${l.excerpt}`);
    if (/\r\nx-injected:/i.test(reply.text.split('\r\n\r\n')[0]!)) fail('leak', 'a header injected by the client came back as a header');
    if ((req.family === 'export' || req.family === 'stream') && reply.statuses.some((s) => s >= 400) && Buffer.byteLength(reply.text) > MAX_ROUTE_REFUSAL_BYTES) {
      fail('unbounded', `a refusal of ${Buffer.byteLength(reply.text)} bytes: ${reply.text.slice(0, 200)}`);
    }
  };

  for (let batch = 0; batch < corpus.length; batch += BATCH) {
    const slice = corpus.slice(batch, batch + BATCH);
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < slice.length) {
        const req = slice[next++]!;
        judge(req, await sendRaw(served.port, req, 20_000));
      }
    }));
    await ensureUp(batch + slice.length);   // the process is up between batches
  }
  await ensureUp(corpus.length);
  const up = await healthy();
  // every live tail the corpus opened is closed (the clients are gone, the lifetime is a second); no export stopped on a fault
  let m = await scrapeServed();
  for (let i = 0; i < 50 && (m.get('pgaudit_gateway_tail_subscriptions_open') ?? -1) !== 0; i++) { await new Promise((r) => setTimeout(r, 100)); m = await scrapeServed(); }
  const routes = {
    tailsOpenAfter: m.get('pgaudit_gateway_tail_subscriptions_open') ?? null,
    tailsEnded: Object.fromEntries([...m].filter(([k]) => k.startsWith('pgaudit_gateway_tail_subscriptions_ended_total')).map(([k, v]) => [k.replace(/.*reason="([^"]+)".*/, '$1'), v])),
    tailEventsDelivered: m.get('pgaudit_gateway_tail_events_delivered_total') ?? 0,
    exportsStarted: (m.get('pgaudit_gateway_exports_started_total{format="ndjson"}') ?? 0) + (m.get('pgaudit_gateway_exports_started_total{format="csv"}') ?? 0),
    exportsEnded: Object.fromEntries([...m].filter(([k]) => k.startsWith('pgaudit_gateway_exports_ended_total')).map(([k, v]) => [k.replace(/.*status="([^"]+)".*/, '$1'), v])),
    exportsFailed: Object.fromEntries([...m].filter(([k]) => k.startsWith('pgaudit_gateway_exports_failed_total')).map(([k, v]) => [k.replace(/.*code="([^"]+)".*/, '$1'), v])),
  };

  // Faults the process logged (5xx answers, or rejections that escaped request handling).
  const logged = served.stderr.flatMap((l) => { try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; } });
  const escaped = logged.filter((l) => /unhandled rejection|uncaught exception/.test(String(l.msg)));
  const errorsLogged = logged.filter((l) => l.level === 'error');
  const logLeaks = leaksIn(served.stderr.join('\n'), leakRules({ secrets: [passwords.a, passwords.b, a.token, b.token], foreignMarkers: [],
    root: '\u0000never', clusterPorts: [], clientText: '' }).filter((r) => /secret|token|connection URL/.test(r.name)));

  // The target: B's policy, every other database's settings and every object as before; A's scopes hold what A's accepted calls applied.
  const objectsAfter = await targetObjects(urls.pgaudit);
  const settingsAfter = await dbSettings(urls.pgaudit);
  const aPolicies = await g.gateway.db.prisma.auditPolicy.findMany({ where: { serviceId: a.serviceId } });
  const aDatabases = new Set(aPolicies.map((p) => p.database).filter(Boolean));
  const aRevisions = await g.gateway.db.prisma.auditPolicyRevision.count({ where: { policy: { serviceId: a.serviceId } } });
  const scopes: unknown[] = [];
  for (const p of aPolicies) {
    const r = await g.exec(a.token, `query($s: ID!, $d: String) { auditPolicy(serviceId: $s, database: $d) { enabled settingsSource
      settings { log logExclude logCatalog logClient logLevel logParameter logParameterMaxSize logRelation logRows logStatement logStatementOnce role }
      history(first: 1) { edges { node { action settings { log logExclude logCatalog logClient logLevel logParameter logParameterMaxSize logRelation logRows logStatement logStatementOnce role } } } } } }`,
    { s: a.serviceId, d: p.database || null });
    expect(r.errors).toBeUndefined();
    const pol = r.data!.auditPolicy;
    if (pol.enabled) {
      expect({ database: p.database, source: pol.settingsSource, settings: pol.settings })
        .toEqual({ database: p.database, source: 'SERVER', settings: pol.history.edges[0].node.settings });
    } else if (p.database) {
      expect((settingsAfter.find((s) => s.datname === p.database)?.setconfig ?? []).filter((c) => c.startsWith('pgaudit.'))).toEqual([]);
    } else {
      expect(await sql(urls.pgaudit, `SELECT name FROM pg_file_settings WHERE name LIKE 'pgaudit.%'`)).toEqual([]);
    }
    scopes.push({ database: p.database || null, enabled: pol.enabled, version: p.version });
  }

  const report = {
    seed: SEED, requests: corpus.length, seconds: Math.round((Date.now() - started) / 100) / 10,
    fiveXx: findings.filter((f) => f.kind === '5xx').length, unbounded: findings.filter((f) => f.kind === 'unbounded').length, routes, internalErrors: findings.filter((f) => f.kind === 'internal error').length, noAnswer: findings.filter((f) => f.kind === 'no answer').length,
    crashes: crashes.length, escapedRejections: escaped.length, leaks: findings.filter((f) => f.kind === 'leak').length + logLeaks.length,
    errorsLogged: errorsLogged.length, acceptedChangesOfA: aRevisions - aRevisionsBefore, scopesOfA: scopes,
    byFamily: families, byStatus: statuses, byCode: codes, findings: findings.slice(0, 50),
    errorLines: errorsLogged.slice(0, 50),
  };
  fs.mkdirSync(path.join(ROOT, '.local'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.local/hostile-report.json'), JSON.stringify(report, null, 2));
  console.log(`hostile-input: ${report.requests} requests (seed ${SEED}) in ${report.seconds} s: ${report.fiveXx} 5xx, ${report.crashes} crashes, `
    + `${report.internalErrors} INTERNAL_SERVER_ERROR, ${report.leaks} leaks, ${report.noAnswer} without an answer, ${report.escapedRejections} escaped rejections; `
    + `${report.acceptedChangesOfA} changes of A accepted; statuses ${JSON.stringify(statuses)}; families ${JSON.stringify(families)}; `
    + `routes ${JSON.stringify(routes)}; report .local/hostile-report.json`);

  // The judge is not blind: B's own answer (B's token), a real stack trace and a credential break its rules.
  const own = await sendRaw(served.port, { family: 'control', label: 'B reads its own events', chunks: [httpWire('POST', '/graphql',
    [['content-type', 'application/json'], ['authorization', `Bearer ${b.token}`]],
    JSON.stringify({ query: `query($s: ID!) { auditEvents(serviceId: $s, first: 1) { edges { node { ${EVENT_FIELDS} } } } }`, variables: { s: b.serviceId } }))] }, 10_000);
  expect(leaksIn(own.text, rules).map((l) => l.rule)).toContain("other tenant's marker #1");
  expect(leaksIn(String(new Error('control').stack), rules).map((l) => l.rule)).toEqual(expect.arrayContaining(['stack trace', 'source path']));
  expect(leaksIn(withPassword(urls.pgaudit, passwords.a), rules).map((l) => l.rule))
    .toEqual(expect.arrayContaining(['connection URL', `cluster port ${portOf(urls.pgaudit)}`, 'secret #1']));

  expect(findings.slice(0, 20)).toEqual([]);
  expect(routes.tailsOpenAfter).toBe(0);
  expect(routes.exportsStarted).toBeGreaterThan(0);
  expect(routes.exportsEnded.error ?? 0).toBe(0);
  expect(routes.exportsFailed.INTERNAL_SERVER_ERROR ?? 0).toBe(0);
  expect(routes.exportsFailed.SERVICE_UNAVAILABLE ?? 0).toBe(0);
  expect(crashes).toEqual([]);
  expect(up).toBe(true);
  expect(escaped.map((l) => l.error)).toEqual([]);
  expect(logLeaks).toEqual([]);
  expect(objectsAfter).toEqual(objectsBefore);
  // databases without a policy of A (B's among them) keep their settings; B's history did not move
  expect(settingsAfter.filter((s) => !aDatabases.has(s.datname))).toEqual(settingsBefore.filter((s) => !aDatabases.has(s.datname)));
  expect(await historyState(g, b.serviceId)).toEqual(bHistoryBefore);
  // B's own server: untouched by anything A sent
  expect(await dbSettings(clusterB.url())).toEqual(bSettingsBefore);
  expect(await targetObjects(clusterB.url())).toEqual(bObjectsBefore);
}, 600_000);
