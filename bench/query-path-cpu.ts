/**
 * Where the query path's CPU goes, in seconds and without OpenSearch: the gateway's real HTTP server, Apollo,
 * schema, limits, scopes, plugins, AuditEventsService and EventStore (its HTTP client and parsing included)
 * against a canned store, a Node process answering every `_msearch` with the same page of 21 events and every
 * `_search` with the same 840-bucket stats, at once. Measured in turns (load.ts, measureInterleaved), each with
 * its process's CPU per request from /proc:
 *   - `{ __typename }`: HTTP, authentication (a cache hit), Apollo and the plugins, no resolver;
 *   - the console's page over a store stub in the gateway's process: the above plus execution and mapping;
 *   - the console's page and its histogram over the canned store: the above plus the store's HTTP hop and parsing;
 *   - the bare proxy (bare-proxy.ts) to the canned store: one HTTP hop in and out, the floor of any gateway.
 * Tenancy is a stub (every token is one principal, every service visible): no database either.
 *
 *   npm run build:tools && node dist/bench/query-path-cpu.js [--seconds 5] [--connections 1,16] [--only REGEX]
 *
 * BENCH_GATEWAY_NODE_ARGS applies to the gateway's process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof; it exits cleanly to write it).
 */
import 'reflect-metadata';
import { ChildProcess, fork, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startHttpServer } from '../src/api/http-server';
import { silentLogger } from '../src/base/logger';
import { createMetricsRegistry, gatewayMetrics } from '../src/base/metrics';
import { AuditEventsService } from '../src/modules/audit-events/audit-events.service';
import { EventStore } from '../src/modules/audit-events/event.store';
import type { Principal } from '../src/modules/tenancy/principal';
import { CANNED_SERVICE as SERVICE, cannedEvent } from './canned-events';
import { cpuSecondsOf } from './environment';
import { LoadRequest, measureInterleaved } from './load';

const TOKEN = 'pga_bench_query_path_cpu';
const NODE = 'id timestamp auditType class command objectType objectName statement parameters rows user database sessionId';
const PAGE = `query($s: ID!, $f: AuditEventFilter, $after: String) { auditEvents(serviceId: $s, filter: $f, first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${NODE} } } } }`;
const STATS = `query($s: ID!, $f: AuditEventFilter) { auditEventStats(serviceId: $s, filter: $f, groupBy: CLASS, interval: "1h") {
  totalCount groups { key count } overTimeStart overTimeCounts } }`;
const BUCKETS = 840;

/** The canned store: every `_msearch` gets a page of 21 events and its count, every `_search` the stats (histogram counts only, as STATS_QUERYSTRING asks). */
function serveStore(): void {
  const page = JSON.stringify({ responses: [{ hits: { hits: Array.from({ length: 21 }, (_, i) => ({ _source: cannedEvent(i) })) }, status: 200 },
    { hits: { total: { value: 100_000 } }, status: 200 }] });
  const stats = JSON.stringify({ hits: { total: { value: 100_000 } }, aggregations: {
    groups: { buckets: ['READ', 'WRITE', 'DDL', 'MISC', 'ROLE', 'FUNCTION'].map((key, i) => ({ key, doc_count: 1000 * (i + 1) })) },
    overTime: { buckets: Array.from({ length: BUCKETS }, (_, i) => ({ doc_count: 100 + i })) } } });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(req.url?.includes('_msearch') ? page : stats);
    });
  });
  process.on('message', (m) => { if (m === 'exit') process.exit(0); });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
}

/** The gateway's HTTP server over the canned store (`/graphql`) and, on a second port, over a store stub in process. */
async function serveGateway(storeUrl: string): Promise<void> {
  const principal: Principal = { tokenId: 't', tokenName: 'bench', projectId: 'p', organizationId: 'o', databaseRole: 'app', scopes: ['read:events'], expiresAt: null };
  const tenancy = { authenticate: async () => principal, visibleServiceId: async (_p: Principal, id: string) => id };
  const stub = { search: async () => ({ events: Array.from({ length: 20 }, (_, i) => cannedEvent(i)), hasNextPage: true, totalCount: 100_000 }) } as unknown as EventStore;
  const ports: number[] = [];
  for (const store of [new EventStore(storeUrl), stub]) {
    const deps = { tenancy, policies: { requestTargets: () => ({ close: async () => undefined }) }, events: new AuditEventsService(tenancy as never, store),
      redaction: {}, logger: silentLogger, maxBodyBytes: 1 << 20, ready: async () => ({ status: 'ready' as const, checks: { database: 'up' as const, opensearch: 'up' as const } }),
      metrics: gatewayMetrics(createMetricsRegistry()) };
    ports.push((await startHttpServer(deps as unknown as Parameters<typeof startHttpServer>[0], 0, '127.0.0.1')).port);
  }
  process.on('message', (m) => { if (m === 'exit') process.exit(0); });   // a clean exit writes --cpu-prof's profile
  process.send!(ports);
}

function started<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => { child.once('message', (m) => resolve(m as T)); child.once('exit', (code) => reject(new Error(`exited with ${code}`))); });
}

async function main(argv: readonly string[]): Promise<void> {
  const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const seconds = Number(value('seconds') ?? 5);
  const connections = (value('connections') ?? '1,16').split(',').map(Number);
  const children: ChildProcess[] = [];
  try {
    const store = fork(__filename, ['store']);
    children.push(store);
    const storeUrl = `http://127.0.0.1:${await started<number>(store)}`;
    const gateway = fork(__filename, ['gateway', storeUrl], { env: { ...process.env, NODE_ENV: 'production' },
      execArgv: (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '') });
    children.push(gateway);
    const [canned, stubbed] = await started<[number, number]>(gateway);
    const proxy = spawn(process.execPath, [path.join(__dirname, 'bare-proxy.js'), storeUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(proxy);
    const proxyPort = Number((await new Promise<Buffer>((r) => proxy.stdout!.once('data', r))).toString().trim());

    const gql = (port: number, query: string, variables: object): LoadRequest => ({ url: `http://127.0.0.1:${port}/graphql`,
      body: JSON.stringify({ query, variables }), headers: { authorization: `Bearer ${TOKEN}` } });
    const now = Date.now();
    const histogram = { from: new Date(now - (BUCKETS - 1) * 3_600_000).toISOString(), to: new Date(now).toISOString() };
    const gatewayCpu = async () => cpuSecondsOf(gateway.pid!);
    const only = value('only') ? new RegExp(value('only')!) : null;
    const all: [string, LoadRequest, () => Promise<number>][] = [
      ['bare proxy to the canned store (one HTTP hop)', { url: `http://127.0.0.1:${proxyPort}/_msearch`, body: '{}' }, async () => cpuSecondsOf(proxy.pid!)],
      ['gateway: { __typename } (HTTP, auth, Apollo, plugins)', gql(canned, '{ __typename }', {}), gatewayCpu],
      ['gateway: auditEvents page, store stub in process', gql(stubbed, PAGE, { s: SERVICE, f: null, after: null }), gatewayCpu],
      ['gateway: auditEvents page, canned store over HTTP', gql(canned, PAGE, { s: SERVICE, f: null, after: null }), gatewayCpu],
      [`gateway: auditEventStats, ${BUCKETS} buckets as overTimeCounts, canned store`, gql(canned, STATS, { s: SERVICE, f: histogram }), gatewayCpu],
    ];
    const rows = all.filter(([name], i) => i === 0 || !only || only.test(name));
    console.log(`${new Date().toISOString()}, ${seconds} s per figure in turns, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| request | connections | p50 | CPU per request | x the bare proxy\'s CPU |\n|---|---|---|---|---|');
    for (const c of connections) {
      const results = await measureInterleaved(rows.map(([, req, cpuSeconds]) => ({ req, cpuSeconds })), c, seconds, 1000);
      const floor = results[0]!.cpuMsPerRequest!;
      results.forEach((r, i) => console.log(`| ${rows[i]![0]} | ${c} | ${r.p50.toFixed(2)} ms | ${r.cpuMsPerRequest!.toFixed(3)} ms | ${(r.cpuMsPerRequest! / floor).toFixed(1)}x |`));
    }
  } finally {
    for (const c of children) if (c.connected) c.send('exit'); else c.kill('SIGTERM');
  }
}

const role = process.argv[2];
if (role === 'store') serveStore();
else if (role === 'gateway') void serveGateway(process.argv[3]!);
else main(process.argv.slice(2)).catch((err: unknown) => { console.error(err); process.exit(1); });
