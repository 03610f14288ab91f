/**
 * Nothing a client sends at the HTTP level crashes or wedges the process: malformed request targets, methods
 * and headers get a 4xx, heads that are too large 431, slow heads and bodies 408 within the configured time,
 * aborted bodies are dropped quietly, and an unexpected fault is a 500 without details, logged with the request
 * id. After every one the server still answers, and no rejection escapes to the process. Raw sockets, since
 * fetch refuses to send most of these.
 */
import net from 'node:net';
import { createGateway } from '../src/api/gateway';
import { startHttpServer } from '../src/api/http-server';
import { loadConfig } from '../src/base/config';
import { createLogger, silentLogger } from '../src/base/logger';
import { startEnvironment } from './support/environment';
import { ENABLE, resetServer, Tenant, TestGateway, urls } from './support/harness';
import { bearer, graphqlPost, request, startHttp } from './support/http';
import { unchanged as unchangedOn } from './support/unchanged';

const LIMITS = { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 800, requestTimeoutMs: 1500, keepAliveTimeoutMs: 1000 };

let g: TestGateway;
let t: Tenant;
let http: Awaited<ReturnType<typeof startHttp>>;
const logged: Record<string, unknown>[] = [];
const escaped: unknown[] = [];
const onRejection = (reason: unknown) => { escaped.push(reason); };

beforeAll(async () => {
  ({ g, t } = await startEnvironment());
  const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, reason: 'baseline' } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
  const logger = createLogger('debug', {}, (line) => { logged.push(JSON.parse(line)); });
  http = await startHttp(g, 64 * 1024, LIMITS, logger);
  process.on('unhandledRejection', onRejection);
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await http?.close();
  await g?.close();
  await resetServer(urls.pgaudit);
});
afterEach(async () => {
  // after every hostile request: the server still answers and nothing escaped its error handling
  expect((await request(`${http.base}/healthz`)).status).toBe(200);
  expect(escaped).toEqual([]);
});

interface RawReply { text: string; status: number | null; closed: boolean; ms: number }

/** Writes `chunks` (a pause of `gapMs` between them) on a new connection; reads until the server closes it or `waitMs` pass. */
function raw(chunks: (string | Buffer)[], opts: { gapMs?: number; waitMs?: number; destroyAfterWrite?: boolean } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(http.port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    socket.on('data', (d) => { text += d.toString('latin1'); });
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish(true) : reject(err)));
    socket.on('connect', async () => {
      for (const [i, c] of chunks.entries()) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!socket.writable) return;
        socket.write(c);
      }
      if (opts.destroyAfterWrite) { socket.destroy(); setTimeout(() => finish(true), 200); }
    });
  });
}

const head = (line: string, headers: string[] = []) => `${line}\r\nhost: localhost\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

describe('malformed request targets: 400, never a crash', () => {
  it.each([
    ['GET // HTTP/1.1'],
    ['GET //graphql HTTP/1.1'],
    ['GET /\\\\evil.example/graphql HTTP/1.1'],
    ['GET http://evil.example/graphql HTTP/1.1'],
    ['OPTIONS * HTTP/1.1'],
    ['GET graphql HTTP/1.1'],
  ])('failing-target %s', async (line) => {
    const r = await raw([head(line)]);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/malformed request target|^HTTP\/1\.1 400 Bad Request/);
  });
});

describe('methods: 405 with Allow, or 400 from the parser', () => {
  it.each([
    ['DELETE /graphql HTTP/1.1', 405, 'GET, POST'],
    ['PUT /graphql HTTP/1.1', 405, 'GET, POST'],
    ['POST /healthz HTTP/1.1', 405, 'GET, HEAD'],
    ['PATCH /readyz HTTP/1.1', 405, 'GET, HEAD'],
    // CONNECT was dropped without an answer (Node closes the socket when nothing listens for 'connect')
    ['CONNECT 127.0.0.1:80 HTTP/1.1', 405, 'GET, HEAD, POST'],
    ['CONNECT /graphql HTTP/1.1', 405, 'GET, HEAD, POST'],
  ])('failing-method %s', async (line, status, allow) => {
    const r = await raw([head(line, ['content-length: 0', 'connection: close'])]);
    expect(r.status).toBe(status);
    expect(r.text.toLowerCase()).toContain(`allow: ${allow.toLowerCase()}`);
  });

  it.each([['FOO /graphql HTTP/1.1'], ['GE T /graphql HTTP/1.1'], ['GET /graphql HTTP/9.9'], ['\u0000\u0001garbage']])('failing-request-line %j', async (line) => {
    const r = await raw([head(line)]);
    expect(r.status).toBe(400);
    expect(r.closed).toBe(true);
  });

  it('HEAD /healthz answers without a body', async () => {
    const r = await raw([head('HEAD /healthz HTTP/1.1', ['connection: close'])]);
    expect(r.status).toBe(200);
    expect(r.text.split('\r\n\r\n')[1]).toBe('');
  });
});

describe('headers', () => {
  it.each([
    ['a header without a colon', ['x-broken header']],
    ['a header name with a space', ['x bad: 1']],
    ['a control character in a value', ['x-bad: a\u0001b']],
    ['two content-lengths that differ', ['content-length: 1', 'content-length: 2']],
    ['content-length and chunked together', ['content-length: 5', 'transfer-encoding: chunked']],
    ['a negative content-length', ['content-length: -1']],
  ])('failing-header: %s is 400', async (_what, headers) => {
    const r = await raw([head('POST /graphql HTTP/1.1', headers)]);
    expect(r.status).toBe(400);
  });

  it('failing-header-size: a head over HTTP_MAX_HEADER_BYTES is 431', async () => {
    const r = await raw([head('GET /healthz HTTP/1.1', [`x-big: ${'a'.repeat(LIMITS.maxHeaderBytes + 100)}`])]);
    expect(r.status).toBe(431);
    expect(r.closed).toBe(true);
  });
});

describe('slow and aborted clients', () => {
  it('failing-slow-head: a head that never ends is 408 and closed within the headers timeout', async () => {
    const r = await raw(['GET /healthz HTTP/1.1\r\nhost: localhost\r\n'], { waitMs: 6000 });
    expect(r.status).toBe(408);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(LIMITS.headersTimeoutMs + 2000);
  });

  it('failing-slow-body: a body that never ends is closed within the request timeout, and changes nothing', async () => {
    const body = JSON.stringify({ query: 'mutation { disableAuditLogging(input: {serviceId: "x"}) { userErrors { code } } }' });
    const r = await unchangedOn(g, urls.pgaudit, t.serviceId, () => raw([
      head('POST /graphql HTTP/1.1', ['content-type: application/json', `content-length: ${body.length}`, `authorization: ${bearer(t.token)}`]),
      body.slice(0, 10),
    ], { waitMs: 8000 }));
    expect(r.closed).toBe(true);
    expect(r.status === null || r.status === 408).toBe(true);
    expect(r.ms).toBeLessThan(LIMITS.requestTimeoutMs + 2500);
  });

  it('failing-aborted-body: a client that leaves mid-body is dropped quietly and changes nothing', async () => {
    await unchangedOn(g, urls.pgaudit, t.serviceId, () => raw([
      head('POST /graphql HTTP/1.1', ['content-type: application/json', 'content-length: 100000', `authorization: ${bearer(t.token)}`]),
      '{"query": "mutation { disa',
    ], { destroyAfterWrite: true }));
    await new Promise((r) => setTimeout(r, 200));
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const r = await raw([head('GET /healthz HTTP/1.1')], { waitMs: 6000 });
    expect(r.status).toBe(200);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(LIMITS.keepAliveTimeoutMs + 2500);
  });
});

describe('a well-formed request still works beside all this', () => {
  it('successful-graphql: POST /graphql with a token answers 200', async () => {
    const r = await request(`${http.base}/graphql`, graphqlPost(JSON.stringify({ query: '{ auditEligibility(serviceId: "' + t.serviceId + '") { eligible } }' }),
      { authorization: bearer(t.token) }));
    expect(r.status).toBe(200);
    expect(r.json.data.auditEligibility.eligible).toBe(true);
  });

  it('no log line above carried a connection URL', () => {
    for (const l of logged) expect(JSON.stringify(l)).not.toMatch(/postgres(ql)?:\/\/[^"]*@/);
  });
});

describe('an unexpected fault', () => {
  it('failing-gateway-db-down: 500 without details, logged with the request id, and the server goes on', async () => {
    // A real fault: a gateway whose own database does not answer (nothing listens on port 1).
    const down = createGateway(loadConfig({ ...process.env, DATABASE_URL: 'postgres://avnadmin:s3cret-pw@127.0.0.1:1/gateway', AUTH_CACHE_TTL_MS: '0' }), silentLogger);
    const lines: Record<string, unknown>[] = [];
    const server = await startHttpServer({ ...down, logger: createLogger('debug', {}, (l) => { lines.push(JSON.parse(l)); }), maxBodyBytes: 65536 }, 0, '127.0.0.1');
    try {
      const r = await request(`http://127.0.0.1:${server.port}/graphql`, graphqlPost('{"query":"{ __typename }"}',
        { authorization: bearer('pga_0000000000000000000000000000000000000000000'), 'x-request-id': 'fault-1' }));
      expect(r.status).toBe(500);
      expect(r.json.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(r.text).not.toMatch(/s3cret|127\.0\.0\.1:1|ECONNREFUSED|\.ts:\d+|\.js:\d+/);
      expect(r.headers.get('x-request-id')).toBe('fault-1');
      expect(lines).toContainEqual(expect.objectContaining({ level: 'error', requestId: 'fault-1' }));
      expect(JSON.stringify(lines)).not.toContain('s3cret');
      expect((await request(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await down.close();
    }
  });
});
