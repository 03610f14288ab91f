/**
 * The GraphQL layer's CPU per request, in process: Apollo with the gateway's schema, limits, scopes and plugins,
 * and the real AuditEventsService (mapper, cursors, text cuts) over a store stub that answers at once, so
 * neither HTTP nor OpenSearch is in the figure. process.cpuUsage over N sequential requests, best of three runs,
 * after 500 unrecorded ones. On a machine shared with other work this is steadier than the whole path's CPU
 * per request (queries.ts), which counts the HTTP hops and the OpenSearch client too.
 *
 *   npm run build:tools && NODE_ENV=production node dist/bench/graphql-cpu.js [requests]
 */
import 'reflect-metadata';
import { HeaderMap } from '@apollo/server';
import type { GatewayContext } from '../src/api/context';
import { createApollo } from '../src/api/http-server';
import { silentLogger } from '../src/base/logger';
import { AuditEventsService } from '../src/modules/audit-events/audit-events.service';
import type { EventStore } from '../src/modules/audit-events/event.store';
import { CANNED_SERVICE as SERVICE, cannedEvent } from './canned-events';
import type { Principal } from '../src/modules/tenancy/principal';
import type { TenancyService } from '../src/modules/tenancy/tenancy.service';

const NODE = 'id timestamp auditType class command objectType objectName statement parameters rows user database sessionId';
const PAGE = `query($s: ID!, $f: AuditEventFilter, $after: String) { auditEvents(serviceId: $s, filter: $f, first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${NODE} } } } }`;
const STATS = (histogram: string) => `query($s: ID!) { auditEventStats(serviceId: $s, groupBy: CLASS, interval: "1h") {
  totalCount groups { key count } ${histogram} } }`;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const page = { events: Array.from({ length: 20 }, (_, i) => cannedEvent(i)), hasNextPage: true, totalCount: 100_000 };
  const from = new Date(Date.UTC(2026, 10, 1));
  const stats = { from, to: new Date(from.getTime() + 840 * 3_600_000), totalCount: 100_000,
    groups: ['READ', 'WRITE', 'DDL', 'MISC', 'ROLE', 'FUNCTION'].map((key, i) => ({ key, count: 1000 * (i + 1) })),
    histogram: { start: from, intervalMs: 3_600_000, counts: Array.from({ length: 840 }, (_, i) => 100 + i) } };
  const store = { search: async () => page, stats: async () => stats } as unknown as EventStore;
  const tenancy = { visibleServiceId: async (_p: Principal, id: string) => id } as unknown as TenancyService;
  const events = new AuditEventsService(tenancy, store);
  const principal: Principal = { tokenId: 't', tokenName: 'bench', projectId: 'p', organizationId: 'o', databaseRole: 'app', scopes: ['read:events'], expiresAt: null };
  const context = async () => ({ requestId: 'r', principal, events, logger: silentLogger, targets: { close: async () => undefined } }) as unknown as GatewayContext;
  const apollo = createApollo(undefined);
  await apollo.start();
  const headers = new HeaderMap([['content-type', 'application/json']]);
  const cases: [string, string, object][] = [
    ['auditEvents first page', PAGE, { s: SERVICE, f: null, after: null }],
    ['auditEvents filtered page', PAGE, { s: SERVICE, f: { users: ['analyst'], classes: ['WRITE'] }, after: null }],
    ['auditEventStats, 840 buckets as overTimeCounts', STATS('overTimeStart overTimeCounts'), { s: SERVICE }],
    ['auditEventStats, 840 buckets as overTime objects', STATS('overTime { start count }'), { s: SERVICE }],
  ];
  console.log('| request | CPU per request (best of 3) | the 3 runs | answer |\n|---|---|---|---|');
  for (const [name, query, variables] of cases) {
    const once = async () => {
      const r = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query, variables } }, context });
      if (r.body.kind !== 'complete' || r.body.string.includes('"errors"')) throw new Error(`${name}: ${r.body.kind === 'complete' ? r.body.string.slice(0, 300) : 'chunked'}`);
      return r.body.string.length;
    };
    const first = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query, variables } }, context });
    if (first.body.kind === 'complete' && first.body.string.includes('GRAPHQL_VALIDATION_FAILED')) {
      console.log(`| ${name} | not in this schema (an earlier version) | | |`);   // e.g. overTimeCounts before issue 12
      continue;
    }
    for (let i = 0; i < 500; i++) await once();
    const runs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const u0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await once();
      const u = process.cpuUsage(u0);
      runs.push((u.user + u.system) / 1000 / n);
    }
    console.log(`| ${name} | ${Math.min(...runs).toFixed(3)} ms | ${runs.map((r) => r.toFixed(3)).join(', ')} | ${await once()} bytes |`);
  }
  await apollo.stop();
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
