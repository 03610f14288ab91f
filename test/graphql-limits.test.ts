/**
 * GraphQL limits, through the real HTTP server: tokens, depth, aliases, directives, root fields and the cost
 * model are checked before anything runs. A refused request gets a clear error and no data, and changes
 * nothing (mutations aliased fifty times are the flood that would otherwise hit a customer's server).
 * Every answered request reports its cost in `extensions.cost`.
 */
import { startHttpServer } from '../src/api/http-server';
import { DEFAULT_GRAPHQL_LIMITS, GraphQLLimits } from '../src/base/config';
import { silentLogger } from '../src/base/logger';
import { startEnvironment } from './support/environment';
import { ENABLE, resetServer, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, Reply, request } from './support/http';
import { unchanged as unchangedOn } from './support/unchanged';

let g: TestGateway;
let t: Tenant;
const servers: { port: number; close(): Promise<void> }[] = [];

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

/** A real HTTP server with `limits` over the default ones. */
async function serverWith(limits: Partial<GraphQLLimits> = {}): Promise<(query: string, variables?: Record<string, unknown>) => Promise<Reply>> {
  const s = await startHttpServer({ ...g.gateway, logger: silentLogger, maxBodyBytes: 1 << 20, graphql: { ...DEFAULT_GRAPHQL_LIMITS, ...limits } }, 0, '127.0.0.1');
  servers.push(s);
  return (query, variables = {}) => request(`http://127.0.0.1:${s.port}/graphql`, graphqlPost(JSON.stringify({ query, variables }), { authorization: bearer(t.token) }));
}

const unchanged = <T>(fn: () => Promise<T>) => unchangedOn(g, urls.pgaudit, t.serviceId, fn);
const aliased = (n: number, field: (i: number) => string) => Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join('\n');
const disable = () => `disableAuditLogging(input: {serviceId: "${t.serviceId}"}) { userErrors { code } }`;

/** Refused before anything ran: an error with `code`, no data. */
function expectRefused(r: Reply, code: string, message: RegExp): void {
  expect(r.json.data ?? null).toBeNull();
  expect(r.json.errors.length).toBeGreaterThan(0);
  for (const e of r.json.errors) expect(e.extensions.code).toBe(code);
  expect(r.json.errors.map((e: { message: string }) => e.message)).toContainEqual(expect.stringMatching(message));
  expect(r.text).not.toMatch(/\.ts:\d+|\.js:\d+|stacktrace/i);
}

describe('successful', () => {
  it('successful-cost-report: an answered request carries extensions.cost', async () => {
    const gql = await serverWith();
    const r = await gql(`query($s: ID!) { auditEligibility(serviceId: $s) { eligible checks { requirement satisfied } } }`, { s: t.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.data.auditEligibility.eligible).toBe(true);
    expect(r.json.extensions.cost).toEqual({ requestedQueryCost: 26, maximumAvailable: DEFAULT_GRAPHQL_LIMITS.maxCost });
  });

  it('successful-at-the-limits: exactly maxAliases aliases and maxRootFields root fields are answered', async () => {
    const gql = await serverWith();
    const n = Math.min(DEFAULT_GRAPHQL_LIMITS.maxAliases, DEFAULT_GRAPHQL_LIMITS.maxRootFields);
    const r = await gql(`{ ${aliased(n, () => `auditEligibility(serviceId: "${t.serviceId}") { eligible }`)} }`);
    expect(r.json.errors).toBeUndefined();
    expect(Object.keys(r.json.data)).toHaveLength(n);
  });
});

describe('failing', () => {
  it('failing-alias-flood: fifty aliased mutations are refused before any runs, and nothing changes', async () => {
    const gql = await serverWith();
    const r = await unchanged(() => gql(`mutation { ${aliased(50, disable)} }`));
    expectRefused(r, 'GRAPHQL_VALIDATION_FAILED', /aliases/i);
  });

  it('failing-root-fields: more root fields than GRAPHQL_MAX_ROOT_FIELDS are refused, fragments counted', async () => {
    const gql = await serverWith({ maxAliases: 100, maxRootFields: 5 });
    const r = await unchanged(() => gql(`mutation { ...F ${aliased(3, disable)} } fragment F on Mutation { b0: ${disable()} b1: ${disable()} b2: ${disable()} }`));
    expectRefused(r, 'GRAPHQL_VALIDATION_FAILED', /Too many root fields: 6 in one operation, at most 5/);
  });

  it('failing-depth: a selection deeper than GRAPHQL_MAX_DEPTH is refused', async () => {
    const gql = await serverWith({ maxDepth: 4 });
    const r = await gql(`query($s: ID!) { auditPolicy(serviceId: $s) { history { edges { node { settings { log } } } } } }`, { s: t.serviceId });
    expectRefused(r, 'GRAPHQL_VALIDATION_FAILED', /depth/i);
  });

  it('failing-directives: a directive flood is refused', async () => {
    const gql = await serverWith();
    const r = await gql(`{ __typename ${'@include(if: true) '.repeat(50)} }`);
    expectRefused(r, 'GRAPHQL_VALIDATION_FAILED', /directives/i);
  });

  it('failing-tokens: a document over GRAPHQL_MAX_TOKENS is refused at parse time', async () => {
    const gql = await serverWith({ maxTokens: 500 });
    const r = await gql(`{ __typename ${'__typename '.repeat(1000)} }`);
    expect(r.json.data ?? null).toBeNull();
    expect(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']).toContain(r.json.errors[0].extensions.code);
    expect(r.json.errors[0].message).toMatch(/token/i);
  });

  it('failing-cost: a request over GRAPHQL_MAX_COST is refused with QUERY_TOO_COMPLEX and its cost, and nothing changes', async () => {
    const gql = await serverWith({ maxCost: 150 });
    const dryRun = `disableAuditLogging(input: {serviceId: "${t.serviceId}", dryRun: true}) { userErrors { code } }`;
    const r = await unchanged(async () => {
      const one = await gql(`mutation { ${dryRun} }`);                     // one mutation fits (a dry run: it changes nothing)...
      expect(one.json.errors).toBeUndefined();
      expect(one.json.extensions.cost).toEqual({ requestedQueryCost: 101, maximumAvailable: 150 });
      return gql(`mutation { a: ${disable()} b: ${disable()} }`);          // ...two do not, and neither runs
    });
    expect(r.status).toBe(400);
    expectRefused(r, 'QUERY_TOO_COMPLEX', /query cost 202 is over the limit of 150/);
    expect(r.json.errors[0].extensions.cost).toEqual({ requestedQueryCost: 202, maximumAvailable: 150 });
  });

  it('failing-cost-page: a page of events costs by its size', async () => {
    const gql = await serverWith({ maxCost: 100 });
    const q = `query($s: ID!, $n: Int!) { auditEvents(serviceId: $s, first: $n) { edges { node { id statement } } } }`;
    const small = await gql(q, { s: t.serviceId, n: 5 });
    expect(small.json.extensions.cost.requestedQueryCost).toBeLessThanOrEqual(100);
    const big = await gql(q, { s: t.serviceId, n: 100 });
    expectRefused(big, 'QUERY_TOO_COMPLEX', /over the limit of 100/);
  });
});
