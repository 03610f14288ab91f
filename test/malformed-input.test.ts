/**
 * Malformed requests: wrong types, unknown enum values, missing or unknown input fields, huge strings,
 * garbage query text, fields that do not exist. Each must come back as a clear, machine-readable
 * error (a GraphQL/Apollo request-error code or a userError code) -- never INTERNAL_SERVER_ERROR, never
 * an HTTP 500, never the whole offending value echoed back -- and must change nothing: neither the
 * pgaudit settings of the server nor the gateway's policy history.
 */
import { startEnvironment } from './support/environment';
import { CONFIGURE, createTenant, DISABLE, ELIGIBILITY, ENABLE, indexEvents, POLICY, resetServer, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, Reply, request, startHttp } from './support/http';
import { unchanged as unchangedOn } from './support/unchanged';
import { subscribe } from './support/sse';
import { env } from './support/env';

type GqlError = { message: string; extensions?: Record<string, unknown>; path?: unknown };
type Result = { data?: Record<string, any> | null; errors?: GqlError[] };

/** Request-level codes a malformed request may get (the request never reached a resolver, or a validator refused it). */
const REQUEST_CODES = ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED'];
const BIG = 200 * 1024;

let g: TestGateway;
let t: Tenant;
let http: Awaited<ReturnType<typeof startHttp>>;

beforeAll(async () => {
  ({ g, t } = await startEnvironment());
  // an enabled policy with history, so "nothing changed" has something to compare
  const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, reason: 'baseline' } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  http = await startHttp(g, 4 * 1024 * 1024);
});
afterAll(async () => {
  await http?.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});

/** Runs `fn` and checks that neither the server's pgaudit state nor the service's history moved. */
const unchanged = <T>(fn: () => Promise<T>): Promise<T> => unchangedOn(g, urls.pgaudit, t.serviceId, fn);

/** A top-level error with one of `codes`, bounded and free of internals, and no data. */
function expectRequestError(r: Result, codes: string[] = REQUEST_CODES): GqlError {
  expect(r.errors?.length ?? 0).toBeGreaterThan(0);
  for (const e of r.errors!) {
    expect(codes).toContain(e.extensions?.code);
    expect(e.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(e.message.length).toBeLessThan(2000);
    // no stack trace (a parser that runs out of stack may say so: "Maximum call stack size exceeded")
    expect(JSON.stringify(e)).not.toMatch(/stacktrace|\bat .*\.(ts|js):\d+|\.ts:\d+|\.js:\d+/i);
    expect(e.extensions).toEqual({ code: e.extensions?.code, ...(e.extensions?.validationErrors ? { validationErrors: e.extensions.validationErrors } : {}) });
  }
  expect(r.data ?? null).toBeNull();
  return r.errors![0]!;
}

/** A refused mutation: a userError with `code` on `field`, nothing applied, message bounded. */
function expectUserError(payload: any, code: string, field: string[] | null): void {
  expect(payload.policy).toBeNull();
  expect(payload.revision).toBeNull();
  expect(payload.statements).toEqual([]);
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0]).toMatchObject({ code, field });
  expect(payload.userErrors[0].message.length).toBeLessThan(500);
}

/** POST /graphql on the real HTTP server (`raw`: the body as given, not JSON-encoded). */
function post(body: unknown, raw = false): Promise<Reply> {
  return request(`${http.base}/graphql`, graphqlPost(raw ? (body as string) : JSON.stringify(body), { authorization: bearer(t.token) }));
}

describe('wrong types (variables)', () => {
  it.each([
    ['serviceId: true', { serviceId: true }],
    ['serviceId: 5.5', { serviceId: 5.5 }],
    ['serviceId: an object', { serviceId: { id: 'x' } }],
    ['serviceId: a list', { serviceId: ['a', 'b'] }],
    ['serviceId: null', { serviceId: null }],
  ])('%s -> BAD_USER_INPUT', async (_label, input) => {
    await unchanged(async () => {
      expectRequestError(await g.exec(t.token, ENABLE, { input }), ['BAD_USER_INPUT']);
      expectRequestError(await g.exec(t.token, ELIGIBILITY, input), ['BAD_USER_INPUT']);
    });
  });

  it('serviceId: 5 is a valid ID ("5", GraphQL coerces Int to ID) that names no service: NOT_FOUND', async () => {
    await unchanged(async () => {
      const r = await g.exec(t.token, ENABLE, { input: { serviceId: 5 } });
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.extensions).toEqual({ code: 'NOT_FOUND' });
      expect(r.data ?? null).toBeNull();
    });
  });

  it.each([
    ['log: 5', { log: 5 }],
    ['log: [true]', { log: [true] }],
    ['logCatalog: "yes"', { logCatalog: 'yes' }],
    ['logCatalog: 1', { logCatalog: 1 }],
    ['logParameterMaxSize: 1e12 (beyond Int)', { logParameterMaxSize: 1e12 }],
    ['logParameterMaxSize: 2^31', { logParameterMaxSize: 2 ** 31 }],
    ['logParameterMaxSize: 1.5', { logParameterMaxSize: 1.5 }],
    ['logParameterMaxSize: "10"', { logParameterMaxSize: '10' }],
    ['role: 42', { role: 42 }],
    ['log: ["EVERYTHING"] (unknown enum value)', { log: ['EVERYTHING'] }],
    ['log: ["read"] (enum values are upper case)', { log: ['read'] }],
    ['logExclude: ["NOTHING"]', { logExclude: ['NOTHING'] }],
    ['logLevel: "ERROR" (not a pgaudit level)', { logLevel: 'ERROR' }],
    ['logLevel: "notice"', { logLevel: 'notice' }],
    ['settings: "all"', 'all'],
  ])('settings.%s -> BAD_USER_INPUT, on enable and configure', async (_label, settings) => {
    await unchanged(async () => {
      for (const [query, input] of [[ENABLE, { serviceId: t.serviceId, settings }], [CONFIGURE, { serviceId: t.serviceId, settings }],
        [ENABLE, { serviceId: t.serviceId, settings, dryRun: true }]] as const) {
        const e = expectRequestError(await g.exec(t.token, query, { input }), ['BAD_USER_INPUT']);
        expect(e.message).toMatch(/\$input|input/);
      }
    });
  });

  it('settings.log: "READ" as a variable is a one-item list by GraphQL input coercion (not an error)', async () => {
    await unchanged(async () => {
      const r = await g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings: { log: 'READ' }, dryRun: true } });
      expect(r.errors).toBeUndefined();
      expect(r.data!.configureAuditLogging.userErrors).toEqual([]);
      expect(r.data!.configureAuditLogging.statements).toEqual([`ALTER SYSTEM SET pgaudit.log = 'read'`, 'SELECT pg_reload_conf()']);
    });
  });

  it('expectedVersion: "one" / 1.5 / 1e12 -> BAD_USER_INPUT; -1 -> BAD_USER_INPUT (validator)', async () => {
    await unchanged(async () => {
      for (const expectedVersion of ['one', 1.5, 1e12, -1]) {
        expectRequestError(await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, expectedVersion } }), ['BAD_USER_INPUT']);
      }
    });
  });

  it('history(first: 0 / 1000 / "x") -> BAD_USER_INPUT', async () => {
    for (const first of [0, 1000, 'x']) {
      const r = await g.exec(t.token, POLICY, { serviceId: t.serviceId, first });
      expect(r.errors?.length).toBeGreaterThan(0);
      for (const e of r.errors!) expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('wrong types (literals in the query text)', () => {
  const enable = (input: string) => `mutation { enableAuditLogging(input: ${input}) { statements userErrors { code } } }`;
  it.each([
    ['serviceId: true', `{ serviceId: true }`],
    ['settings.log: "READ" (a string, not an enum value)', `{ serviceId: "SVC", settings: { log: "READ" } }`],
    ['settings.log: [EVERYTHING]', `{ serviceId: "SVC", settings: { log: [EVERYTHING] } }`],
    ['settings.logLevel: ERROR', `{ serviceId: "SVC", settings: { logLevel: ERROR } }`],
    ['settings.logCatalog: "yes"', `{ serviceId: "SVC", settings: { logCatalog: "yes" } }`],
    ['settings.logParameterMaxSize: 1000000000000', `{ serviceId: "SVC", settings: { logParameterMaxSize: 1000000000000 } }`],
    ['settings.logParameterMaxSize: 1.5', `{ serviceId: "SVC", settings: { logParameterMaxSize: 1.5 } }`],
    ['an unknown input field', `{ serviceId: "SVC", everything: true }`],
    ['an unknown settings field', `{ serviceId: "SVC", settings: { logEverything: true } }`],
    ['serviceId missing', `{ settings: { logCatalog: true } }`],
    ['input: null', `null`],
  ])('%s -> GRAPHQL_VALIDATION_FAILED', async (_label, input) => {
    await unchanged(async () => {
      expectRequestError(await g.exec(t.token, enable(input.replace('SVC', t.serviceId))), ['GRAPHQL_VALIDATION_FAILED']);
    });
  });

  it('a 200 KB literal of the wrong type: GRAPHQL_VALIDATION_FAILED whose message repeats at most 500 characters of it', async () => {
    await unchanged(async () => {
      const r = await g.exec(t.token, enable(`{ serviceId: "${t.serviceId}", settings: { logLevel: "${'x'.repeat(BIG)}" } }`));
      expectRequestError(r, ['GRAPHQL_VALIDATION_FAILED']);
      for (const e of r.errors!) expect(e.message.length).toBeLessThanOrEqual(500);
    });
  });

  it('a mutation without its required argument -> GRAPHQL_VALIDATION_FAILED', async () => {
    await unchanged(async () => {
      expectRequestError(await g.exec(t.token, `mutation { enableAuditLogging { statements } }`), ['GRAPHQL_VALIDATION_FAILED']);
      expectRequestError(await g.exec(t.token, `mutation { configureAuditLogging(input: { serviceId: "${t.serviceId}" }) { statements } }`),
        ['GRAPHQL_VALIDATION_FAILED']);
      expectRequestError(await g.exec(t.token, `{ auditEligibility { eligible } }`), ['GRAPHQL_VALIDATION_FAILED']);
    });
  });
});

describe('missing and unknown input (variables)', () => {
  it.each([
    ['no $input at all', ENABLE, {}],
    ['$input: null', ENABLE, { input: null }],
    ['$input without serviceId', ENABLE, { input: { reason: 'x' } }],
    ['configure without settings', CONFIGURE, { input: { serviceId: 'SVC' } }],
    ['configure with settings: null', CONFIGURE, { input: { serviceId: 'SVC', settings: null } }],
    ['an unknown input field', ENABLE, { input: { serviceId: 'SVC', everything: true } }],
    ['an unknown settings field', ENABLE, { input: { serviceId: 'SVC', settings: { logEverything: true } } }],
    ['a misspelt field (camel case)', DISABLE, { input: { serviceId: 'SVC', expected_version: 1 } }],
    ['$serviceId missing on a query', ELIGIBILITY, {}],
  ])('%s -> BAD_USER_INPUT', async (_label, query, variables) => {
    const vars = JSON.parse(JSON.stringify(variables).replace('SVC', t.serviceId));
    await unchanged(async () => { expectRequestError(await g.exec(t.token, query, vars), ['BAD_USER_INPUT']); });
  });
});

describe('huge strings', () => {
  const huge = (c: string) => c.repeat(BIG);

  it('a 200 KB database name: DATABASE_NOT_FOUND on every mutation, null policy, message not echoing it', async () => {
    const database = huge('d');
    await unchanged(async () => {
      for (const [query, field, input] of [
        [ENABLE, 'enableAuditLogging', { serviceId: t.serviceId, database }],
        [ENABLE, 'enableAuditLogging', { serviceId: t.serviceId, database, dryRun: true }],
        [CONFIGURE, 'configureAuditLogging', { serviceId: t.serviceId, database, settings: { logCatalog: true } }],
        [DISABLE, 'disableAuditLogging', { serviceId: t.serviceId, database }],
      ] as const) {
        const r = await g.exec(t.token, query, { input });
        expect(r.errors).toBeUndefined();
        expectUserError(r.data![field], 'DATABASE_NOT_FOUND', ['input', 'database']);
        expect(JSON.stringify(r).length).toBeLessThan(5000);
      }
      const p = await g.exec(t.token, POLICY, { serviceId: t.serviceId, database });
      expect(p.errors).toBeUndefined();
      expect(p.data!.auditPolicy).toBeNull();
    });
  });

  it('a 200 KB multi-byte database name is refused the same way', async () => {
    await unchanged(async () => {
      const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, database: huge('é') } });
      expectUserError(r.data!.enableAuditLogging, 'DATABASE_NOT_FOUND', ['input', 'database']);
      expect(JSON.stringify(r).length).toBeLessThan(5000);
    });
  });

  it('a 200 KB pgaudit.role: INVALID_SETTING on settings.role, message not echoing it', async () => {
    await unchanged(async () => {
      for (const [query, field, input] of [
        [ENABLE, 'enableAuditLogging', { serviceId: t.serviceId, settings: { role: huge('r') } }],
        [CONFIGURE, 'configureAuditLogging', { serviceId: t.serviceId, settings: { role: huge('r') } }],
        [CONFIGURE, 'configureAuditLogging', { serviceId: t.serviceId, settings: { role: huge('r') }, dryRun: true }],
      ] as const) {
        const r = await g.exec(t.token, query, { input });
        expect(r.errors).toBeUndefined();
        expectUserError(r.data![field], 'INVALID_SETTING', ['input', 'settings', 'role']);
        expect(JSON.stringify(r).length).toBeLessThan(5000);
      }
    });
  });

  it('a 200 KB reason / idempotencyKey: BAD_USER_INPUT naming the field, value not echoed', async () => {
    await unchanged(async () => {
      for (const input of [{ serviceId: t.serviceId, reason: huge('w') }, { serviceId: t.serviceId, idempotencyKey: huge('k') }]) {
        const r = await g.exec(t.token, ENABLE, { input });
        expectRequestError(r, ['BAD_USER_INPUT']);
        expect(JSON.stringify(r).length).toBeLessThan(5000);
        expect(JSON.stringify(r.errors)).toMatch(/reason|idempotencyKey/);
      }
    });
  });

  it('a 200 KB serviceId: NOT_FOUND, not echoed', async () => {
    await unchanged(async () => {
      const r = await g.exec(t.token, ENABLE, { input: { serviceId: huge('s') } });
      expect(r.errors![0]!.extensions).toEqual({ code: 'NOT_FOUND' });
      expect(JSON.stringify(r).length).toBeLessThan(5000);
    });
  });

  it('through HTTP too: 200 KB database name and role are clean 200 answers with a userError', async () => {
    await unchanged(async () => {
      const d = await post({ query: ENABLE, variables: { input: { serviceId: t.serviceId, database: huge('d') } } });
      expect(d.status).toBe(200);
      expectUserError(d.json.data.enableAuditLogging, 'DATABASE_NOT_FOUND', ['input', 'database']);
      const r = await post({ query: ENABLE, variables: { input: { serviceId: t.serviceId, settings: { role: huge('r') } } } });
      expect(r.status).toBe(200);
      expectUserError(r.json.data.enableAuditLogging, 'INVALID_SETTING', ['input', 'settings', 'role']);
      for (const x of [d, r]) expect(x.text.length).toBeLessThan(5000);
    });
  });
});

describe('garbage query text', () => {
  it.each([
    ['unbalanced braces', '{{{{'],
    ['an unterminated mutation', 'mutation {'],
    ['control characters', '\u0000\u0001\u0002 garbage'],
    ['keywords only', 'query query query'],
    ['an unterminated string', `{ auditEligibility(serviceId: "abc) { eligible } }`],
    ['random punctuation', ')(*&^%$#@!'],
    ['a SQL statement', `SELECT * FROM api_token; --`],
  ])('%s -> GRAPHQL_PARSE_FAILED', async (_label, query) => {
    await unchanged(async () => { expectRequestError(await g.exec(t.token, query), ['GRAPHQL_PARSE_FAILED']); });
  });

  it('a selection nested 20 000 deep (HTTP): a parse/validation error, not a crash, and the server keeps serving', async () => {
    await unchanged(async () => {
      for (const query of [`{ ${'a { '.repeat(20_000)}b${' }'.repeat(20_000)} }`, `{ ${'['.repeat(20_000)} }`,
        `query($x: AuditSettingsInput = ${'{ role: '.repeat(5_000)}"x"${' }'.repeat(5_000)}) { __typename }`]) {
        const r = await post({ query });
        expect(r.status).toBe(400);
        expectRequestError(r.json);
      }
      const ok = await post({ query: ELIGIBILITY, variables: { serviceId: t.serviceId } });
      expect(ok.status).toBe(200);
      expect(ok.json.data.auditEligibility.eligible).toBe(true);
    });
  });

  it('deeply nested variables (HTTP): BAD_USER_INPUT, not a crash', async () => {
    // built as text: JSON.stringify itself would run out of stack
    const deep = `${'{"settings":'.repeat(20_000)}"x"${'}'.repeat(20_000)}`;
    const body = `{"query":${JSON.stringify(ENABLE)},"variables":{"input":{"serviceId":"${t.serviceId}","settings":${deep}}}}`;
    await unchanged(async () => {
      const r = await post(body, true);
      expect(r.status).toBe(400);
      expectRequestError(r.json, ['BAD_USER_INPUT']);
    });
  });

  it('a subscription (the schema has none) through HTTP: 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const r = await post({ query: `subscription { auditEvents { id } }` });
    expect(r.status).toBe(400);
    expectRequestError(r.json, ['GRAPHQL_VALIDATION_FAILED']);
  });

  it('many operations without an operationName: a clean request error', async () => {
    const r = await post({ query: `query A { __typename } query B { __typename }` });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.errors[0].extensions.code).not.toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('fields that do not exist', () => {
  it.each([
    ['an unknown root query field', `{ auditEverything { id } }`],
    ['an unknown sub-field', `query($s: ID!) { auditEligibility(serviceId: $s) { eligible secretUrl } }`],
    ['an unknown argument', `query($s: ID!) { auditEligibility(serviceId: $s, url: "postgres://x") { eligible } }`],
    ['an unknown mutation', `mutation { dropAllAuditLogs { ok } }`],
    ['a selection on a scalar', `query($s: ID!) { auditEligibility(serviceId: $s) { eligible { x } } }`],
    ['an object without a selection', `query($s: ID!) { auditEligibility(serviceId: $s) }`],
    ['subscriptions (none in the schema)', `subscription { auditEvents { id } }`],
    ['an undeclared variable', `{ auditEligibility(serviceId: $s) { eligible } }`],
  ])('%s -> GRAPHQL_VALIDATION_FAILED', async (_label, query) => {
    await unchanged(async () => {
      expectRequestError(await g.exec(t.token, query, { s: t.serviceId }), ['GRAPHQL_VALIDATION_FAILED']);
    });
  });

  it('through HTTP: validation failures are 400, never 500', async () => {
    const r = await post({ query: `{ auditEverything { id } }` });
    expect(r.status).toBe(400);
    expectRequestError(r.json, ['GRAPHQL_VALIDATION_FAILED']);
  });
});

describe('malformed HTTP envelopes', () => {
  it.each([
    ['query is a number', { query: 5 }],
    ['query is missing', { variables: {} }],
    ['query is empty', { query: '' }],
    ['variables is a string', { query: ELIGIBILITY, variables: 'serviceId' }],
    ['variables is a list', { query: ELIGIBILITY, variables: [1] }],
    ['operationName is an object', { query: ELIGIBILITY, operationName: {} }],
    ['extensions is a string', { query: ELIGIBILITY, extensions: 'x' }],
    ['a batch (not enabled)', [{ query: '{ __typename }' }, { query: '{ __typename }' }]],
    ['a JSON string', 'query'],
    ['JSON null', null],
    // Apollo's own errors without a code were INTERNAL_SERVER_ERROR (and an error log line with a stack) before
    ['a persisted query whose sha256Hash is not its query\'s', { query: ELIGIBILITY, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }],
    ['a persisted query of an unknown version', { query: ELIGIBILITY, extensions: { persistedQuery: { version: 2, sha256Hash: '0'.repeat(64) } } }],
  ])('%s -> 400, not 500', async (_label, body) => {
    await unchanged(async () => {
      const r = await post(body);
      expect(r.status).toBe(400);
      expect(r.text).not.toMatch(/INTERNAL_SERVER_ERROR|stack/i);
    });
  });
});

/** Refusals of the routes outside Apollo: a 4xx, one error with a code that is not INTERNAL_SERVER_ERROR, bounded, no stack or path. */
function expectRouteRefusal(r: Reply, status: number, code: string, argument?: string): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.json.errors).toHaveLength(1);
  const e = r.json.errors[0];
  expect(e.extensions.code).toBe(code);
  if (argument !== undefined) expect(e.extensions.argument).toBe(argument);
  expect(r.text.length).toBeLessThan(2000);
  expect(r.text).not.toMatch(/stacktrace|\bat .*\.(ts|js):\d+|\.ts:\d+|\.js:\d+|node_modules|\/work\/|postgres(ql)?:\/\//i);
}

/** PITs open in the cluster now (an export that was refused must not leave one). */
async function openPits(): Promise<number> {
  const body = await (await fetch(`${env('OPENSEARCH_URL')}/_search/point_in_time/_all`)).json() as { pits?: unknown[] };
  return body.pits?.length ?? 0;
}

describe('POST /export, malformed', () => {
  let resume: string;
  let lastId: string;
  const post = (body: string | unknown, headers: Record<string, string> = {}) => request(`${http.base}/export`, { method: 'POST',
    headers: { 'content-type': 'application/json', authorization: bearer(t.token), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    await indexEvents(g, t, 3, { database: 'malformed_db' });
    const partial = await post({ serviceId: t.serviceId, filter: { databases: ['malformed_db'] }, limit: 1 });
    expect(partial.status).toBe(200);
    const [line, end] = partial.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(end['@export']).toMatchObject({ status: 'partial', events: 1 });
    resume = end['@export'].resume;
    lastId = line.id;
  });

  const BIG_TEXT = 'é'.repeat(BIG / 2);
  it.each([
    ['a body that is not JSON', '{"serviceId":', 'body'],
    ['an empty body', '', 'body'],
    ['a JSON array', '[{"serviceId":"x"}]', 'body'],
    ['a JSON string', '"serviceId"', 'body'],
    ['JSON null', 'null', 'body'],
    ['trailing garbage', '{"serviceId":"x"}garbage', 'body'],
    ['an unknown field', { serviceId: 'SVC', everything: true }, 'everything'],
    ['a prototype key', '{"serviceId":"SVC","__proto__":{"polluted":true}}', '__proto__'],
    ['no serviceId', { format: 'csv' }, 'serviceId'],
    ['serviceId a number', { serviceId: 5 }, 'serviceId'],
    ['serviceId an object', { serviceId: { id: 'x' } }, 'serviceId'],
    ['an unknown format', { serviceId: 'SVC', format: 'xml' }, 'format'],
    ['format a list', { serviceId: 'SVC', format: ['csv'] }, 'format'],
    ['filter a string', { serviceId: 'SVC', filter: 'databases:*' }, 'filter'],
    ['filter a list', { serviceId: 'SVC', filter: [1] }, 'filter'],
    ['an unknown filter field', { serviceId: 'SVC', filter: { everything: true } }, 'filter'],
    ['an unknown enum value', { serviceId: 'SVC', filter: { auditTypes: ['EVERYTHING'] } }, 'filter'],
    ['a date that is not one', { serviceId: 'SVC', filter: { from: 'not a date' } }, 'filter'],
    ['a filter list over its bound', { serviceId: 'SVC', filter: { users: Array.from({ length: 101 }, (_, i) => `u${i}`) } }, 'filter.users'],
    ['a 200 KB filter text', { serviceId: 'SVC', filter: { text: BIG_TEXT } }, undefined],
    ['deeply nested filter JSON', `{"serviceId":"SVC","filter":${'{"text":'.repeat(5000)}"x"${'}'.repeat(5000)}}`, 'filter'],
    ['limit a string', { serviceId: 'SVC', limit: '10' }, 'limit'],
    ['limit 0', { serviceId: 'SVC', limit: 0 }, 'limit'],
    ['limit 1.5', { serviceId: 'SVC', limit: 1.5 }, 'limit'],
    ['limit 1e12', { serviceId: 'SVC', limit: 1e12 }, 'limit'],
    ['a resume token that is not one', { serviceId: 'SVC', resume: 'garbage' }, 'resume'],
    ['a 200 KB resume token', { serviceId: 'SVC', resume: 'a'.repeat(BIG) + '.b' }, 'resume'],
    ['resume a number', { serviceId: 'SVC', resume: 5 }, 'resume'],
    ['after without resume', { serviceId: 'SVC', after: 'x' }, 'after'],
  ])('%s: 400 BAD_USER_INPUT naming the argument, nothing opened, the value not echoed', async (_label, body, argument) => {
    const pits = await openPits();
    const text = typeof body === 'string' ? body.replace('SVC', t.serviceId) : JSON.stringify(body).replace('SVC', t.serviceId);
    const r = await post(text);
    expectRouteRefusal(r, 400, 'BAD_USER_INPUT', argument);
    expect(r.text).not.toContain('é'.repeat(100));
    expect(await openPits()).toBe(pits);
  });

  it('resume tokens: forged, of another filter or another service, and after an id not in the export: 400 naming resume or after', async () => {
    const filter = { databases: ['malformed_db'] };
    const flipped = resume.slice(0, 10) + (resume[10] === 'A' ? 'B' : 'A') + resume.slice(11);
    expectRouteRefusal(await post({ serviceId: t.serviceId, filter, resume: flipped }), 400, 'BAD_USER_INPUT', 'resume');
    expectRouteRefusal(await post({ serviceId: t.serviceId, filter: { databases: ['other'] }, resume }), 400, 'BAD_USER_INPUT', 'resume');
    const other = await createTenant(g, { serviceUrl: urls.pgaudit });
    const foreign = await request(`${http.base}/export`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(other.token) },
      body: JSON.stringify({ serviceId: other.serviceId, filter, resume }) });
    expectRouteRefusal(foreign, 400, 'BAD_USER_INPUT', 'resume');
    for (const after of ['nope', 'x'.repeat(BIG), '\u0000', `${lastId}*`, '*']) {
      expectRouteRefusal(await post({ serviceId: t.serviceId, filter, resume, after }), 400, 'BAD_USER_INPUT', 'after');
    }
    // the real one continues
    const ok = await post({ serviceId: t.serviceId, filter, resume, after: lastId });
    expect(ok.status).toBe(200);
    expect(ok.text.trim().split('\n').map((l) => JSON.parse(l)).at(-1)['@export']).toMatchObject({ status: 'complete', events: 2 });
  });

  it('bad tokens: 401 with WWW-Authenticate, the same answer for none, malformed and unknown', async () => {
    const texts = new Set<string>();
    for (const authorization of [undefined, '', 'Bearer', 'Basic YTpi', `Bearer ${t.token}x`, `Bearer pga_${'z'.repeat(4000)}`, `Token ${t.token}`]) {
      const r = await request(`${http.base}/export`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
        body: JSON.stringify({ serviceId: t.serviceId }) });
      expectRouteRefusal(r, 401, 'UNAUTHENTICATED');
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      texts.add(r.text);
    }
    expect(texts.size).toBe(1);
  });

  it('content types, methods and sizes: a body over MAX_BODY_BYTES is 413, another method 405 with Allow; never 5xx', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', '']) {
      const r = await post({ serviceId: t.serviceId, filter: { databases: ['malformed_db'] } }, { 'content-type': ct });   // complete: no PIT left
      expect(r.status).toBeLessThan(500);
    }
    const utf16 = await request(`${http.base}/export`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16', authorization: bearer(t.token) },
      body: Buffer.from(JSON.stringify({ serviceId: t.serviceId }), 'utf16le') });
    expectRouteRefusal(utf16, 400, 'BAD_USER_INPUT', 'body');
    const huge = await post({ serviceId: t.serviceId, filter: { text: 'x'.repeat(5 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await request(`${http.base}/export`, { method, headers: { authorization: bearer(t.token) } });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
    }
  });
});

describe('/graphql/stream, malformed', () => {
  const TAIL = 'subscription($s: ID!, $f: AuditEventFilter, $a: String) { auditEventTail(serviceId: $s, filter: $f, after: $a) { cursor event { id } } }';
  const raw = (body: string, headers: Record<string, string> = {}, method = 'POST') => request(`${http.base}/graphql/stream`, { method,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: bearer(t.token), ...headers }, ...(method === 'GET' ? {} : { body }) });
  afterEach(async () => {
    for (let i = 0; i < 100 && g.gateway.events.tails.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(g.gateway.events.tails.size).toBe(0);
  });

  it.each([
    ['a body that is not JSON', '{"query":', {}],
    ['a JSON array', '[{"query":"subscription { __typename }"}]', {}],
    ['JSON null', 'null', {}],
    ['no query', '{"variables":{}}', {}],
    ['query a number', '{"query":5}', {}],
    ['variables a string', JSON.stringify({ query: TAIL, variables: 'x' }), {}],
    ['extensions a list', JSON.stringify({ query: TAIL, extensions: [1] }), {}],
    ['a text/plain body', JSON.stringify({ query: TAIL }), { 'content-type': 'text/plain' }],
    ['a form body', 'query=x', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('%s: a 4xx with code BAD_REQUEST, bounded, nothing opened', async (_label, body, headers) => {
    const r = await raw(body, headers);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.json.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(r.text.length).toBeLessThan(2000);
    expect(r.text).not.toMatch(/\.ts:\d+|\.js:\d+|node_modules|stack/i);
  });

  it('no accept: text/event-stream: 406; a query or mutation: 400; unparsable or invalid documents: 400 with GraphQL codes', async () => {
    expect((await raw(JSON.stringify({ query: TAIL }), { accept: 'application/json' })).status).toBe(406);
    for (const [query, code] of [['{ __typename }', 'BAD_REQUEST'], ['mutation { setRedactionRules }', 'GRAPHQL_VALIDATION_FAILED'], ['subscription {', 'GRAPHQL_PARSE_FAILED'],
      ['subscription { noSuchField }', 'GRAPHQL_VALIDATION_FAILED'], [`subscription { ${'{'.repeat(20_000)} }`, 'GRAPHQL_PARSE_FAILED'],
      [`subscription { ${Array.from({ length: 50 }, (_, i) => `a${i}: auditEventTail(serviceId: "x") { cursor }`).join(' ')} }`, 'GRAPHQL_VALIDATION_FAILED']]) {
      const r = await raw(JSON.stringify({ query }));
      expect(r.status).toBe(400);
      expect([code, 'BAD_REQUEST']).toContain(r.json.errors[0].extensions.code);
    }
    const get = await request(`${http.base}/graphql/stream?query=%7B&variables=%7B`, { headers: { accept: 'text/event-stream', authorization: bearer(t.token) } });
    expect(get.status).toBe(400);
    expect(get.json.errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('a 200 KB literal of the wrong type, or 5,000 invalid fields: 400 with a bounded answer, the value not echoed', async () => {
    for (const query of [`subscription { auditEventTail(serviceId: "${t.serviceId}", filter: { to: "${'B'.repeat(BIG)}" }) { cursor } }`,
      `subscription { auditEventTail(serviceId: ["${'B'.repeat(BIG)}"]) { cursor } }`,
      `subscription { ${Array.from({ length: 5000 }, (_, i) => `f${i}: noSuch${i}`).join(' ')} }`]) {
      const r = await raw(JSON.stringify({ query }));
      expect(r.status).toBe(400);
      expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']).toContain(r.json.errors[0].extensions.code);
      expect(r.text.length).toBeLessThan(10_000);
      expect(r.text).not.toContain('B'.repeat(1000));
    }
  });

  it('bad tokens: 401 before anything parses', async () => {
    for (const authorization of ['', 'Bearer', `Bearer ${t.token}x`, 'Basic YTpi']) {
      const r = await raw(JSON.stringify({ query: TAIL, variables: { s: t.serviceId } }), { authorization });
      expect(r.status).toBe(401);
      expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('hostile arguments: an error in the stream (BAD_USER_INPUT, NOT_FOUND), then it ends; nothing stays open', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ s: t.serviceId, f: { text: 'é'.repeat(BIG / 2) } }, 'BAD_USER_INPUT'],
      [{ s: t.serviceId, f: { users: Array.from({ length: 101 }, (_, i) => `u${i}`) } }, 'BAD_USER_INPUT'],
      [{ s: t.serviceId, a: 'not a cursor' }, 'BAD_USER_INPUT'],
      [{ s: t.serviceId, a: 'x'.repeat(BIG) }, 'BAD_USER_INPUT'],
      [{ s: t.serviceId, f: { auditTypes: ['EVERYTHING'] } }, 'BAD_USER_INPUT'],
      [{ s: 5.5 }, 'BAD_USER_INPUT'],
      [{ s: '00000000-0000-0000-0000-000000000000' }, 'NOT_FOUND'],
      [{ s: `${t.serviceId}\u0000` }, 'NOT_FOUND'],
    ];
    for (const [variables, code] of cases) {
      const sub = await subscribe(http.base, t.token, TAIL, variables);
      const text = JSON.stringify(variables);
      if (sub.status !== 200) {   // variables refused before the stream opened
        expect(sub.status).toBe(400);
        expect(sub.json.errors[0].extensions.code).toBe(code);
        continue;
      }
      const first = await sub.next(5000).finally(() => sub.close());
      expect({ variables: text.slice(0, 80), event: first?.event }).toEqual({ variables: text.slice(0, 80), event: 'next' });
      expect({ variables: text.slice(0, 80), code: first!.data.errors[0].extensions.code, message: first!.data.errors[0].message }).toMatchObject({ variables: text.slice(0, 80), code });
      const shown = JSON.stringify(first!.data);
      expect(shown.length).toBeLessThan(2000);
      expect(text.length < 1000 || !shown.includes(text.slice(0, 1000))).toBe(true);
      expect(shown).not.toMatch(/\.ts:\d+|\.js:\d+|node_modules|stack/i);
    }
  });

  it('a client that subscribes and leaves at once (slow or abandoned): its tail closes', async () => {
    for (let i = 0; i < 3; i++) {
      const sub = await subscribe(http.base, t.token, TAIL, { s: t.serviceId });
      expect(sub.status).toBe(200);
      sub.close();
    }
    // afterEach: every tail closed
  });
});

describe('afterwards', () => {
  it('the policy is exactly the baseline: one revision, enabled, version 1', async () => {
    const r = await g.exec(t.token, POLICY, { serviceId: t.serviceId });
    expect(r.data!.auditPolicy).toMatchObject({ enabled: true, version: 1 });
    expect(r.data!.auditPolicy.history.edges.map((e: any) => e.node.reason)).toEqual(['baseline']);
  });
});
