/**
 * Tokens through the real HTTP server (startHttpServer), with the auth cache at 0 (AUTH_CACHE_TTL_MS=0):
 * expired, revoked and out-of-scope tokens are refused on EVERY root field of the schema, and each refusal
 * leaves the policy rows, their revisions and the target server's pgaudit settings as they were. Expired and
 * revoked tokens get the very answer an unknown token gets (401 UNAUTHENTICATED): nothing tells them apart.
 * An out-of-scope token gets 403 INSUFFICIENT_SCOPE naming the missing scope, before anything runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Kind, OperationDefinitionNode, parse } from 'graphql';
import { gatewaySchema } from '../src/api/schema';
import { ROOT_FIELD_SCOPE } from '../src/api/scopes';
import { ALL_SCOPES, Scope } from '../src/modules/tenancy/scope';
import { CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, POLICY, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, Reply, request, startHttp } from './support/http';
import { unchanged as unchangedOn } from './support/unchanged';
import { subscribe } from './support/sse';

/**
 * One valid, minimal document per root field of the schema, with its variables for a tenant. The first
 * test fails when the schema gains a root field without a row here, so every new field is tried below.
 */
const ROOT_FIELD_CASES: Record<string, { query: string; variables: (t: Tenant) => Record<string, unknown> }> = {
  'Query.auditEligibility': { query: ELIGIBILITY, variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.auditPolicy': { query: POLICY, variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.auditEvents': { query: `query($serviceId: ID!) { auditEvents(serviceId: $serviceId, first: 1) { totalCount edges { node { id statement } } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.auditEvent': { query: `query($serviceId: ID!, $id: ID!) { auditEvent(serviceId: $serviceId, id: $id) { id statement } }`,
    variables: (t) => ({ serviceId: t.serviceId, id: 'no-such-event' }) },
  'Query.auditEventStats': { query: `query($serviceId: ID!) { auditEventStats(serviceId: $serviceId) { totalCount groups { key count } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.sessionEvents': { query: `query($serviceId: ID!) { sessionEvents(serviceId: $serviceId, first: 1) { totalCount edges { node { id kind } } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.sessionEventStats': { query: `query($serviceId: ID!) { sessionEventStats(serviceId: $serviceId) { totalCount groups { key count } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Query.services': { query: `{ services(first: 2) { totalCount edges { node { id name audit { enabled } } } } }`, variables: () => ({}) },
  'Query.auditScopes': { query: `query($serviceId: ID!) { auditScopes(serviceId: $serviceId) { kind database role managed } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Mutation.enableAuditLogging': { query: ENABLE, variables: (t) => ({ input: { serviceId: t.serviceId, database: 'postgres', reason: 'tokens test' } }) },
  'Mutation.configureAuditLogging': { query: CONFIGURE, variables: (t) => ({ input: { serviceId: t.serviceId, settings: { logRows: true }, reason: 'tokens test' } }) },
  'Mutation.disableAuditLogging': { query: DISABLE, variables: (t) => ({ input: { serviceId: t.serviceId, reason: 'tokens test' } }) },
  'Mutation.setObjectAudit': { query: `mutation($input: SetObjectAuditInput!) { setObjectAudit(input: $input) { statements userErrors { code } } }`,
    variables: (t) => ({ input: { serviceId: t.serviceId, database: 'postgres', objects: [], reason: 'tokens test' } }) },
  'Mutation.reconcileAuditPolicy': { query: `mutation($input: ReconcileAuditPolicyInput!) { reconcileAuditPolicy(input: $input) { statements userErrors { code } } }`,
    variables: (t) => ({ input: { serviceId: t.serviceId, reason: 'tokens test' } }) },
  'Mutation.adoptAuditPolicy': { query: `mutation($input: AdoptAuditPolicyInput!) { adoptAuditPolicy(input: $input) { statements userErrors { code } } }`,
    variables: (t) => ({ input: { serviceId: t.serviceId, reason: 'tokens test' } }) },
  'Query.redactionRules': { query: `query($serviceId: ID!) { redactionRules(serviceId: $serviceId) { version rules { patterns } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
  'Mutation.setRedactionRules': { query: `mutation($input: SetRedactionRulesInput!) { setRedactionRules(input: $input) { ruleSet { version } userErrors { code } } }`,
    variables: (t) => ({ input: { serviceId: t.serviceId, reason: 'tokens test', expectedVersion: 999,
      rules: { dropParameters: true, maskStringLiterals: false, maskNumericLiterals: false, patterns: [] } } }) },
  'Query.viewer': { query: `{ viewer { tokenName databaseRole scopes { name } } }`, variables: () => ({}) },
  // served on /graphql/stream (gql below sends subscriptions there)
  'Subscription.auditEventTail': { query: `subscription($serviceId: ID!) { auditEventTail(serviceId: $serviceId) { cursor event { id } } }`,
    variables: (t) => ({ serviceId: t.serviceId }) },
};
const CASES = Object.entries(ROOT_FIELD_CASES);
/** The cases that need a scope (viewer needs none). */
const SCOPED_CASES = CASES.filter(([field]) => ROOT_FIELD_SCOPE[field as keyof typeof ROOT_FIELD_SCOPE] !== null);

let g: TestGateway;
let http: Awaited<ReturnType<typeof startHttp>>;
let a: Tenant;   // owns the service, with an enabled service-level policy (so configure and disable would act)

function gql(token: string, query: string, variables: Record<string, unknown>): Promise<Reply> {
  if (query.startsWith('subscription')) return streamReply(token, query, variables);
  return request(`${http.base}/graphql`, graphqlPost(JSON.stringify({ query, variables }), { authorization: bearer(token) }));
}

/** A subscription's answer: a refusal as it is; an accepted stream as 200 with no errors (disconnected at once). */
async function streamReply(token: string, query: string, variables: Record<string, unknown>): Promise<Reply> {
  const sub = await subscribe(http.base, token, query, variables);
  sub.close();
  return { status: sub.status, headers: sub.headers, text: sub.text, json: sub.json ?? {} };
}

/** A token of tenant a's project with these scopes (all by default). */
async function token(scopes: readonly Scope[] = ALL_SCOPES, opts: { expiresIn?: string } = {}): Promise<{ id: string; token: string }> {
  return g.gateway.tenancy.createToken(a.projectId, `tokens-test-${randomBytes(4).toString('hex')}`, 'avnadmin', { scopes: scopes.join(','), ...opts });
}

const unchanged = <T>(fn: () => Promise<T>): Promise<T> => unchangedOn(g, urls.pgaudit, a.serviceId, fn);

beforeAll(async () => {
  await resetServer(urls.pgaudit);
  g = await startTestGateway({ AUTH_CACHE_TTL_MS: '0' });
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  http = await startHttp(g, 1024 * 1024);
  const enabled = await gql(a.token, ENABLE, { input: { serviceId: a.serviceId, reason: 'owner enables' } });
  expect(enabled.json.data.enableAuditLogging.userErrors).toEqual([]);
});
afterAll(async () => {
  await http?.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});

describe('the cases', () => {
  it('cover every root field of the schema, each document naming exactly its field', () => {
    const schema = gatewaySchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) => Object.keys(t!.getFields()).map((f) => `${t!.name}.${f}`));
    expect(Object.keys(ROOT_FIELD_CASES).sort()).toEqual(fields.sort());
    for (const [field, { query }] of CASES) {
      const op = parse(query).definitions[0] as OperationDefinitionNode;
      const names = op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '?'));
      expect(`${{ query: 'Query', mutation: 'Mutation', subscription: 'Subscription' }[op.operation]}.${names.join(',')}`).toBe(field);
    }
  });
});

/** 401 UNAUTHENTICATED, byte for byte the answer an unknown token gets for the same request. */
async function expectLikeUnknown(r: Reply, query: string, variables: Record<string, unknown>): Promise<void> {
  expect(r.status).toBe(401);
  expect(r.json.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
  expect(r.json.data ?? null).toBeNull();
  const unknown = await gql(`pga_${randomBytes(32).toString('base64url')}`, query, variables);
  expect(r.status).toBe(unknown.status);
  expect(r.text).toBe(unknown.text);
}

describe('expired tokens', () => {
  it('are refused on every root field like an unknown token, and nothing changes', async () => {
    const t = await token(ALL_SCOPES, { expiresIn: '1h' });
    expect((await gql(t.token, ELIGIBILITY, { serviceId: a.serviceId })).status).toBe(200);   // works until it expires
    await sql(urls.gatewayDb, `UPDATE api_token SET expires_at = now() - interval '1 second' WHERE id = $1`, [t.id]);
    await unchanged(async () => {
      for (const [, c] of CASES) await expectLikeUnknown(await gql(t.token, c.query, c.variables(a)), c.query, c.variables(a));
    });
  });

  it('one that expires at this very moment is refused too (the expiry instant counts as expired)', async () => {
    const t = await token();
    await sql(urls.gatewayDb, `UPDATE api_token SET expires_at = now() WHERE id = $1`, [t.id]);
    await unchanged(async () => {
      const r = await gql(t.token, ELIGIBILITY, { serviceId: a.serviceId });
      await expectLikeUnknown(r, ELIGIBILITY, { serviceId: a.serviceId });
    });
  });
});

describe('revoked tokens', () => {
  it('are refused on every root field like an unknown token at once (cache at 0), and nothing changes', async () => {
    const t = await token();
    expect((await gql(t.token, ELIGIBILITY, { serviceId: a.serviceId })).status).toBe(200);
    const revoked = await g.gateway.tenancy.revokeToken(t.id);
    expect(revoked.revokedNow).toBe(true);
    await unchanged(async () => {
      for (const [, c] of CASES) await expectLikeUnknown(await gql(t.token, c.query, c.variables(a)), c.query, c.variables(a));
    });
    // idempotent: the first revocation time stays
    const again = await g.gateway.tenancy.revokeToken(t.id);
    expect(again.revokedNow).toBe(false);
    expect(again.token.revokedAt).toEqual(revoked.token.revokedAt);
  });

  it('the owner\'s own token keeps working: revocation is per token', async () => {
    const r = await gql(a.token, ELIGIBILITY, { serviceId: a.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.data.auditEligibility.eligible).toBe(true);
  });
});

describe('out-of-scope tokens', () => {
  it.each(SCOPED_CASES)('%s: refused with 403 INSUFFICIENT_SCOPE to a token holding every other scope, nothing runs or changes', async (field, c) => {
    const needed = ROOT_FIELD_SCOPE[field as keyof typeof ROOT_FIELD_SCOPE];
    const t = await token(ALL_SCOPES.filter((s) => s !== needed));
    await unchanged(async () => {
      const r = await gql(t.token, c.query, c.variables(a));
      expect(r.status).toBe(403);
      expect(r.json.data ?? null).toBeNull();
      expect(r.json.errors).toHaveLength(1);
      expect(r.json.errors[0].extensions).toEqual({ code: 'INSUFFICIENT_SCOPE', requiredScopes: [needed], missingScopes: [needed] });
      expect(r.json.errors[0].message).toContain(needed);
    });
  });

  it('a read-only console token (read:events,read:policy) reads but every mutation is refused', async () => {
    const t = await token(['read:events', 'read:policy']);
    await unchanged(async () => {
      for (const [field, c] of CASES) {
        const r = await gql(t.token, c.query, c.variables(a));
        if (field.startsWith('Mutation.')) {
          expect(r.status).toBe(403);
          expect(r.json.errors[0].extensions.missingScopes).toEqual(['write:policy']);
        } else {
          expect(r.json.errors?.map((e: any) => e.extensions.code) ?? []).not.toContain('INSUFFICIENT_SCOPE');
          expect(r.status).toBe(200);
        }
      }
    });
    const policy = await gql(t.token, POLICY, { serviceId: a.serviceId });
    expect(policy.json.data.auditPolicy).toMatchObject({ serviceId: a.serviceId, enabled: true });
  });

  it('one field out of scope refuses the whole operation: the in-scope field does not run either', async () => {
    const t = await token(['read:policy']);
    const query = `query($serviceId: ID!) { auditEligibility(serviceId: $serviceId) { eligible }
      ...E }
      fragment E on Query { auditEvents(serviceId: $serviceId, first: 1) { totalCount } }`;
    await unchanged(async () => {
      const r = await gql(t.token, query, { serviceId: a.serviceId });
      expect(r.status).toBe(403);
      expect(r.json.data ?? null).toBeNull();
      expect(r.json.errors[0].extensions).toEqual({ code: 'INSUFFICIENT_SCOPE', requiredScopes: ['read:events', 'read:policy'], missingScopes: ['read:events'] });
    });
  });

  it('viewer needs no scope beyond a valid token: it answers what the token may do, never the token itself', async () => {
    const t = await token(['read:events'], { expiresIn: '1h' });
    await unchanged(async () => {
      const r = await gql(t.token, `{ viewer { tokenId tokenName projectId organizationId databaseRole expiresAt scopes { name description } } }`, {});
      expect(r.status).toBe(200);
      const v = r.json.data.viewer;
      expect(v).toMatchObject({ tokenId: t.id, projectId: a.projectId, databaseRole: 'avnadmin', scopes: [{ name: 'read:events' }] });
      expect(v.tokenName).toMatch(/^tokens-test-/);
      expect(v.scopes[0].description).toContain('audit');
      expect(Date.parse(v.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
      expect(r.text).not.toContain(t.token);
    });
  });

  it('introspection needs no scope', async () => {
    const t = await token(['read:events']);
    const r = await gql(t.token, `{ __typename __schema { queryType { name } } }`, {});
    expect(r.status).toBe(200);
    expect(r.json.data.__schema.queryType.name).toBe('Query');
  });
});

describe('tokens made after a miss', () => {
  it('work at once with the cache at 0', async () => {
    const secret = `pga_${randomBytes(32).toString('base64url')}`;
    await expectLikeUnknown(await gql(secret, ELIGIBILITY, { serviceId: a.serviceId }), ELIGIBILITY, { serviceId: a.serviceId });
    // the same row admin create-token writes, with a secret this test chose
    await sql(urls.gatewayDb, `INSERT INTO api_token (id, project_id, name, database_role, token_hash, scopes)
      VALUES (gen_random_uuid(), $1, 'chosen', 'avnadmin', $2, ARRAY['read:policy'])`, [a.projectId, createHash('sha256').update(secret).digest('hex')]);
    const r = await gql(secret, ELIGIBILITY, { serviceId: a.serviceId });
    expect(r.status).toBe(200);
    expect(r.json.data.auditEligibility.eligible).toBe(true);
  });
});

describe('the refused documents are ones that work', () => {
  it('with every scope, each case reaches its resolver (no authentication, scope or validation error)', async () => {
    for (const [field, c] of CASES) {
      const r = await gql(a.token, c.query, c.variables(a));
      const codes = r.json.errors?.map((e: any) => e.extensions.code) ?? [];
      expect([field, codes.filter((x: string) => ['UNAUTHENTICATED', 'INSUFFICIENT_SCOPE', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'].includes(x))]).toEqual([field, []]);
      expect([field, r.status]).toEqual([field, 200]);
    }
    // and the mutations did act: configure, then disable, each wrote a revision
    const revisions = await sql(urls.gatewayDb, `SELECT r.action FROM audit_policy_revision r JOIN audit_policy p ON p.id = r.policy_id
      WHERE p.service_id = $1 AND p.database = '' ORDER BY r.version`, [a.serviceId]);
    expect(revisions.map((r) => r.action)).toEqual(['ENABLED', 'CONFIGURED', 'DISABLED']);
  });
});
