/**
 * Bounded answers on the query path, on a real OpenSearch: histograms always over a bounded window
 * (returned as from/to), statements and parameters cut in lists (flagged, with the whole length) and whole
 * from auditEvent (tenant-scoped: another service's event id is null), and responses over
 * MAX_RESPONSE_BYTES replaced by a RESPONSE_TOO_LARGE error through the real HTTP server.
 */
import { randomUUID } from 'node:crypto';
import { startHttpServer } from '../src/api/http-server';
import { silentLogger } from '../src/base/logger';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { buildEventStats } from '../src/modules/audit-events/event.query';
import { createTenant, env, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, request, startHttp } from './support/http';

const EVENTS = `query($serviceId: ID!, $filter: AuditEventFilter, $first: Int) {
  auditEvents(serviceId: $serviceId, filter: $filter, first: $first) { totalCount
    edges { node { id statement statementTruncated statementBytes parameters parametersTruncated } } } }`;
const EVENT = `query($serviceId: ID!, $id: ID!) {
  auditEvent(serviceId: $serviceId, id: $id) { id statement statementTruncated statementBytes parameters parametersTruncated } }`;
const STATS = `query($serviceId: ID!, $filter: AuditEventFilter, $interval: String) {
  auditEventStats(serviceId: $serviceId, filter: $filter, interval: $interval) { from to totalCount groups { key count } overTime { start count } overTimeStart overTimeCounts } }`;

const HOUR = 3_600_000;
let g: TestGateway;
let a: Tenant;
let b: Tenant;

/** 7 + 4088 ASCII bytes, then a 3-byte character across the 4096-byte cut, then ~100 KiB more (an emoji among it). */
const HEAD = 'SELECT ' + 'a'.repeat(4088);
const BIG = HEAD + '日' + 'x'.repeat(50_000) + '😀' + 'y'.repeat(52_000);
const PARAMS = Array.from({ length: 150 }, (_, i) => (i === 0 ? 'p'.repeat(5000) : `v${i}`));
let bigId: string;
let oldId: string;

function doc(t: Tenant, timestamp: Date, statement: string, parameters: string[] | null): AuditEventDocument {
  return { id: randomUUID().replace(/-/g, ''), serviceId: t.serviceId, projectId: t.projectId, organizationId: t.organizationId,
    timestamp: timestamp.toISOString(), auditType: 'SESSION', statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT',
    objectType: null, objectName: null, statement, statementStatus: 'LOGGED', parameters, rows: null,
    user: 'u', database: 'bounded', sessionId: 's', sessionLineNum: 1, applicationName: null, remoteHost: null };
}

beforeAll(async () => {
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  const now = Date.now();
  const big = doc(a, new Date(now - HOUR), BIG, PARAMS);
  const old = doc(a, new Date(now - 30 * HOUR), 'SELECT 1', []);   // outside the default 24 h window
  const recent = doc(a, new Date(now - 5_000), 'SELECT 2', null);  // in the last minute (hard_bounds lost these)
  bigId = big.id;
  oldId = old.id;
  expect((await g.gateway.eventStore!.bulkIndex([big, old, recent])).rejected).toEqual([]);
  await g.gateway.eventStore!.refresh();
});
afterAll(async () => { await g.close(); });

describe('auditEventStats is always bounded', () => {
  it('without a range: the last 24 hours, at most 2000 buckets, all inside from..to, counts of the window only', async () => {
    const before = Date.now();
    const r = await g.exec(a.token, STATS, { serviceId: a.serviceId, interval: '1m' });
    expect(r.errors).toBeUndefined();
    const s = r.data!.auditEventStats;
    const from = Date.parse(s.from);
    const to = Date.parse(s.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to).toBeLessThanOrEqual(Date.now());
    expect(to - from).toBe(24 * HOUR);
    expect(s.totalCount).toBe(2);                       // the event 30 h ago is outside the window
    expect(s.groups).toEqual([{ key: 'READ', count: 2 }]);
    expect(s.overTime.length).toBeLessThanOrEqual(2000);
    expect(s.overTime.length).toBeGreaterThanOrEqual(24 * 60);
    for (const x of s.overTime) {
      expect(Date.parse(x.start)).toBeGreaterThan(from - 60_000);
      expect(Date.parse(x.start)).toBeLessThanOrEqual(to);
    }
    expect(s.overTime.reduce((n: number, x: any) => n + x.count, 0)).toBe(2);
    // the same buckets as one list of counts: consecutive intervals from overTimeStart
    expect(s.overTimeStart).toBe(s.overTime[0].start);
    expect(s.overTimeCounts).toEqual(s.overTime.map((x: any) => x.count));
    s.overTime.forEach((x: any, i: number) => expect(Date.parse(x.start)).toBe(Date.parse(s.overTimeStart) + i * 60_000));
  });

  it.each([['1m', 3 * HOUR + 17_000], ['1h', 47 * HOUR + 1234], ['1d', 40 * 24 * HOUR + 5]])(
    'the histogram is OpenSearch\'s own (%s): its buckets asked with their keys give the same times and counts', async (interval, span) => {
      // the gateway asks for the counts only and places them from the aligned start (histogramShape)
      const to = new Date(Date.now() + 61_000);
      const from = new Date(to.getTime() - span);
      const s = (await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { from: from.toISOString(), to: to.toISOString() }, interval })).data!.auditEventStats;
      const { index, body } = buildEventStats(a.serviceId, { from, to }, 'CLASS', interval);
      const res = await fetch(`${env('OPENSEARCH_URL')}/${index}/_search?ignore_unavailable=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const own = (await res.json() as { aggregations: { overTime: { buckets: { key: number; doc_count: number }[] } } }).aggregations.overTime.buckets;
      expect(own.length).toBeGreaterThan(1);
      expect(s.overTime).toEqual(own.map((b) => ({ start: new Date(b.key).toISOString(), count: b.doc_count })));
      expect(s.overTimeStart).toBe(new Date(own[0]!.key).toISOString());
      expect(s.overTimeCounts.reduce((n: number, c: number) => n + c, 0)).toBe(s.totalCount);
    });

  it('with from: that range (and the interval must fit it in 2000 buckets)', async () => {
    const from = new Date(Date.now() - 48 * HOUR).toISOString();
    const s = (await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { from }, interval: '1h' })).data!.auditEventStats;
    expect(s.from).toBe(from);
    expect(s.totalCount).toBe(3);
    expect(s.overTime.reduce((n: number, x: any) => n + x.count, 0)).toBe(3);
    const bad = await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { from }, interval: '1m' });
    expect(bad.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'interval' });
  });

  it('with to only: the window ends there', async () => {
    const to = new Date(Date.now() - 29 * HOUR).toISOString();
    const s = (await g.exec(a.token, STATS, { serviceId: a.serviceId, filter: { to }, interval: '1h' })).data!.auditEventStats;
    expect(s.to).toBe(to);
    expect(Date.parse(s.to) - Date.parse(s.from)).toBe(24 * HOUR);
    expect(s.totalCount).toBe(1);                       // only the old event
  });

  it('STATS_DEFAULT_WINDOW_HOURS and EVENT_TEXT_MAX_BYTES are configurable', async () => {
    const g2 = await startTestGateway({ STATS_DEFAULT_WINDOW_HOURS: '48', EVENT_TEXT_MAX_BYTES: '100' });
    try {
      const s = (await g2.exec(a.token, STATS, { serviceId: a.serviceId })).data!.auditEventStats;
      expect(Date.parse(s.to) - Date.parse(s.from)).toBe(48 * HOUR);
      expect(s.totalCount).toBe(3);
      const e = (await g2.exec(a.token, EVENTS, { serviceId: a.serviceId, first: 10 })).data!.auditEvents.edges
        .find((x: any) => x.node.id === bigId).node;
      expect(e.statement).toBe(BIG.slice(0, 100));
    } finally { await g2.close(); }
  });
});

describe('long statements and parameters', () => {
  it('auditEvents cuts them on a character boundary, flags it and gives the whole length', async () => {
    const r = await g.exec(a.token, EVENTS, { serviceId: a.serviceId, first: 10 });
    expect(r.errors).toBeUndefined();
    const nodes = r.data!.auditEvents.edges.map((e: any) => e.node);
    const big = nodes.find((n: any) => n.id === bigId);
    expect(big.statement).toBe(HEAD);                    // 4095 bytes: the 3-byte character would cross 4096
    expect(Buffer.byteLength(big.statement)).toBe(4095);
    expect(big.statementTruncated).toBe(true);
    expect(big.statementBytes).toBe(Buffer.byteLength(BIG));
    expect(big.statementBytes).toBeGreaterThan(100 * 1024);
    expect(big.parametersTruncated).toBe(true);
    expect(big.parameters).toHaveLength(100);
    expect(big.parameters[0]).toBe('p'.repeat(4096));
    expect(big.parameters.slice(1)).toEqual(PARAMS.slice(1, 100));
    const small = nodes.find((n: any) => n.id === oldId);
    expect(small).toEqual({ id: oldId, statement: 'SELECT 1', statementTruncated: false, statementBytes: 8, parameters: [], parametersTruncated: false });
  });

  it('auditEvent returns the whole event', async () => {
    const r = await g.exec(a.token, EVENT, { serviceId: a.serviceId, id: bigId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.auditEvent).toEqual({ id: bigId, statement: BIG, statementTruncated: false, statementBytes: Buffer.byteLength(BIG),
      parameters: PARAMS, parametersTruncated: false });
  });

  it('auditEvent is tenant-scoped: another service\'s event id is null, like an unknown id; another project\'s service is NOT_FOUND', async () => {
    expect(await g.exec(b.token, EVENT, { serviceId: b.serviceId, id: bigId })).toEqual({ data: { auditEvent: null }, extensions: { cost: { requestedQueryCost: expect.any(Number), maximumAvailable: expect.any(Number) } } });
    expect(await g.exec(a.token, EVENT, { serviceId: a.serviceId, id: 'no-such-event' })).toEqual({ data: { auditEvent: null }, extensions: { cost: { requestedQueryCost: expect.any(Number), maximumAvailable: expect.any(Number) } } });
    const theirs = await g.exec(b.token, EVENT, { serviceId: a.serviceId, id: bigId });
    expect(theirs.data).toEqual({ auditEvent: null });   // a nullable field: the error nulls only it
    expect(theirs.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    expect(JSON.stringify(theirs)).not.toContain('SELECT');
  });
});

describe('MAX_RESPONSE_BYTES', () => {
  it('a response over the limit is not sent: one RESPONSE_TOO_LARGE error and nothing else', async () => {
    const http = await startHttp(g, 64 * 1024);
    const small = await startHttpServerWithLimit(8 * 1024);
    try {
      const gql = (base: string, query: string, variables: Record<string, unknown>) =>
        request(`${base}/graphql`, graphqlPost(JSON.stringify({ query, variables }), { authorization: bearer(a.token) }));
      // the same request under the default limit (8 MiB) is answered in full
      const full = await gql(http.base, EVENTS, { serviceId: a.serviceId, first: 10 });
      expect(full.status).toBe(200);
      expect(full.json.data.auditEvents.totalCount).toBe(3);
      for (const [query, variables] of [[EVENTS, { serviceId: a.serviceId, first: 10 }], [EVENT, { serviceId: a.serviceId, id: bigId }]] as const) {
        const r = await gql(small.base, query, variables);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/application\/json/);
        expect(r.json).toEqual({ data: null, errors: [{ message: expect.stringMatching(/over the limit of 8192/),
          extensions: { code: 'RESPONSE_TOO_LARGE', responseBytes: expect.any(Number), maxResponseBytes: 8192 } }] });
        expect(r.json.errors[0].extensions.responseBytes).toBeGreaterThan(8192);
        expect(r.text).not.toContain('SELECT');
      }
      // a small answer passes the small limit
      const count = await gql(small.base, `query($s: ID!) { auditEvents(serviceId: $s, first: 1) { totalCount } }`, { s: a.serviceId });
      expect(count.json).toEqual({ data: { auditEvents: { totalCount: 3 } }, extensions: { cost: { requestedQueryCost: expect.any(Number), maximumAvailable: expect.any(Number) } } });
    } finally { await http.close(); await small.close(); }
  });
});

/** The real HTTP server in front of the test gateway with a small MAX_RESPONSE_BYTES. */
async function startHttpServerWithLimit(maxResponseBytes: number): Promise<{ base: string; close(): Promise<void> }> {
  const s = await startHttpServer({ ...g.gateway, logger: silentLogger, maxBodyBytes: 64 * 1024, maxResponseBytes }, 0, '127.0.0.1');
  return { base: `http://127.0.0.1:${s.port}`, close: () => s.close() };
}
