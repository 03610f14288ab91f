/**
 * Observability on real servers: /metrics (Prometheus text a strict parser accepts, behind METRICS_TOKEN) moves
 * after a query, a refused mutation, an unauthenticated request and an unreachable target; the target connection
 * gauge returns to 0; /readyz names each dependency's state (503 only when the gateway database is down); the
 * request id is on every log line of request handling and no info line carries a statement or a URL; and
 * `ingest --metrics-port` serves the ingester's counters while it follows a directory.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGateway } from '../src/api/gateway';
import { startHttpServer } from '../src/api/http-server';
import { loadConfig } from '../src/base/config';
import { createLogger, silentLogger } from '../src/base/logger';
import { CLI, ROOT } from './support/cli';
import { generateCsvlog } from './support/csvlog-generator';
import { createTenant, ELIGIBILITY, ENABLE, env, indexEvents, resetServer, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, request, startHttp } from './support/http';
import { subscribe } from './support/sse';

const TOKEN = 'metrics-token-0123456789';
let g: TestGateway;
let t: Tenant;
let http: Awaited<ReturnType<typeof startHttp>>;
const logged: Record<string, unknown>[] = [];

beforeAll(async () => {
  await resetServer(urls.pgaudit);
  // short tail settle time and poll interval: an event indexed while a tail listens arrives within about a second
  // (the settle time must cover the bulk request and the refresh: README, Live tail)
  g = await startTestGateway({ METRICS_TOKEN: TOKEN, TAIL_SETTLE_MS: '1000', TAIL_POLL_INTERVAL_MS: '100' });
  t = await createTenant(g, { serviceUrl: urls.pgaudit });
  http = await startHttp(g, 1024 * 1024, undefined, createLogger('debug', {}, (line) => { logged.push(JSON.parse(line)); }));
});
afterAll(async () => {
  await http?.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});

/**
 * One line of the Prometheus text format (0.0.4): a comment, HELP, TYPE, or a sample with an optional timestamp.
 * prom-client writes NaN as "Nan" (the event loop lag before its first measure); Prometheus reads values with Go's
 * strconv.ParseFloat, which takes NaN in any case.
 */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? ([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|[Nn]a[Nn])( -?\d+)?$/;
const COMMENT = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/;

function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) { expect(line).toMatch(COMMENT); continue; }
    expect(line).toMatch(SAMPLE);
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function scrape(base = http.base, token: string | null = TOKEN): Promise<Map<string, number>> {
  const r = await request(`${base}/metrics`, token ? { headers: { authorization: bearer(token) } } : {});
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.text);
}

const value = (m: Map<string, number>, series: string) => m.get(`pgaudit_gateway_${series}`) ?? 0;
/** The sum of a metric over all its labels. */
const total = (m: Map<string, number>, name: string) =>
  [...m].filter(([k]) => k === `pgaudit_gateway_${name}` || k.startsWith(`pgaudit_gateway_${name}{`)).reduce((n, [, v]) => n + v, 0);

const gql = (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
  request(`${http.base}/graphql`, graphqlPost(JSON.stringify({ query, variables }), { authorization: bearer(t.token), ...headers }));

describe('/metrics', () => {
  it('needs the metrics token: none or a wrong one is 401, and an API token is not one', async () => {
    const cases: Record<string, string>[] = [{}, { authorization: bearer('metrics-token-wrong-000000') }, { authorization: bearer(t.token) }];
    for (const headers of cases) {
      const r = await request(`${http.base}/metrics`, { headers });
      expect(r.status).toBe(401);
      expect(r.text).not.toContain('pgaudit_gateway_');
    }
  });

  it('is Prometheus text with process metrics and every declared series', async () => {
    const m = await scrape();
    expect(value(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.has('pgaudit_gateway_target_connections_open')).toBe(true);
    expect(m.has('pgaudit_gateway_target_connections_total{outcome="refused"}')).toBe(true);
  });

  it('a query moves the operation, latency, HTTP and target connection series; the open gauge is back to 0', async () => {
    const before = await scrape();
    const r = await gql(ELIGIBILITY, { serviceId: t.serviceId });
    expect(r.json.data.auditEligibility.eligible).toBe(true);
    const after = await scrape();
    const op = 'operation="auditEligibility",type="query"';
    expect(value(after, `graphql_operations_total{${op},outcome="ok"}`) - value(before, `graphql_operations_total{${op},outcome="ok"}`)).toBe(1);
    expect(value(after, `graphql_request_duration_seconds_count{${op}}`) - value(before, `graphql_request_duration_seconds_count{${op}}`)).toBe(1);
    const posts = 'http_requests_total{route="/graphql",method="POST",status="200"}';
    expect(value(after, posts) - value(before, posts)).toBe(1);
    const opened = 'target_connections_total{outcome="opened"}';
    expect(value(after, opened) - value(before, opened)).toBeGreaterThanOrEqual(1);
    expect(value(after, 'target_connections_open')).toBe(0);
  });

  it('a refused mutation is a user_error; an unauthenticated request counts UNAUTHENTICATED', async () => {
    const other = await createTenant(g, { serviceUrl: urls.pgaudit, role: 'app_reader' });
    const before = await scrape();
    const r = await request(`${http.base}/graphql`, graphqlPost(JSON.stringify({ query: ENABLE, variables: { input: { serviceId: other.serviceId } } }),
      { authorization: bearer(other.token) }));
    expect(r.json.data.enableAuditLogging.userErrors.map((e: { code: string }) => e.code)).toContain('AVNADMIN_REQUIRED');
    const anonymous = await request(`${http.base}/graphql`, graphqlPost('{"query":"{ __typename }"}'));
    expect(anonymous.status).toBe(401);
    const after = await scrape();
    const refused = 'graphql_operations_total{operation="enableAuditLogging",type="mutation",outcome="user_error"}';
    expect(value(after, refused) - value(before, refused)).toBe(1);
    expect(value(after, 'graphql_errors_total{code="UNAUTHENTICATED"}') - value(before, 'graphql_errors_total{code="UNAUTHENTICATED"}')).toBe(1);
    expect(value(after, 'target_connections_open')).toBe(0);
  });

  it('a target that does not answer counts as unreachable', async () => {
    const dead = await createTenant(g, { serviceUrl: 'postgres://avnadmin:s3cret@127.0.0.1:1/postgres' });
    const before = await scrape();
    const r = await request(`${http.base}/graphql`, graphqlPost(JSON.stringify({ query: ELIGIBILITY, variables: { serviceId: dead.serviceId } }),
      { authorization: bearer(dead.token) }));
    expect(r.json.data.auditEligibility.eligible).toBe(false);
    const after = await scrape();
    const series = 'target_connections_total{outcome="unreachable"}';
    expect(value(after, series) - value(before, series)).toBe(1);
    expect(value(after, 'target_connections_open')).toBe(0);
  });

  it('labels never carry user text: an unknown root field is "other"', async () => {
    await gql('{ noSuchField_userText }', {});
    const text = (await request(`${http.base}/metrics`, { headers: { authorization: bearer(TOKEN) } })).text;
    expect(text).not.toContain('noSuchField_userText');
    expect(text).not.toContain(t.serviceId);
  });

  it('without METRICS_TOKEN the gateway does not serve /metrics (404)', async () => {
    const plain = createGateway(loadConfig({ ...process.env, METRICS_TOKEN: '' }), silentLogger);
    const server = await startHttpServer({ ...plain, logger: silentLogger, maxBodyBytes: 65536 }, 0, '127.0.0.1');
    try {
      expect((await request(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
    } finally { await server.close(); await plain.close(); }
  });
});

describe('exports and live tails', () => {
  const delta = (after: Map<string, number>, before: Map<string, number>, series: string) => value(after, series) - value(before, series);
  const exportPost = (body: unknown, token: string | null = t.token) =>
    request(`${http.base}/export`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: bearer(token) } : {}) }, body: JSON.stringify(body) });

  it('an export counts its start, its end by status, its events and bytes; a refusal counts its code; labels carry no user text', async () => {
    const tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
    await indexEvents(g, tenant, 30, { database: 'm_db' });
    const before = await scrape();
    const full = await exportPost({ serviceId: tenant.serviceId }, tenant.token);
    expect(full.status).toBe(200);
    const csv = await exportPost({ serviceId: tenant.serviceId, format: 'csv', limit: 5 }, tenant.token);
    expect(csv.status).toBe(200);
    // continued to its end: a partial export keeps its point in time for the resume (test/export.test.ts counts the cluster's)
    const rest = await exportPost({ serviceId: tenant.serviceId, format: 'csv', resume: csv.headers.get('x-export-token'), after: csv.text.split('\r\n')[5]!.split(',')[0] }, tenant.token);
    expect(rest.status).toBe(200);
    expect((await exportPost({ serviceId: tenant.serviceId }, null)).status).toBe(401);
    expect((await exportPost({ serviceId: tenant.serviceId, format: 'xml-user-text' }, tenant.token)).status).toBe(400);
    expect((await exportPost({ serviceId: t.serviceId }, tenant.token)).status).toBe(404);   // another project's service
    const after = await scrape();
    expect(delta(after, before, 'exports_started_total{format="ndjson"}')).toBe(1);
    expect(delta(after, before, 'exports_started_total{format="csv"}')).toBe(2);
    expect(delta(after, before, 'exports_ended_total{status="complete"}')).toBe(2);
    expect(delta(after, before, 'exports_ended_total{status="partial"}')).toBe(1);
    expect(delta(after, before, 'export_events_total{format="ndjson"}')).toBe(30);
    expect(delta(after, before, 'export_events_total{format="csv"}')).toBe(30);
    expect(delta(after, before, 'export_bytes_total{format="ndjson"}')).toBe(Buffer.byteLength(full.text, 'utf8'));
    expect(delta(after, before, 'export_bytes_total{format="csv"}')).toBe(Buffer.byteLength(csv.text + rest.text, 'utf8'));
    for (const code of ['UNAUTHENTICATED', 'BAD_USER_INPUT', 'NOT_FOUND']) expect(delta(after, before, `exports_failed_total{code="${code}"}`)).toBe(1);
    expect(delta(after, before, 'http_requests_total{route="/export",method="POST",status="200"}')).toBe(3);
    const text = (await request(`${http.base}/metrics`, { headers: { authorization: bearer(TOKEN) } })).text;
    expect(text).not.toMatch(/xml-user-text|m_db/);
    expect(text).not.toContain(tenant.serviceId);
  });

  it('a tail counts in the open gauge while it runs, each event delivered, and its end by reason (client_closed, idle)', async () => {
    const tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
    const before = await scrape();
    const tail = 'subscription($s: ID!) { auditEventTail(serviceId: $s) { cursor event { id } } }';
    const sub = await subscribe(http.base, tenant.token, tail, { s: tenant.serviceId });
    expect(sub.status).toBe(200);
    await indexEvents(g, tenant, 3, { database: 'm_db', ingestedAt: new Date().toISOString() });
    const got: unknown[] = [];
    while (got.length < 3) {
      const e = await sub.next(15_000);
      expect(e?.event).toBe('next');
      got.push(e!.data);
    }
    const open = await scrape();
    expect(delta(open, before, 'tail_subscriptions_open')).toBe(1);
    expect(delta(open, before, 'tail_events_delivered_total')).toBe(3);
    sub.close();
    let after = await scrape();
    for (let i = 0; i < 50 && delta(after, before, 'tail_subscriptions_open') !== 0; i++) { await new Promise((r) => setTimeout(r, 100)); after = await scrape(); }
    expect(delta(after, before, 'tail_subscriptions_open')).toBe(0);
    expect(delta(after, before, 'tail_subscriptions_ended_total{reason="client_closed"}')).toBe(1);
    expect(after.has('pgaudit_gateway_tail_subscriptions_ended_total{reason="idle"}')).toBe(true);
    expect(delta(after, before, 'http_requests_total{route="/graphql/stream",method="POST",status="200"}')).toBe(1);
  });
});

describe('/readyz names what is down', () => {
  async function readyz(overrides: Record<string, string>): Promise<{ status: number; json: any; ms: number }> {
    const gw = createGateway(loadConfig({ ...process.env, ...overrides }), silentLogger);
    const server = await startHttpServer({ ...gw, logger: silentLogger, maxBodyBytes: 65536 }, 0, '127.0.0.1');
    try {
      const t0 = Date.now();
      const r = await request(`http://127.0.0.1:${server.port}/readyz`);
      return { status: r.status, json: r.json, ms: Date.now() - t0 };
    } finally { await server.close(); await gw.close(); }
  }

  it('everything up: 200 ready', async () => {
    const r = await readyz({});
    expect(r).toMatchObject({ status: 200, json: { status: 'ready', checks: { database: 'up', opensearch: 'up' } } });
  });

  it('OpenSearch down: still 200 (the control path works without it), opensearch down', async () => {
    const r = await readyz({ OPENSEARCH_URL: 'http://127.0.0.1:1' });
    expect(r).toMatchObject({ status: 200, json: { status: 'ready', checks: { database: 'up', opensearch: 'down' } } });
    expect(r.ms).toBeLessThan(3000);
  });

  it('OpenSearch not configured: 200, opensearch not configured', async () => {
    const r = await readyz({ OPENSEARCH_URL: '' });
    expect(r).toMatchObject({ status: 200, json: { status: 'ready', checks: { database: 'up', opensearch: 'not configured' } } });
  });

  it('the gateway database down: 503 unavailable, database down, with no details', async () => {
    const r = await readyz({ DATABASE_URL: 'postgres://avnadmin:s3cret-pw@127.0.0.1:1/gateway' });
    expect(r).toMatchObject({ status: 503, json: { status: 'unavailable', checks: { database: 'down', opensearch: 'up' } } });
    expect(JSON.stringify(r.json)).not.toMatch(/s3cret|127\.0\.0\.1/);
    expect(r.ms).toBeLessThan(3000);
  });
});

describe('logs', () => {
  it('every line of request handling carries the request id; no info line carries a statement or a URL', async () => {
    logged.length = 0;
    const r = await gql(ENABLE, { input: { serviceId: t.serviceId, reason: 'metrics test' } }, { 'x-request-id': 'log-enable-1' });
    expect(r.json.data.enableAuditLogging.userErrors).toEqual([]);
    expect(r.json.data.enableAuditLogging.statements.length).toBeGreaterThan(0);
    await gql(ELIGIBILITY, { serviceId: t.serviceId }, { 'x-request-id': 'log-query-2' });
    await request(`${http.base}/graphql`, graphqlPost('{"query":"{ __typename }"}', { 'x-request-id': 'log-anon-3' }));
    expect(logged).toContainEqual(expect.objectContaining({ level: 'info', msg: 'audit policy changed', requestId: 'log-enable-1' }));
    for (const line of logged) {
      expect(line.requestId).toMatch(/^log-/);
      if (line.level === 'info' || line.level === 'debug') {
        expect(JSON.stringify(line)).not.toMatch(/ALTER SYSTEM|CREATE EXTENSION|pg_reload_conf|postgres(ql)?:\/\/|https?:\/\//i);
      }
    }
  });

  it('an error a resolver meets is logged with the request id (OpenSearch unreachable: SERVICE_UNAVAILABLE)', async () => {
    const lines: Record<string, unknown>[] = [];
    const gw = createGateway(loadConfig({ ...process.env, OPENSEARCH_URL: 'http://127.0.0.1:1' }), silentLogger);
    const server = await startHttpServer({ ...gw, logger: createLogger('debug', {}, (l) => { lines.push(JSON.parse(l)); }), maxBodyBytes: 65536 }, 0, '127.0.0.1');
    try {
      const r = await request(`http://127.0.0.1:${server.port}/graphql`, graphqlPost(JSON.stringify({
        query: 'query($s: ID!) { auditEvents(serviceId: $s, first: 1) { totalCount } }', variables: { s: t.serviceId } }),
      { authorization: bearer(t.token), 'x-request-id': 'log-store-4' }));
      expect(r.json.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'request failed', requestId: 'log-store-4' }));
      for (const line of lines) expect(line.requestId).toBe('log-store-4');
      expect(JSON.stringify(lines)).not.toContain('127.0.0.1:1');
    } finally { await server.close(); await gw.close(); }
  });
});

describe('ingest --metrics-port', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the ingester\'s counters while it follows a directory, and exits cleanly on SIGTERM', async () => {
    const gen = generateCsvlog({ seed: 1010, auditLines: 40, start: new Date(Date.now() - 60_000), forgedEvery: 10 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-ingest-'));
    writeFileSync(path.join(dir, 'postgresql-2026-01-01_000000.csv'), gen.bytes);
    const tenant = await createTenant(g, { serviceUrl: urls.pgaudit });
    child = spawn(process.execPath, [CLI, 'ingest', '--service', tenant.serviceId, '--log-dir', dir, '--metrics-port', '0'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: urls.gatewayDb, OPENSEARCH_URL: env('OPENSEARCH_URL'), LOG_LEVEL: 'info', METRICS_TOKEN: '' },
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    let port = 0;
    for (let i = 0; i < 300 && !port; i++) {
      const m = /"msg":"metrics listening"[^\n]*"port":(\d+)/.exec(stderr);
      if (m) port = Number(m[1]);
      else { expect(child.exitCode).toBeNull(); await new Promise((r) => setTimeout(r, 100)); }
    }
    expect(port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;
    let m = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      m = await scrape(base, null);
      if (value(m, 'ingest_events_total') + total(m, 'ingest_dead_letters_total') >= gen.audit.length + gen.forged.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value(m, 'ingest_events_total')).toBe(gen.audit.length);
    expect(total(m, 'ingest_dead_letters_total')).toBe(gen.forged.length);
    expect(value(m, 'ingest_dead_letters_total{reason="not_from_pgaudit"}')).toBe(gen.forged.length);   // RAISE LOG look-alikes
    expect(value(m, 'ingest_dead_letters_total{reason="timestamp_out_of_window"}')).toBe(0);
    expect(value(m, 'ingest_bytes_total')).toBe(gen.bytes.length);
    expect(value(m, 'ingest_lag_seconds')).toBeGreaterThan(0);
    expect(value(m, 'ingest_newest_event_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(m.has('pgaudit_gateway_ingest_bulk_retries_total')).toBe(true);
    expect((await request(`${base}/other`)).status).toBe(404);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // no info line carried a statement
    for (const line of stderr.split('\n').filter(Boolean)) {
      const l = JSON.parse(line) as Record<string, unknown>;
      if (l.level === 'info') expect(line).not.toMatch(/statement|INSERT|SELECT|postgres:\/\//i);
    }
  }, 90_000);
});
