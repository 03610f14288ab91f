/**
 * Rate limits through the real HTTP server (src/api/rate-limit.ts): each token's leaky bucket of cost points
 * refuses a request that costs more than it holds with RATE_LIMITED, HTTP 429 and an integer Retry-After, and
 * nothing runs; every answer reports the bucket in extensions.cost.throttleStatus; another token has its own
 * bucket. Requests without a valid token are limited per client address, before the token is looked up, and
 * a flood of them from one address does not starve valid tokens from another. Buckets restore at 0.001/s, so
 * nothing here depends on timing.
 */
import http from 'node:http';
import { EXPORT_COST } from '../src/api/limits';
import type { TenancyService } from '../src/modules/tenancy/tenancy.service';
import { startHttpServer } from '../src/api/http-server';
import { DEFAULT_RATE_LIMITS, RateLimits } from '../src/base/config';
import { silentLogger } from '../src/base/logger';
import { createMetricsRegistry, gatewayMetrics, MetricsRegistry } from '../src/base/metrics';
import { startEnvironment } from './support/environment';
import { createTenant, ENABLE, indexEvents, resetServer, Tenant, TestGateway, urls } from './support/harness';
import { unchanged as unchangedOn } from './support/unchanged';
import { subscribe } from './support/sse';

let g: TestGateway;
let t: Tenant;
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  ({ g, t } = await startEnvironment());
  const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, reason: 'baseline' } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});

interface Reply { status: number; headers: http.IncomingHttpHeaders; json: any }

/** The real server with `limits`; `lookups` counts the token lookups that reach the tenancy service. */
async function serverWith(limits: Partial<RateLimits>) {
  const registry: MetricsRegistry = createMetricsRegistry({ defaults: false });
  const counter = { lookups: 0 };
  const tenancy = Object.create(g.gateway.tenancy) as TenancyService;
  tenancy.authenticate = (token: string) => { counter.lookups++; return g.gateway.tenancy.authenticate(token); };
  const s = await startHttpServer({ ...g.gateway, tenancy, logger: silentLogger, maxBodyBytes: 1 << 20, metrics: gatewayMetrics(registry),
    rateLimit: { ...DEFAULT_RATE_LIMITS, ...limits } }, 0, '127.0.0.1');
  servers.push(s);
  /** POST `path` with `authorization` (as is) from `from` (a loopback address), optionally with X-Forwarded-For; `json`: null when the answer is not JSON. */
  const send = (path: string, authorization: string | undefined, body: unknown, from = '127.0.0.1', forwardedFor?: string, extra: Record<string, string> = {}) =>
    new Promise<Reply & { text: string }>((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
      if (authorization !== undefined) headers.authorization = authorization;
      if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
      const req = http.request({ host: '127.0.0.1', port: s.port, path, method: 'POST', headers, localAddress: from, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => {
          let json: any = null;
          try { json = JSON.parse(text); } catch { /* a stream */ }
          resolve({ status: res.statusCode!, headers: res.headers, json, text });
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  /** POST /graphql with `authorization` (as is) from `from` (a loopback address), optionally with X-Forwarded-For. */
  const post = (authorization: string | undefined, query: string, variables: Record<string, unknown> = {}, from = '127.0.0.1', forwardedFor?: string) =>
    send('/graphql', authorization, { query, variables }, from, forwardedFor);
  const rateLimited = async (kind: string) => {
    const m = new RegExp(`^pgaudit_gateway_rate_limited_requests_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(await registry.metrics());
    return Number(m![1]);
  };
  return { post, send, counter, rateLimited, base: `http://127.0.0.1:${s.port}` };
}

const eligibility = (serviceId: string) => `{ auditEligibility(serviceId: "${serviceId}") { eligible } }`;   // costs 25
const disable = (serviceId: string) => `mutation { disableAuditLogging(input: {serviceId: "${serviceId}"}) { userErrors { code } } }`;
const unchanged = <T>(fn: () => Promise<T>) => unchangedOn(g, urls.pgaudit, t.serviceId, fn);
const freshToken = async () => (await g.gateway.tenancy.createToken(t.projectId, `rl-${Date.now()}-${Math.random()}`, 'avnadmin')).token;

/** 429 RATE_LIMITED, nothing ran, an integer Retry-After equal to extensions.retryAfterSeconds. */
function expectRateLimited(r: Reply, limitedBy: 'token' | 'address'): number {
  expect(r.status).toBe(429);
  expect(r.json.data ?? null).toBeNull();
  expect(r.json.errors).toHaveLength(1);
  const e = r.json.errors[0];
  expect(e.extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy });
  expect(r.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(Number(r.headers['retry-after'])).toBe(e.extensions.retryAfterSeconds);
  return e.extensions.retryAfterSeconds;
}

describe('per-token bucket of cost points', () => {
  it('takes each request\'s cost, reports the bucket in every answer, and refuses with 429 + Retry-After once it holds less than the cost', async () => {
    const s = await serverWith({ tokenBucketPoints: 290, tokenRestorePerSecond: 0.001 });
    const token = await freshToken();
    const seen: number[] = [];
    for (let i = 0; i < 11; i++) {   // 11 x 25 = 275 of 290
      const r = await s.post(`Bearer ${token}`, eligibility(t.serviceId));
      expect(r.status).toBe(200);
      expect(r.json.data.auditEligibility.eligible).toBe(true);
      expect(r.json.extensions.cost).toMatchObject({ requestedQueryCost: 25, throttleStatus: { maximumAvailable: 290, restoreRate: 0.001 } });
      seen.push(r.json.extensions.cost.throttleStatus.currentlyAvailable);
    }
    expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => 290 - 25 * (i + 1)));

    const refused = await s.post(`Bearer ${token}`, eligibility(t.serviceId));   // 25 > 15
    const retry = expectRateLimited(refused, 'token');
    expect(retry).toBeGreaterThan(9_000);      // (25 - 15) / 0.001 s, less what restored since
    expect(retry).toBeLessThanOrEqual(10_000);
    expect(refused.json.errors[0].extensions.throttleStatus).toEqual({ maximumAvailable: 290, currentlyAvailable: 15, restoreRate: 0.001 });
    expect(refused.json.extensions.cost).toEqual({ requestedQueryCost: 25, maximumAvailable: 1000,
      throttleStatus: { maximumAvailable: 290, currentlyAvailable: 15, restoreRate: 0.001 } });

    // a refused mutation changes nothing, and refusals take nothing: a cheap request still fits
    const mutation = await unchanged(() => s.post(`Bearer ${token}`, disable(t.serviceId)));
    expectRateLimited(mutation, 'token');
    const cheap = await s.post(`Bearer ${token}`, '{ __typename }');   // costs 0, charged 1
    expect(cheap.status).toBe(200);
    expect(cheap.json.extensions.cost.throttleStatus.currentlyAvailable).toBe(14);

    // a request that does not validate takes nothing and still reports the bucket
    const invalid = await s.post(`Bearer ${token}`, '{ noSuchField }');
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(invalid.json.extensions.cost).toEqual({ throttleStatus: { maximumAvailable: 290, currentlyAvailable: 14, restoreRate: 0.001 } });

    expect(await s.rateLimited('token')).toBe(2);
    expect(await s.rateLimited('address')).toBe(0);

    // an empty bucket refuses before the request is parsed: even a document that does not parse gets 429
    for (let left = 14; left > 0; left--) expect((await s.post(`Bearer ${token}`, '{ __typename }')).status).toBe(200);
    const unparsed = await s.post(`Bearer ${token}`, '{');
    expectRateLimited(unparsed, 'token');
    expect(unparsed.json.errors[0].extensions.throttleStatus).toEqual({ maximumAvailable: 290, currentlyAvailable: 0, restoreRate: 0.001 });
    expect(await s.rateLimited('token')).toBe(3);
  });

  it('each token has its own bucket: another token of the same project, and another tenant, are not affected', async () => {
    const s = await serverWith({ tokenBucketPoints: 90, tokenRestorePerSecond: 0.001 });
    const spent = await freshToken();
    for (let i = 0; i < 3; i++) expect((await s.post(`Bearer ${spent}`, eligibility(t.serviceId))).status).toBe(200);
    expectRateLimited(await s.post(`Bearer ${spent}`, eligibility(t.serviceId)), 'token');

    const other = await s.post(`Bearer ${await freshToken()}`, eligibility(t.serviceId));
    expect(other.status).toBe(200);
    expect(other.json.extensions.cost.throttleStatus).toEqual({ maximumAvailable: 90, currentlyAvailable: 65, restoreRate: 0.001 });
    const b = await createTenant(g, { serviceUrl: urls.pgaudit });
    const tenantB = await s.post(`Bearer ${b.token}`, eligibility(b.serviceId));
    expect(tenantB.status).toBe(200);
    expect(tenantB.json.extensions.cost.throttleStatus.currentlyAvailable).toBe(65);
  });
});

describe('scopes before cost', () => {
  it('an operation refused for its scope takes nothing from the bucket', async () => {
    const s = await serverWith({ tokenBucketPoints: 1000, tokenRestorePerSecond: 0.001 });
    const readOnly = (await g.gateway.tenancy.createToken(t.projectId, `rl-ro-${Date.now()}`, 'avnadmin', { scopes: 'read:policy' })).token;
    const refused = await unchanged(() => s.post(`Bearer ${readOnly}`, disable(t.serviceId)));
    expect(refused.status).toBe(403);
    expect(refused.json.errors[0].extensions.code).toBe('INSUFFICIENT_SCOPE');
    expect(refused.json.extensions.cost.throttleStatus).toEqual({ maximumAvailable: 1000, currentlyAvailable: 1000, restoreRate: 0.001 });
    const allowed = await s.post(`Bearer ${readOnly}`, eligibility(t.serviceId));
    expect(allowed.status).toBe(200);
    expect(allowed.json.extensions.cost.throttleStatus.currentlyAvailable).toBe(975);
  });
});

describe('requests without a valid token, per client address', () => {
  it('missing, malformed and unknown tokens take from the address\'s bucket; once empty, refused before any lookup; another address is not starved', async () => {
    const s = await serverWith({ addressBucketPoints: 3, addressRestorePerSecond: 0.001 });
    const valid = await freshToken();
    // valid tokens take nothing from the address's bucket
    for (let i = 0; i < 5; i++) expect((await s.post(`Bearer ${valid}`, eligibility(t.serviceId))).status).toBe(200);

    const bogus = [undefined, 'Bearer !!', 'Bearer pga_unknownunknownunknownunknown'];
    for (const authorization of bogus) {
      const r = await s.post(authorization, '{ __typename }');
      expect(r.status).toBe(401);
      expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const lookups = s.counter.lookups;
    for (const authorization of [...bogus, 'Bearer pga_anotherunknownanotherunknown']) {
      expectRateLimited(await unchanged(() => s.post(authorization, disable(t.serviceId))), 'address');
    }
    // the flooded address is refused for valid tokens too (telling them apart is the lookup the limit saves) ...
    expectRateLimited(await s.post(`Bearer ${valid}`, eligibility(t.serviceId)), 'address');
    expect(s.counter.lookups).toBe(lookups);   // no refused request reached the token lookup

    // ... while another client's address is not affected, with a valid token or a bogus one
    const elsewhere = await s.post(`Bearer ${valid}`, eligibility(t.serviceId), {}, '127.0.0.2');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.json.data.auditEligibility.eligible).toBe(true);
    expect((await s.post('Bearer pga_unknownunknownunknownunknown', '{ __typename }', {}, '127.0.0.2')).status).toBe(401);
    expect(await s.rateLimited('address')).toBe(5);
  });

  it('X-Forwarded-For is ignored unless TRUST_PROXY_HOPS says how many proxies append to it', async () => {
    const direct = await serverWith({ addressBucketPoints: 1, addressRestorePerSecond: 0.001 });
    expect((await direct.post(undefined, '{ __typename }', {}, '127.0.0.3', '10.1.1.1')).status).toBe(401);
    expectRateLimited(await direct.post(undefined, '{ __typename }', {}, '127.0.0.3', '10.2.2.2'), 'address');   // a forged header is no escape

    const proxied = await serverWith({ addressBucketPoints: 1, addressRestorePerSecond: 0.001, trustProxyHops: 1 });
    expect((await proxied.post(undefined, '{ __typename }', {}, '127.0.0.4', '6.6.6.6, 10.1.1.1')).status).toBe(401);
    expectRateLimited(await proxied.post(undefined, '{ __typename }', {}, '127.0.0.4', '7.7.7.7, 10.1.1.1'), 'address');   // the client's own entry is not trusted
    expect((await proxied.post(undefined, '{ __typename }', {}, '127.0.0.4', '10.2.2.2')).status).toBe(401);   // another client behind the proxy
  });
});

describe('POST /export: the same limits as /graphql', () => {
  const cheap = '{ __typename }';   // costs 0, charged 1: reads the bucket back

  it('an export takes 50 points to start and 1 per 100 events written, owed past the bucket; then 429 + Retry-After before anything opens', async () => {
    const s = await serverWith({ tokenBucketPoints: 52, tokenRestorePerSecond: 0.001 });
    // every export here completes (none is partial): a partial one keeps its point in time open for its resume, which
    // test/export.test.ts, counting the cluster's PITs, would see
    const one = await createTenant(g, { serviceUrl: urls.pgaudit });
    await indexEvents(g, one, 1, { database: 'rl_db' });
    const tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
    await indexEvents(g, tenant, 250, { database: 'rl_db' });
    // exactly 50 + 1: an export of one event, then a request of cost 0 (charged 1) empties the bucket
    const exact = one.token;
    expect((await s.send('/export', `Bearer ${exact}`, { serviceId: one.serviceId })).status).toBe(200);
    expect((await s.post(`Bearer ${exact}`, cheap)).json.extensions.cost.throttleStatus.currentlyAvailable).toBe(0);

    // 250 events in one page: 50 + 3 points from a bucket of 52; the stream is not cut for it, the point is owed
    const ok = await s.send('/export', `Bearer ${tenant.token}`, { serviceId: tenant.serviceId });
    expect(ok.status).toBe(200);
    expect(ok.text.trim().split('\n')).toHaveLength(251);
    expect(JSON.parse(ok.text.trim().split('\n').at(-1)!)['@export']).toMatchObject({ status: 'complete', events: 250 });
    const refused = await s.send('/export', `Bearer ${tenant.token}`, { serviceId: tenant.serviceId });
    expectRateLimited(refused, 'token');
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.json.errors[0].extensions.throttleStatus).toEqual({ maximumAvailable: 52, currentlyAvailable: 0, restoreRate: 0.001 });
    // the debt refuses the token's GraphQL requests too, before they are parsed
    expectRateLimited(await s.post(`Bearer ${tenant.token}`, cheap), 'token');
    expect(await s.rateLimited('token')).toBe(2);
    // another token of the same project is not affected
    const other = (await g.gateway.tenancy.createToken(tenant.projectId, `rl-export-${Date.now()}`, 'avnadmin')).token;
    expect((await s.send('/export', `Bearer ${other}`, { serviceId: tenant.serviceId, format: 'csv' })).status).toBe(200);
  });

  it('a token with fewer points than an export\'s start is refused with the cost in extensions, and the refusal takes nothing', async () => {
    const s = await serverWith({ tokenBucketPoints: 60, tokenRestorePerSecond: 0.001 });
    const token = await freshToken();
    for (let i = 0; i < 20; i++) expect((await s.post(`Bearer ${token}`, cheap)).status).toBe(200);   // 40 left
    const refused = await s.send('/export', `Bearer ${token}`, { serviceId: t.serviceId });
    expectRateLimited(refused, 'token');
    expect(refused.json.errors[0].extensions.cost).toEqual({ requestedQueryCost: EXPORT_COST.start,
      throttleStatus: { maximumAvailable: 60, currentlyAvailable: 40, restoreRate: 0.001 } });
    expect((await s.post(`Bearer ${token}`, cheap)).json.extensions.cost.throttleStatus.currentlyAvailable).toBe(39);
  });

  it('a request refused for its body or scope takes nothing', async () => {
    const s = await serverWith({ tokenBucketPoints: 100, tokenRestorePerSecond: 0.001 });
    const token = await freshToken();
    expect((await s.send('/export', `Bearer ${token}`, { serviceId: t.serviceId, format: 'xml' })).status).toBe(400);
    expect((await s.send('/export', `Bearer ${token}`, { nothing: 1 })).status).toBe(400);
    const readPolicy = (await g.gateway.tenancy.createToken(t.projectId, `rl-scope-${Date.now()}`, 'avnadmin', { scopes: 'read:policy' })).token;
    expect((await s.send('/export', `Bearer ${readPolicy}`, { serviceId: t.serviceId })).status).toBe(403);
    expect((await s.post(`Bearer ${token}`, cheap)).json.extensions.cost.throttleStatus.currentlyAvailable).toBe(99);
    expect((await s.post(`Bearer ${readPolicy}`, cheap)).json.extensions.cost.throttleStatus.currentlyAvailable).toBe(99);
  });

  it('requests without a valid token take from the address\'s bucket; once empty, 429 before any lookup, valid tokens included; another address is not starved', async () => {
    const s = await serverWith({ addressBucketPoints: 2, addressRestorePerSecond: 0.001 });
    for (const authorization of [undefined, 'Bearer pga_unknownunknownunknownunknown']) {
      const r = await s.send('/export', authorization, { serviceId: t.serviceId });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    const lookups = s.counter.lookups;
    expectRateLimited(await s.send('/export', 'Bearer pga_anotherunknownanotherunknown', { serviceId: t.serviceId }), 'address');
    expectRateLimited(await s.send('/export', `Bearer ${t.token}`, { serviceId: t.serviceId }), 'address');
    expect(s.counter.lookups).toBe(lookups);
    expect((await s.send('/export', `Bearer ${t.token}`, { serviceId: t.serviceId }, '127.0.0.2')).status).toBe(200);
    expect(await s.rateLimited('address')).toBe(2);
  });
});

describe('/graphql/stream: a live tail pays as a query does', () => {
  const TAIL = 'subscription($s: ID!) { auditEventTail(serviceId: $s) { cursor } }';   // 50 points

  it('a subscription takes 50 points plus what it selects when it opens; then 429 + Retry-After, nothing opened', async () => {
    const s = await serverWith({ tokenBucketPoints: 90, tokenRestorePerSecond: 0.001 });
    const token = await freshToken();
    const first = await subscribe(s.base, token, TAIL, { s: t.serviceId });
    try {
      expect(first.status).toBe(200);
      const tails = g.gateway.events.tails.size;
      const second = await subscribe(s.base, token, TAIL, { s: t.serviceId });
      expect(second.status).toBe(429);
      expect(second.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy: 'token',
        throttleStatus: { maximumAvailable: 90, currentlyAvailable: 40 } });
      expect(second.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(g.gateway.events.tails.size).toBe(tails);
      expect(await s.rateLimited('token')).toBe(1);
    } finally { first.close(); }
  });

  it('requests without a valid token are limited per address, before any lookup', async () => {
    const s = await serverWith({ addressBucketPoints: 1, addressRestorePerSecond: 0.001 });
    expect((await subscribe(s.base, 'pga_unknownunknownunknownunknown', TAIL, { s: t.serviceId })).status).toBe(401);
    const lookups = s.counter.lookups;
    const refused = await subscribe(s.base, t.token, TAIL, { s: t.serviceId });
    expect(refused.status).toBe(429);
    expect(refused.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limitedBy: 'address' });
    expect(s.counter.lookups).toBe(lookups);
  });
});
