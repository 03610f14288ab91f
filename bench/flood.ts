/**
 * A flood against one tenant's service, and what a second tenant sees meanwhile (issue 10, item 3). In the same
 * run, against the same gateway process:
 *   1. one request with as many aliases as the limits allow: the most backends it holds on the target;
 *   2. a second tenant's cheap control-path read (auditEligibility of its own service, a server on the same
 *      cluster) under load WITHOUT a flood: requests/s (the baseline);
 *   3. the same load WHILE 50 concurrent clients send max-alias queries for the first tenant's service: its
 *      requests/s beside the baseline, and the most backends the flooded service had from the gateway.
 * Steps 2 and 3 run twice: on the bench's gateway, whose rate limit is off (the flooding tenant spends without
 * bound, as if it held any number of tokens: the connection cap alone protects the second tenant), and on a
 * second gateway process with the per-token rate limit on (the flood's one token is throttled to its bucket).
 * Backends are counted on the target itself (pg_stat_activity: target.session.ts's application_name, by
 * database), by a sampler polling throughout. The flooding tenant may be answered SERVICE_BUSY or RATE_LIMITED
 * (counted, not refused); the second tenant's load is refused on any error (load.ts).
 */
import 'reflect-metadata';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { DEFAULT_GRAPHQL_LIMITS, loadConfig } from '../src/base/config';
import { SERVICE_BUSY_MESSAGE } from '../src/modules/audit-policy/target/target.connector';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { BenchEnvironment } from './environment';
import { LoadRequest, measureLoad } from './load';
import { Figure, markdown } from './report';

export const FLOOD_CLIENTS = 50;
const QUIET_DB = 'bench_second_tenant';
/** The second tenant's connections: a console polling, not a flood of its own. */
const SECOND_TENANT_CONNECTIONS = 2;
/**
 * The rate-limited gateway's restore rate: room for the second tenant's own load (see measureFlood), with a margin.
 * 1000/s (40 requests/s of 25 points) was refused on a quiet machine, where 2 connections reach ~45 requests/s.
 */
const LIMITED_RESTORE_PER_SECOND = 5000;

const ALIASES = Math.min(DEFAULT_GRAPHQL_LIMITS.maxAliases, DEFAULT_GRAPHQL_LIMITS.maxRootFields);
const maxAliasQuery = (serviceId: string) =>
  `{ ${Array.from({ length: ALIASES }, (_, i) => `a${i}: auditEligibility(serviceId: "${serviceId}") { eligible checks { satisfied } }`).join(' ')} }`;
const ELIGIBILITY = 'query($s: ID!) { auditEligibility(serviceId: $s) { eligible } }';

/** Polls pg_stat_activity on its own connection: the gateway's backends on one database, the largest count seen. */
async function startSampler(url: string, database: string): Promise<{ stop(): Promise<{ peak: number; samples: number }> }> {
  const c = new Client({ connectionString: url, application_name: 'pga-bench-sampler' });
  c.on('error', () => undefined);   // a failure elsewhere stops the servers: the run reports that one, not this connection's end
  await c.connect();
  let peak = 0;
  let samples = 0;
  let polling = true;
  // a failed poll ends the loop and is rethrown by stop(), never left as an unhandled rejection (which would kill
  // the run before the error that stopped the servers is reported)
  const loop = (async () => {
    while (polling) {
      const { rows } = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pg-audit-gateway' AND datname = $1`, [database]);
      peak = Math.max(peak, Number(rows[0]!.n));
      samples += 1;
    }
  })().then(() => null, (err: unknown) => err);
  return { async stop() {
    polling = false;
    const failed = await loop;
    await c.end().catch(() => undefined);
    if (failed) throw failed;
    return { peak, samples };
  } };
}

/** Outcome of a flood answer: ok, SERVICE_BUSY (a query gets it as SERVICE_UNAVAILABLE with its message), or the first error's code. */
function outcomeOf(status: number, body: string): string {
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 200 && status < 300 && !body.includes('"errors":[')) return 'ok';
  if (body.includes(SERVICE_BUSY_MESSAGE)) return 'SERVICE_BUSY';
  return /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? `HTTP ${status}`;
}

/** FLOOD_CLIENTS connections sending `req` back to back until stop(); counts the outcomes. */
function startFlood(req: LoadRequest): { stop(): Promise<Map<string, number>> } {
  const outcomes = new Map<string, number>();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  const instance = autocannon({
    url: req.url, method: 'POST', body: req.body, connections: FLOOD_CLIENTS, duration: 3600, pipelining: 1,
    headers: { 'content-type': 'application/json', ...req.headers },
    requests: [{ onResponse: (status: number, body: string) => {
      const o = outcomeOf(status, body);
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    } }],
  }, () => done());
  return { async stop() { instance.stop(); await finished; return outcomes; } };
}

export async function measureFlood(env: BenchEnvironment, o: { seconds: number; warmupRequests: number }): Promise<Figure[]> {
  const url = await env.gatewayUrl();
  const cap = loadConfig(env.gatewayEnv).targetMaxConnectionsPerService;
  const targetUrl = env.target.url();
  // the second tenant: another organization and project, its service a database of the same cluster
  const admin = new Client({ connectionString: targetUrl });
  await admin.connect();
  const floodedDb = (await admin.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
  await admin.query(`DROP DATABASE IF EXISTS ${QUIET_DB}`);
  await admin.query(`CREATE DATABASE ${QUIET_DB}`);
  await admin.end();
  const t = env.admin.tenancy;
  const org = await t.createOrganization('bench-second-tenant', true);
  const project = await t.createProject(org.id, 'bench-second-tenant', true);
  const service = await t.registerService(project.id, 'bench-second-tenant', withDatabase(targetUrl, QUIET_DB));
  const { token } = await t.createToken(project.id, 'bench-second-tenant', 'avnadmin');

  const flooder: LoadRequest = { url, body: JSON.stringify({ query: maxAliasQuery(env.tenant.targetServiceId) }), headers: { authorization: `Bearer ${env.tenant.token}` } };
  const second: LoadRequest = { url, body: JSON.stringify({ query: ELIGIBILITY, variables: { s: service.id } }), headers: { authorization: `Bearer ${token}` } };

  // 1. one max-alias request
  const oneSampler = await startSampler(targetUrl, floodedDb);
  const one = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...flooder.headers }, body: flooder.body });
  const oneBody = await one.text();
  const oneRequest = await oneSampler.stop();
  if (outcomeOf(one.status, oneBody) !== 'ok') throw new Error(`the max-alias request failed: ${one.status} ${oneBody.slice(0, 300)}`);

  // 2-3. the second tenant alone, then under the flood: on this gateway (no rate limit: the flooding tenant may
  // spend without bound, as if it held any number of tokens), then on one with the per-token rate limit on
  const unlimited = await floodPhases(flooder, second, targetUrl, floodedDb, o);
  // The limit sized for the second tenant's own load (2 back-to-back connections, 25 points per request): the
  // default 100 points/s would refuse even that load alone, which measureLoad counts as failure.
  const limits = { RATE_LIMIT_BUCKET_POINTS: '2000', RATE_LIMIT_RESTORE_PER_SECOND: String(LIMITED_RESTORE_PER_SECOND) };
  const limitedGateway = await env.extraGateway('gateway-rate-limited', limits);
  let limited: PhaseResult;
  try {
    limited = await floodPhases({ ...flooder, url: limitedGateway.url }, { ...second, url: limitedGateway.url }, targetUrl, floodedDb, o);
  } finally { await limitedGateway.stop(); }

  const figures: Figure[] = [];
  for (const [label, r] of [['rate limit off', unlimited], [`per-token rate limit on (2000 points, ${LIMITED_RESTORE_PER_SECOND}/s)`, limited]] as const) {
    const counts = [...r.outcomes.entries()].map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ');
    process.stderr.write(`[bench] flood, ${label}: second tenant ${r.quiet.rps.toFixed(1)} -> ${r.underFlood.rps.toFixed(1)} requests/s ` +
      `(${(r.underFlood.rps / r.quiet.rps).toFixed(2)}x); flooded service: max ${r.during.peak} backends (cap ${cap}, ${r.during.samples} samples); ` +
      `flood answers: ${counts}\n`);
    const floodName = `${FLOOD_CLIENTS} clients of one token, ${ALIASES}-alias auditEligibility queries (${r.answered.toLocaleString('en-US')} answered: ${counts})`;
    figures.push(
      { section: 'flood', name: `${label}: second tenant's auditEligibility of its own service, under a flood of ${floodName}`, connections: SECOND_TENANT_CONNECTIONS,
        unit: 'requests/s', measured: r.underFlood.rps, baseline: r.quiet.rps, baselineName: 'the same load on the same gateway without the flood' },
      { section: 'flood', name: `${label}: most gateway backends on the flooded service during the flood (${r.during.samples} samples)`, unit: 'connections',
        measured: r.during.peak, target: { text: `<= TARGET_MAX_CONNECTIONS_PER_SERVICE (${cap})`, met: r.during.peak <= cap } });
  }
  process.stderr.write(`[bench] flood: one max-alias request: max ${oneRequest.peak} backends\n`);
  figures.push({ section: 'flood', name: `most gateway backends on the service during one ${ALIASES}-alias request (${oneRequest.samples} samples)`, unit: 'connections',
    measured: oneRequest.peak, target: { text: '<= 1', met: oneRequest.peak <= 1 } });
  return figures;
}

interface PhaseResult {
  quiet: Awaited<ReturnType<typeof measureLoad>>;
  underFlood: Awaited<ReturnType<typeof measureLoad>>;
  during: { peak: number; samples: number };
  outcomes: Map<string, number>;
  answered: number;
}

/** The second tenant's load alone, then while FLOOD_CLIENTS flood the first tenant's service (backends sampled meanwhile). */
async function floodPhases(flooder: LoadRequest, second: LoadRequest, targetUrl: string, floodedDb: string,
  o: { seconds: number; warmupRequests: number }): Promise<PhaseResult> {
  const quiet = await measureLoad(second, SECOND_TENANT_CONNECTIONS, o.seconds, o.warmupRequests);
  const floodSampler = await startSampler(targetUrl, floodedDb);
  const flood = startFlood(flooder);
  let underFlood;
  let outcomes: Map<string, number>;
  try {
    underFlood = await measureLoad(second, SECOND_TENANT_CONNECTIONS, o.seconds, o.warmupRequests);
  } finally {
    outcomes = await flood.stop();
  }
  const during = await floodSampler.stop();
  const answered = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const unexpected = [...outcomes.keys()].filter((k) => !['ok', 'SERVICE_BUSY', 'RATE_LIMITED'].includes(k));
  if (unexpected.length > 0) throw new Error(`flood answers other than ok / SERVICE_BUSY / RATE_LIMITED: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  return { quiet, underFlood, during, outcomes, answered };
}


/** This step alone (`npm run build:tools && node dist/bench/flood.js --seconds 5`), on services it starts and stops. */
if (require.main === module) {
  void (async () => {
    const i = process.argv.indexOf('--seconds');
    const seconds = i >= 0 ? Number(process.argv[i + 1]) : 5;
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--seconds takes a whole number');
    const env = await BenchEnvironment.start({ opensearchHeapMb: 512 });
    try { console.log(markdown(await measureFlood(env, { seconds, warmupRequests: 50 }))); } finally { await env.stop(); }
  })().then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
}
