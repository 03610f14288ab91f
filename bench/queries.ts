/**
 * The query path under load: each auditEvents / auditEventStats request a console sends, through the
 * gateway (HTTP, auth, tenant check, GraphQL, OpenSearch, mapping), against the identical OpenSearch
 * request (same body, same parameters, built by the same code: `_msearch` of page + count for auditEvents,
 * `_search` for the stats) sent straight to OpenSearch and through a bare proxy, measured in turns at each
 * concurrency with autocannon (load.ts, measureInterleaved).
 */
import { decodeEventCursor } from '../src/modules/audit-events/event.cursor';
import type { AuditEventFilter } from '../src/modules/audit-events/audit-events.types';
import { buildEventPageRequest, buildEventStats } from '../src/modules/audit-events/event.query';
import type { BenchEnvironment } from './environment';
import { LoadRequest, LoadResult, measureInterleaved, measureLoad } from './load';
import type { Figure } from './report';

const NODE = 'id timestamp auditType class command objectType objectName statement parameters rows user database sessionId';
const PAGE = `query($s: ID!, $f: AuditEventFilter, $after: String) { auditEvents(serviceId: $s, filter: $f, first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${NODE} } } } }`;
// the histogram as a console asks for it since issue 12 (one list of counts), and as before (bucket objects, deprecated)
const STATS = `query($s: ID!, $f: AuditEventFilter) { auditEventStats(serviceId: $s, filter: $f, groupBy: CLASS, interval: "1h") {
  totalCount groups { key count } overTimeStart overTimeCounts } }`;
const STATS_BUCKETS = `query($s: ID!, $f: AuditEventFilter) { auditEventStats(serviceId: $s, filter: $f, groupBy: CLASS, interval: "1h") {
  totalCount groups { key count } overTime { start count } } }`;

interface Scenario { name: string; gateway: LoadRequest; direct: LoadRequest; proxied: LoadRequest }


/** The six requests, checked once (the gateway and OpenSearch agree on the count) before any load. */
export async function scenarios(env: BenchEnvironment, expectedEvents: number): Promise<Scenario[]> {
  const url = await env.gatewayUrl();
  const { token, eventsServiceId: s } = env.tenant;
  const direct = ({ index, body, querystring }: { index: string; body: object; querystring: Readonly<Record<string, string>> }): LoadRequest => ({
    url: `${env.search.url}/${index}/_search?${new URLSearchParams(querystring).toString()}`, body: JSON.stringify(body) });
  const directPage = (f: AuditEventFilter | null, after: string | null): LoadRequest => {
    const { path, lines } = buildEventPageRequest(s, f, 20, after ? decodeEventCursor(after) : null);
    return { url: `${env.search.url}${path}`, body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', contentType: 'application/x-ndjson' };
  };
  const viaGateway = (query: string, variables: object): LoadRequest => ({ url, body: JSON.stringify({ query, variables }), headers: { authorization: `Bearer ${token}` } });
  const page = (f: AuditEventFilter | null, after: string | null) => viaGateway(PAGE, { s, f, after });

  type Page = { auditEvents: { totalCount: number; pageInfo: { endCursor: string } } };
  const first = await env.graphql<Page>(PAGE, { s, f: null, after: null });
  if (first.auditEvents.totalCount !== expectedEvents) throw new Error(`the gateway counts ${first.auditEvents.totalCount} events, ${expectedEvents} were ingested`);
  let cursor = first.auditEvents.pageInfo.endCursor;
  for (let i = 2; i < 50; i++) cursor = (await env.graphql<Page>(PAGE, { s, f: null, after: cursor })).auditEvents.pageInfo.endCursor;

  const filtered: AuditEventFilter = { users: ['analyst'], classes: ['WRITE'] };
  const text: AuditEventFilter = { text: 'owner note accounts' };
  // 35 days of hourly buckets (10M events span five weeks), the same range sent both ways; without a range the
  // stats count the last 24 hours (STATS_DEFAULT_WINDOW_HOURS): 24 buckets
  const now = new Date();
  const histogram: AuditEventFilter = { from: new Date(now.getTime() - 839 * 3_600_000), to: now };
  // the text search's forms (event.text-query.ts): a part of a qualified name (public.accounts), a prefix, a phrase
  const namePart: AuditEventFilter = { text: 'accounts' };
  const prefix: AuditEventFilter = { text: 'acc*' };
  const phrase: AuditEventFilter = { text: '"public.accounts set note"' };
  const proxy = await env.bareProxyUrl();
  const list: Scenario[] = [
    { name: 'auditEvents first page', gateway: page(null, null), direct: directPage(null, null) },
    { name: 'auditEvents filtered page (user + class)', gateway: page(filtered, null), direct: directPage(filtered, null) },
    { name: 'auditEvents text search', gateway: page(text, null), direct: directPage(text, null) },
    { name: 'auditEvents text search: a part of a name (accounts)', gateway: page(namePart, null), direct: directPage(namePart, null) },
    { name: 'auditEvents text search: a prefix (acc*)', gateway: page(prefix, null), direct: directPage(prefix, null) },
    { name: 'auditEvents text search: a phrase ("public.accounts set note")', gateway: page(phrase, null), direct: directPage(phrase, null) },
    { name: 'auditEvents page 50 by cursor', gateway: page(null, cursor), direct: directPage(null, cursor) },
    { name: 'auditEventStats by class + hourly histogram (840 buckets)', gateway: viaGateway(STATS, { s, f: histogram }), direct: direct(buildEventStats(s, histogram, 'CLASS', '1h')) },
    { name: 'auditEventStats, 840 buckets as overTime objects (deprecated)', gateway: viaGateway(STATS_BUCKETS, { s, f: histogram }), direct: direct(buildEventStats(s, histogram, 'CLASS', '1h')) },
  ].map((sc) => ({ ...sc, proxied: { ...sc.direct, url: sc.direct.url.replace(env.search.url, proxy) } }));
  for (const sc of list) {
    const res = await fetch(sc.direct.url, { method: 'POST', headers: { 'content-type': sc.direct.contentType ?? 'application/json' }, body: sc.direct.body });
    type Answer = { hits?: { total?: { value: number } }; _shards?: { failed: number } };
    const body = await res.json() as Answer & { responses?: Answer[] };
    const answers = body.responses ?? [body];
    if (!res.ok || answers.some((a) => !a.hits || a._shards?.failed)) throw new Error(`${sc.name}: OpenSearch answered ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    if (sc.name.includes('text search') && !(answers.at(-1)!.hits!.total!.value > 0)) throw new Error(`${sc.name}: finds nothing, not a fair figure`);
  }
  return list;
}

/**
 * The text filter as built now (a bool of match / term / prefix clauses per word, event.text-query.ts) against the
 * single `match` of earlier versions, for the same words, both straight to OpenSearch: what the new query shape
 * costs OpenSearch where both find the same events.
 */
function textQueryPair(env: BenchEnvironment, words: string): { now: LoadRequest; before: LoadRequest } {
  const s = env.tenant.eventsServiceId;
  const { path, lines } = buildEventPageRequest(s, { text: words }, 20, null);
  const plain = { bool: { filter: [{ term: { serviceId: s } }], must: [{ match: { statement: { query: words, operator: 'and' } } }] } };
  const before = lines.map((l) => ('query' in l ? { ...l, query: plain } : l));
  const req = (ls: readonly object[]): LoadRequest => ({ url: `${env.search.url}${path}`, body: ls.map((l) => JSON.stringify(l)).join('\n') + '\n', contentType: 'application/x-ndjson' });
  return { now: req(lines), before: req(before) };
}

export interface QueryOptions {
  connections: readonly number[];
  seconds: number;
  warmupRequests: number;
  /** The concurrencies at which the bare proxy is measured too. */
  floorConnections: readonly number[];
  /** The first page only (no other scenario, no text-search pair): --quick's smaller sizes, which the growth curve needs it at. */
  firstPageOnly?: boolean;
}

/**
 * Every scenario at every concurrency: OpenSearch directly, the same request through a bare Node proxy
 * (the cost of one more HTTP hop), and the gateway, in turns; the gateway's and the proxy's CPU per request;
 * what the gateway adds against what the proxy adds (issue 12: at most 2x at one connection).
 */
export async function measureQueries(env: BenchEnvironment, events: number, o: QueryOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const all = await scenarios(env, events);
  for (const sc of o.firstPageOnly ? all.filter((x) => x.name === 'auditEvents first page') : all) {
    for (const connections of o.connections) {
      // the three in turns, one second each (load.ts, measureInterleaved)
      const withFloor = o.floorConnections.includes(connections);
      const results = await measureInterleaved([
        { req: sc.direct },
        ...(withFloor ? [{ req: sc.proxied, cpuSeconds: () => env.proxyCpuSeconds() }] : []),
        { req: sc.gateway, cpuSeconds: () => env.gatewayCpuSeconds() },
      ], connections, o.seconds, o.warmupRequests);
      const baseline = results[0]!;
      const measured = results.at(-1)!;
      const proxied: LoadResult | null = withFloor ? results[1]! : null;
      if (proxied) {
        figures.push({ section: 'query', name: `${sc.name}: bare Node proxy, the floor of one HTTP hop`, size: events, connections, unit: 'ms',
          measured: proxied, baseline, baselineName: 'same request to OpenSearch' });
      }
      // the process's own CPU time over the timed load (/proc/<pid>/stat), per answered request
      figures.push({ section: 'query', name: `${sc.name}: CPU per request, gateway process`, size: events, connections, unit: 'ms CPU/request',
        measured: measured.cpuMsPerRequest!, ...(proxied ? { baseline: proxied.cpuMsPerRequest!, baselineName: 'the bare proxy process' } : {}) });
      if (proxied) {
        // issue 12: the gateway may add at most twice what one bare HTTP hop adds at one connection
        const gatewayAdds = measured.p50 - baseline.p50;
        const proxyAdds = Math.max(proxied.p50 - baseline.p50, 0.01);
        figures.push({ section: 'query', name: `${sc.name}: added at p50, gateway vs bare proxy`, size: events, connections, unit: 'ms',
          measured: gatewayAdds, baseline: proxyAdds, baselineName: 'added by the bare proxy',
          ...(connections === 1 ? { target: { text: '<= 2x what the bare proxy adds', met: gatewayAdds <= 2 * proxyAdds } } : {}) });
      }
      const added = measured.p50 - baseline.p50;
      const ok = added <= 2 && measured.p50 <= baseline.p50 * 1.15;
      const firstPageP95 = sc.name === 'auditEvents first page' && events >= 10_000_000 ? measured.p95 <= 50 : true;
      figures.push({ section: 'query', name: sc.name, size: events, connections, unit: 'ms', measured, baseline,
        baselineName: 'same request to OpenSearch',
        target: { text: `<= 15% and <= 2 ms added at p50${sc.name === 'auditEvents first page' && events >= 10_000_000 ? '; p95 <= 50 ms' : ''}`, met: ok && firstPageP95 } });
    }
  }
  const pair = textQueryPair(env, 'owner note');
  for (const connections of o.firstPageOnly ? [] : o.connections) {
    const baseline = await measureLoad(pair.before, connections, o.seconds, o.warmupRequests);
    const measured = await measureLoad(pair.now, connections, o.seconds, o.warmupRequests);
    figures.push({ section: 'search', name: 'text search "owner note" as now built, page + count straight to OpenSearch', size: events, connections, unit: 'ms',
      measured, baseline, baselineName: 'the plain match of earlier versions, same words, same request otherwise' });
  }
  return figures;
}
