/**
 * The HTTP front as a client sees it: the real server (startHttpServer) on an ephemeral port, driven
 * with fetch. Authentication before any GraphQL (401 UNAUTHENTICATED for queries, mutations and
 * introspection alike), health endpoints, request ids, body limits, and tenant isolation: another
 * project's service is NOT_FOUND exactly like a service that does not exist, and nothing about it
 * (nor any stack trace, connection URL or token hash) ever reaches the caller.
 */
import { createHash, randomUUID } from 'node:crypto';
import { startEnvironment } from './support/environment';
import { createTenant, ELIGIBILITY, ENABLE, POLICY, resetServer, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, Reply, request as httpRequest, startHttp } from './support/http';
import { historyState, serverState } from './support/unchanged';

const MAX_BODY = 64 * 1024;

let g: TestGateway;
let http: Awaited<ReturnType<typeof startHttp>>;
let a: Tenant;          // owns the service (with an enabled policy and history)
let b: Tenant;          // another organization, entitled, on the same kind of server
/** Every response body this file received: scanned for leaks at the end. */
const seen: string[] = [];

/** A request to the server; its answer is kept in `seen`. */
async function request(path: string, init: RequestInit = {}): Promise<Reply> {
  const reply = await httpRequest(http.base + path, init);
  seen.push(reply.text);
  return reply;
}

/** POST /graphql as a well-behaved client. */
function gql(authorization: string | null, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> {
  return request('/graphql', graphqlPost(JSON.stringify({ query, variables }), { ...(authorization !== null ? { authorization } : {}), ...headers }));
}

const INTROSPECTION = `query { __schema { queryType { name } types { name } } }`;
const MALFORMED_AUTHORIZATION = [
  ['Basic x', 'Basic x'],
  ['Bearer alone', 'Bearer'],
  ['Bearer and a space', 'Bearer '],
  ['lower-case scheme with a real-looking token', 'bearer pga_abcdefghijklmnopqrstuvwxyz'],
  ['a 5 KB token', `Bearer pga_${'A'.repeat(5 * 1024)}`],
  ['a token with characters outside base64url', 'Bearer pga_abc/def+ghi=jkl!'],
] as const;

beforeAll(async () => {
  ({ g, t: a } = await startEnvironment());
  b = await createTenant(g, { serviceUrl: urls.pgaudit });
  http = await startHttp(g, MAX_BODY);
});
afterAll(async () => {
  await http?.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});

function expectUnauthenticated(r: Reply): void {
  expect(r.status).toBe(401);
  expect(r.json.errors).toHaveLength(1);
  expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  expect(r.json.data ?? null).toBeNull();
}

describe('authentication', () => {
  it('no Authorization header: 401 UNAUTHENTICATED for a query, a mutation and introspection', async () => {
    expectUnauthenticated(await gql(null, ELIGIBILITY, { serviceId: a.serviceId }));
    expectUnauthenticated(await gql(null, ENABLE, { input: { serviceId: a.serviceId, dryRun: true } }));
    expectUnauthenticated(await gql(null, INTROSPECTION));
    expectUnauthenticated(await gql(null, `{ __typename }`));
  });

  it.each(MALFORMED_AUTHORIZATION)('malformed header (%s): 401 UNAUTHENTICATED', async (_label, header) => {
    expectUnauthenticated(await gql(header, ELIGIBILITY, { serviceId: a.serviceId }));
  });

  it('a well-formed but unknown token: 401', async () => {
    const unknown = `pga_${Buffer.from(randomUUID() + randomUUID()).toString('base64url').slice(0, 43)}`;
    expectUnauthenticated(await gql(bearer(unknown), ELIGIBILITY, { serviceId: a.serviceId }));
    expectUnauthenticated(await gql(bearer(unknown), INTROSPECTION));
  });

  it('the token hash itself is not a credential: 401', async () => {
    expectUnauthenticated(await gql(bearer(createHash('sha256').update(a.token).digest('hex')), ELIGIBILITY, { serviceId: a.serviceId }));
  });

  it('the scheme is case-insensitive (RFC 9110), the token is not', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const r = await gql(`${scheme} ${a.token}`, ELIGIBILITY, { serviceId: a.serviceId });
      expect(r.status).toBe(200);
      expect(r.json.data.auditEligibility.eligible).toBe(true);
    }
    const swapped = a.token.replace(/[a-z]/, (c) => c.toUpperCase());
    expect(swapped).not.toBe(a.token);
    expectUnauthenticated(await gql(bearer(swapped), ELIGIBILITY, { serviceId: a.serviceId }));
  });

  it('a valid token: 200 with data', async () => {
    const r = await gql(bearer(a.token), ELIGIBILITY, { serviceId: a.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.auditEligibility.eligible).toBe(true);
    const i = await gql(bearer(a.token), INTROSPECTION);
    expect(i.status).toBe(200);
    expect(i.json.data.__schema.queryType.name).toBe('Query');
  });

  it('POST without content-type application/json is refused (CSRF prevention), never executed', async () => {
    const r = await request('/graphql', { method: 'POST', headers: { authorization: bearer(a.token), 'content-type': 'text/plain' },
      body: JSON.stringify({ query: ELIGIBILITY, variables: { serviceId: a.serviceId } }) });
    expect(r.status).toBe(400);
    expect(r.text).not.toContain('auditEligibility"');
  });
});

describe('HTTP endpoints', () => {
  it('GET /healthz and /readyz answer 200', async () => {
    const h = await request('/healthz');
    expect(h.status).toBe(200);
    expect(h.json).toEqual({ status: 'ok' });
    const r = await request('/readyz');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ready' });
    expect(r.json.checks).toEqual({ database: 'up', opensearch: 'up' });
  });

  it('unknown paths are 404', async () => {
    expect((await request('/nope')).status).toBe(404);
    expect((await request('/graphql/extra', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await request('/')).status).toBe(200);   // the browser console (console-route.ts; test/console.e2e.test.ts)
    expect((await request('/explorer')).status).toBe(200);   // the API explorer (test/explorer.e2e.test.ts)
    expect((await request('/explorer/')).status).toBe(404);
    expect((await request('/assets')).status).toBe(404);
  });

  it('x-request-id: a client-supplied id is echoed, otherwise one is generated', async () => {
    const id = `req-${Date.now()}.abc_1`;
    for (const r of [
      await request('/healthz', { headers: { 'x-request-id': id } }),
      await request('/nope', { headers: { 'x-request-id': id } }),
      await gql(null, ELIGIBILITY, { serviceId: a.serviceId }, { 'x-request-id': id }),
      await gql(bearer(a.token), ELIGIBILITY, { serviceId: a.serviceId }, { 'x-request-id': id }),
    ]) expect(r.headers.get('x-request-id')).toBe(id);
    const generated = (await request('/healthz')).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // an id that could smuggle something into logs or headers is replaced, not echoed
    const odd = await request('/healthz', { headers: { 'x-request-id': 'a b<script>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a body over the limit is 413 and the server keeps serving', async () => {
    const big = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(MAX_BODY + 1024) } });
    const r = await request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(a.token) }, body: big });
    expect(r.status).toBe(413);
    expect(r.json.errors[0].extensions.code).toBe('BAD_REQUEST');
    // much larger than any socket buffer, too
    const huge = JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const r2 = await request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(a.token) }, body: huge })
      .catch((err: Error) => ({ status: -1, error: err } as unknown as Reply));
    // the client may see the connection closed while still sending (-1); it must never be a 2xx or a 5xx
    expect([-1, 413]).toContain(r2.status);
    const ok = await gql(bearer(a.token), ELIGIBILITY, { serviceId: a.serviceId });
    expect(ok.status).toBe(200);
    expect(ok.json.data.auditEligibility.eligible).toBe(true);
    expect((await request('/healthz')).status).toBe(200);
  });

  it('a body just under the limit is processed normally', async () => {
    const query = `{ __typename }`;
    const pad = 'x'.repeat(MAX_BODY - 200);
    const r = await gql(bearer(a.token), query, { pad });
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual({ __typename: 'Query' });
  });

  it('invalid JSON is 400, with or without a token', async () => {
    for (const authorization of [bearer(a.token), undefined]) {
      const r = await request('/graphql', { method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{"query": "{ __typename }"' });
      expect(r.status).toBe(400);
      expect(r.json.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
  });
});

describe('tenant isolation', () => {
  const ENABLE_BRIEF = `mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) {
    policy { id serviceId version } revision { id } statements userErrors { code message field } } }`;
  let before: { history: unknown; server: unknown };

  beforeAll(async () => {
    const r = await gql(bearer(a.token), ENABLE_BRIEF, { input: { serviceId: a.serviceId, reason: 'owner enables' } });
    expect(r.status).toBe(200);
    expect(r.json.data.enableAuditLogging.userErrors).toEqual([]);
    before = { history: await historyState(g, a.serviceId), server: await serverState(urls.pgaudit) };
  });

  /** The error another tenant (or anyone naming an unknown service) gets: NOT_FOUND, nothing else. */
  function expectNotFound(r: Reply, field: string): void {
    expect(r.status).toBe(200);
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0].extensions).toEqual({ code: 'NOT_FOUND' });
    expect(r.json.errors[0].path).toEqual([field]);
    const data = r.json.data;
    // non-null fields null the whole data; a nullable one is null itself
    if (data !== null) expect(data).toEqual({ [field]: null });
  }

  const variants = () => [
    ['auditEligibility', ELIGIBILITY, (serviceId: string) => ({ serviceId })],
    ['auditPolicy', POLICY, (serviceId: string) => ({ serviceId })],
    ['enableAuditLogging', ENABLE_BRIEF, (serviceId: string) => ({ input: { serviceId, reason: 'cross-tenant' } })],
    ['enableAuditLogging', ENABLE_BRIEF, (serviceId: string) => ({ input: { serviceId, dryRun: true } })],
  ] as const;

  it("tenant B asking about tenant A's service: NOT_FOUND, no data", async () => {
    for (const [field, query, vars] of variants()) {
      const r = await gql(bearer(b.token), query, vars(a.serviceId));
      expectNotFound(r, field);
      expect(r.text).not.toContain(a.serviceId);
    }
  });

  it('an upper-case spelling of the id is not a way around it', async () => {
    expectNotFound(await gql(bearer(b.token), ELIGIBILITY, { serviceId: a.serviceId.toUpperCase() }), 'auditEligibility');
  });

  it('a random UUID and a non-UUID id give the very same answer', async () => {
    const answers: unknown[] = [];
    for (const serviceId of [a.serviceId, randomUUID(), 'not-a-uuid', '', "'; DROP TABLE service; --", 'x'.repeat(10_000)]) {
      for (const [field, query, vars] of variants()) {
        const r = await gql(bearer(b.token), query, vars(serviceId));
        expectNotFound(r, field);
        answers.push([field, r.status, r.json.errors[0].message, r.json.errors[0].extensions]);
      }
    }
    const distinct = new Set(answers.map((x) => JSON.stringify(x)));
    expect(distinct.size).toBe(new Set(variants().map(([field]) => field)).size);   // one answer per operation, whatever the id
  });

  it("A's policy, history and the server are unchanged; A still sees its own policy", async () => {
    expect(await historyState(g, a.serviceId)).toEqual(before.history);
    expect(await serverState(urls.pgaudit)).toEqual(before.server);
    const r = await gql(bearer(a.token), POLICY, { serviceId: a.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.data.auditPolicy).toMatchObject({ serviceId: a.serviceId, enabled: true, version: 1 });
    expect(r.json.data.auditPolicy.history.edges.map((e: any) => e.node.reason)).toEqual(['owner enables']);
  });

  it("B's own view is untouched by the attempts (no policy created for B either)", async () => {
    const r = await gql(bearer(b.token), POLICY, { serviceId: b.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.data.auditPolicy).toBeNull();
    expect(await historyState(g, b.serviceId)).toEqual({ policies: [], revisions: [] });
  });
});

describe('nothing leaks', () => {
  it('no response contained a stack trace, the connection URL or a token hash', async () => {
    // `seen` holds every answer this file received. So that this test holds run alone too, it makes its
    // own sample of the kinds of request above (no, malformed, A's and B's credentials; health, 404,
    // invalid JSON), and also a few error-provoking requests not made above.
    for (const authorization of [null, ...MALFORMED_AUTHORIZATION.map(([, header]) => header), bearer(a.token), bearer(b.token)]) {
      await gql(authorization, ELIGIBILITY, { serviceId: a.serviceId });
      await gql(authorization, POLICY, { serviceId: a.serviceId });
      await gql(authorization, INTROSPECTION);
    }
    for (const p of ['/healthz', '/readyz', '/nope']) await request(p);
    await request('/graphql', graphqlPost('{"query": "{ __typename }"', { authorization: bearer(a.token) }));
    await gql(bearer(a.token), `{ auditPolicy(serviceId: "${a.serviceId}", database: "${'d'.repeat(500)}") { id } }`);
    await gql(bearer(a.token), `{ auditEligibility(serviceId: "${a.serviceId}") { nope } }`);
    await gql(bearer(a.token), `{ auditEligibility(`);
    await request('/graphql', { method: 'GET', headers: { authorization: bearer(a.token) } });

    const port = new URL(urls.pgaudit).port;
    const user = decodeURIComponent(new URL(urls.pgaudit).username);
    const hashes = [a.token, b.token].map((t) => createHash('sha256').update(t).digest('hex'));
    expect(seen.length).toBeGreaterThan(30);
    for (const text of seen) {
      expect(text.toLowerCase()).not.toContain('stack');
      expect(text).not.toContain(`${user}@127.0.0.1:${port}`);
      expect(text).not.toContain(`127.0.0.1:${port}`);
      expect(text).not.toContain('postgres://');
      expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      for (const h of hashes) expect(text).not.toContain(h);
      for (const t of [a.token, b.token]) expect(text).not.toContain(t);
    }
  });
});
