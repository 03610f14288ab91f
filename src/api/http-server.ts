/**
 * The HTTP front: POST/GET /graphql (Apollo), GET /healthz (process up), GET /readyz (each dependency's
 * state; 503 when the gateway database does not answer), GET /metrics (Prometheus, with METRICS_TOKEN only),
 * GET / and /assets/* (the browser console's static files, console-route.ts).
 * Every request gets a request id (x-request-id, echoed back), a bounded head and body, and time limits.
 * Nothing a client sends escapes error handling: a malformed target is 400, a wrong method 405, what Node's parser refuses 400/431/408, an unexpected fault 500 without details
 * (logged with the request id). Authentication happens before any resolver runs: no token, no GraphQL.
 * With `rateLimit`, requests without a valid token are limited per client address before the token lookup,
 * and each token's requests by their cost (rate-limit.ts): RATE_LIMITED, HTTP 429 with Retry-After.
 */
import { randomUUID } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ASTVisitor, GraphQLError, ValidationContext } from 'graphql';
import { DEFAULT_GRAPHQL_LIMITS, DEFAULT_HTTP_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, GraphQLLimits, HttpLimits, RateLimits } from '../base/config';
import type { Logger } from '../base/logger';
import { GatewayMetrics, metricsAuthorized, MetricsRegistry } from '../base/metrics';
import type { AuditEventsService } from '../modules/audit-events/audit-events.service';
import type { PolicyService } from '../modules/audit-policy/policy.service';
import type { RedactionService } from '../modules/redaction/redaction.service';
import { bearerToken } from '../modules/tenancy/token';
import type { TenancyService } from '../modules/tenancy/tenancy.service';
import { GatewayContext, releaseTargets } from './context';
import { ApiError, ApiErrorCode, makeFormatError, responseTooLargeBody } from './error-map';
import { handleExport } from './export-route';
import { ConsoleFiles, loadConsole } from './console-route';
import type { ExportService } from '../modules/audit-events/export.service';
import type { Readiness } from './gateway';
import { graphqlLimits } from './limits';
import { observabilityPlugin } from './observability';
import { clientAddress, createThrottles, TokenThrottle } from './rate-limit';
import { gatewaySchema } from './schema';
import { checkOperationScopes } from './scopes';
import { createStreamServer } from './stream-server';

export interface GatewayDeps {
  tenancy: TenancyService;
  policies: PolicyService;
  events: AuditEventsService;
  /** POST /export (export-route.ts); absent: the route answers SERVICE_UNAVAILABLE. */
  exports?: ExportService;
  /** Redaction rules (setRedactionRules, redactionRules). */
  redaction: RedactionService;
  logger: Logger;
  maxBodyBytes: number;
  /** Header size and timeouts (DEFAULT_HTTP_LIMITS when absent). */
  http?: HttpLimits;
  /** What one GraphQL request may ask for (DEFAULT_GRAPHQL_LIMITS when absent). */
  graphql?: GraphQLLimits;
  /** Rate limits per token and per client address (rate-limit.ts); absent: none (tests and benchmarks that need none). */
  rateLimit?: RateLimits;
  /** Largest GraphQL response body sent (DEFAULT_MAX_RESPONSE_BYTES when absent); larger: RESPONSE_TOO_LARGE instead. */
  maxResponseBytes?: number;
  /** The browser console's files (console-route.ts); absent: the build's, dist/console under the project root. */
  console?: ConsoleFiles;
  /** Readiness: each dependency's state; 'unavailable' when the gateway database does not answer. */
  ready: () => Promise<Readiness>;
  /** Metrics: recorded when present; /metrics served only with a registry and a token. */
  metrics?: GatewayMetrics;
  registry?: MetricsRegistry;
  metricsToken?: string | null;
}

/**
 * graphql-js 16 validates no operation type against the schema's root types: an operation of a type the
 * schema lacks passed validation and failed in execution as INTERNAL_SERVER_ERROR. Refuse it as the malformed
 * request it is (GRAPHQL_VALIDATION_FAILED, HTTP 400). Subscriptions are served on /graphql/stream only
 * (Server-Sent Events, stream-server.ts): on /graphql they are refused the same way.
 */
export function knownOperationTypes(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation === 'subscription') {
        context.reportError(new GraphQLError('Subscriptions are served at /graphql/stream (Server-Sent Events, accept: text/event-stream), not here', { nodes: node }));
      } else if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(new GraphQLError(`This API has no ${node.operation} operations`, { nodes: node }));
      }
    },
  };
}

export function createApollo(metrics?: GatewayMetrics, limits: GraphQLLimits = DEFAULT_GRAPHQL_LIMITS,
  throttle: TokenThrottle | null = null): ApolloServer<GatewayContext> {
  const schema = gatewaySchema();
  // The token's scopes are checked first, once the operation is resolved: a refused operation costs nothing.
  const guard = graphqlLimits(schema, limits, throttle, ({ operation, document, context }) => checkOperationScopes(operation, document, context.principal.scopes));
  return new ApolloServer<GatewayContext>({
    schema,
    validationRules: [knownOperationTypes, ...guard.validationRules],
    parseOptions: guard.parseOptions,
    formatError: makeFormatError(),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // No field carries a cache hint; the default cache-control plugin would still wrap every field's
    // resolver (Apollo's schema instrumentation) to compute a policy that is always "no cache".
    // observabilityPlugin: metrics, and the log line of an unexpected error with the request id.
    // releaseTargets: the request's connections to customers' servers close once its answer is ready, whatever the outcome.
    // No landing page: Apollo's loads its scripts from a third-party CDN. A browser opening /graphql is sent to the console (handle).
    plugins: [ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled(), observabilityPlugin(metrics), releaseTargets, ...guard.plugins],
    // The CLI owns shutdown (HTTP, database pool, local clusters): Apollo's own handler would re-raise
    // the signal and kill the process before that finishes.
    stopOnTerminationSignals: false,
  });
}

/** The context of one request; throws UNAUTHENTICATED (HTTP 401) without a valid token (none, unknown, revoked or expired alike). */
export async function contextFor(deps: Pick<GatewayDeps, 'tenancy' | 'policies' | 'events' | 'logger' | 'redaction'>, authorization: string | undefined,
  requestId: string): Promise<GatewayContext> {
  const token = bearerToken(authorization);
  let principal: Awaited<ReturnType<TenancyService['authenticate']>> = null;
  try {
    principal = token ? await deps.tenancy.authenticate(token) : null;
  } catch (err) {
    // e.g. the gateway database is down: a fault, logged here with the request id, answered without details
    deps.logger.error('authentication failed', { requestId, error: err instanceof Error ? err.message : String(err) });
    throw new ApiError(ApiErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
  }
  if (!principal) {
    throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'a valid API token is required: Authorization: Bearer <token>');
  }
  const logger = deps.logger.child({ requestId, projectId: principal.projectId, tokenId: principal.tokenId });
  return { requestId, principal, policies: deps.policies, targets: deps.policies.requestTargets(), events: deps.events, logger,
    redaction: deps.redaction };
}

class BodyTooLarge extends Error {}
class BodyAborted extends Error {}

/** Reads a bounded body; rejects with BodyTooLarge past `limit`, BodyAborted when the client goes away first. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;   // already refused: discard the rest, so the 413 reaches the client
      size += chunk.length;
      if (size > limit) { chunks.length = 0; reject(new BodyTooLarge()); return; }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // the client went away (or the request timed out) before the body ended: 'error' (aborted), then 'close'
    req.on('error', (err) => reject(req.complete ? err : new BodyAborted()));
    req.on('close', () => { if (!req.complete) reject(new BodyAborted()); });   // a no-op once settled
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers });
  res.end(JSON.stringify(body));
}

const badRequest = (message: string) => ({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });

/** The routes and the methods each accepts; anything else is 404, another method 405 with `Allow`. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/': ['GET', 'HEAD'],
  '/explorer': ['GET', 'HEAD'],   // the API explorer (GraphiQL), a page of the console's build
  '/assets': ['GET', 'HEAD'],   // and every path below it: the console's hashed files
  '/graphql': ['GET', 'POST'],
  '/graphql/stream': ['GET', 'POST'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  '/export': ['POST'],
};

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/**
 * http_requests_total once the answer is sent: route and method from fixed sets, never the client's text. On
 * 'close', not 'finish': a stream the client ends (a live tail, an export cut short) never finishes, and is an
 * answer all the same; a request the client left before any answer started is not counted.
 */
function countRequest(metrics: GatewayMetrics, req: IncomingMessage, res: ServerResponse): void {
  res.once('close', () => {
    if (!res.headersSent) return;
    const route = routeOf(requestTarget(req.url)?.pathname) ?? 'other';
    metrics.httpRequests.labels(route, METHODS.has(req.method ?? '') ? req.method! : 'other', String(res.statusCode)).inc();
  });
}

/** The ROUTES key of a path: itself, '/assets' for a file under it, or undefined. */
function routeOf(pathname: string | undefined): string | undefined {
  if (pathname === undefined) return undefined;
  if (pathname.startsWith('/assets/')) return '/assets';
  return Object.hasOwn(ROUTES, pathname) ? pathname : undefined;
}

/**
 * The path and query of an origin-form request target (`/graphql?x=1`), or null for anything else: `//`,
 * `*`, absolute-form (`http://host/...`), a target without a leading slash, or one `URL` cannot parse.
 */
export function requestTarget(raw: string | undefined): { pathname: string; search: string } | null {
  if (!raw || raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return null;
  // a plain path (`/graphql`): what URL would give, without building one per request
  if (/^\/[\w/-]*$/.test(raw)) return { pathname: raw, search: '' };
  try {
    const url = new URL(raw, 'http://localhost');
    return url.host === 'localhost' ? { pathname: url.pathname, search: url.search } : null;
  } catch { return null; }
}

/** A client's own `x-request-id` when it is short and plain, else a fresh one. */
function requestIdOf(req: IncomingMessage): string {
  const supplied = req.headers['x-request-id'];
  return typeof supplied === 'string' && /^[\w.-]{1,100}$/.test(supplied) ? supplied : randomUUID();
}

export async function startHttpServer(deps: GatewayDeps, port: number, host = '0.0.0.0')
  : Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const throttles = deps.rateLimit
    ? createThrottles(deps.rateLimit, (kind) => deps.metrics?.rateLimited.labels(kind).inc())
    : { tokens: null, addresses: null };
  const apollo = createApollo(deps.metrics, deps.graphql, throttles.tokens);
  await apollo.start();
  const limits = deps.http ?? DEFAULT_HTTP_LIMITS;
  const consoleFiles = deps.console ?? loadConsole();
  // Every route's token lookup (/graphql's context below, /graphql/stream, /export), inside the per-address limit
  const authenticate = (req: IncomingMessage, requestId: string): Promise<GatewayContext> => {
    const lookup = () => contextFor(deps, req.headers.authorization, requestId);
    return throttles.addresses
      ? throttles.addresses.authenticate(clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], deps.rateLimit!.trustProxyHops), lookup)
      : lookup();
  };
  // subscriptions (live tail): the same authentication, address and token limits, scopes and cost as /graphql
  const stream = createStreamServer({ schema: gatewaySchema(), limits: deps.graphql ?? DEFAULT_GRAPHQL_LIMITS, throttles, authenticate });
  const exportDeps = { exports: deps.exports, logger: deps.logger, authenticate, tokens: throttles.tokens, metrics: deps.metrics };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const target = requestTarget(req.url);
    if (!target) return sendJson(res, 400, badRequest('malformed request target: use an origin-form path such as /graphql'), requestId, { connection: 'close' });
    const route = routeOf(target.pathname);
    const methods = route === undefined || (route === '/metrics' && !(deps.registry && deps.metricsToken)) ? undefined : ROUTES[route];
    if (!methods) return sendJson(res, 404, { error: 'not found' }, requestId);
    const method = req.method ?? '';
    if (!methods.includes(method)) return sendJson(res, 405, badRequest(`method ${method.slice(0, 20)} is not allowed here`), requestId, { allow: methods.join(', ') });
    if (route === '/' || route === '/explorer' || route === '/assets') return consoleFiles.serve(req, res, target.pathname, requestId);
    // a person opening /graphql in a browser (a page, not an operation): the console
    if (route === '/graphql' && method === 'GET' && !/[?&]query=/.test(target.search) && /\btext\/html\b/.test(String(req.headers.accept ?? ''))) {
      res.writeHead(302, { location: '/', 'x-request-id': requestId, 'content-length': '0' });
      res.end();
      return;
    }
    if (target.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' }, requestId);
    if (target.pathname === '/readyz') {
      const readiness = await deps.ready();
      return sendJson(res, readiness.status === 'ready' ? 200 : 503, readiness, requestId);
    }
    if (target.pathname === '/metrics') {
      if (!metricsAuthorized(req.headers.authorization, deps.metricsToken ?? null)) {
        return sendJson(res, 401, { error: 'a valid metrics token is required: Authorization: Bearer <METRICS_TOKEN>' }, requestId, { 'www-authenticate': 'Bearer' });
      }
      const text = await deps.registry!.metrics();
      res.writeHead(200, { 'content-type': deps.registry!.contentType, 'x-request-id': requestId });
      res.end(method === 'HEAD' ? undefined : text);
      return;
    }

    let raw: string;
    try { raw = method === 'POST' ? await readBody(req, deps.maxBodyBytes) : ''; }
    catch (err) {
      // Destroying the request here would take the socket, and the 413 with it: answer, then close.
      if (err instanceof BodyTooLarge) return sendJson(res, 413, badRequest(`request body over ${deps.maxBodyBytes} bytes`), requestId, { connection: 'close' });
      if (err instanceof BodyAborted) { deps.logger.debug('client went away before its body ended', { requestId }); return; }
      throw err;
    }
    if (target.pathname === '/export') return handleExport(exportDeps, req, res, requestId, raw);
    if (target.pathname === '/graphql/stream') return stream.serve(req, res, requestId, raw);
    let body: unknown = undefined;
    if (raw) {
      try { body = JSON.parse(raw); }
      catch { return sendJson(res, 400, badRequest('request body is not valid JSON'), requestId); }
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search: target.search, body },
      // Requests without a valid token are limited per client address, checked before the token is looked up;
      // a token whose bucket is empty is refused here, before its request is parsed (TokenThrottle.admit).
      context: async () => {
        const context = await authenticate(req, requestId);
        throttles.tokens?.admit(context.principal.tokenId);
        return context;
      },
    });
    const outHeaders: Record<string, string> = { 'x-request-id': requestId };
    for (const [k, v] of result.headers) outHeaders[k] = v;
    if (result.body.kind === 'complete') {
      // A response over the limit is never sent: the caller gets a RESPONSE_TOO_LARGE error instead (HTTP 200).
      const limit = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      // a UTF-16 code unit is at most 3 bytes of UTF-8: most answers are under the limit without being measured
      const bytes = result.body.string.length * 3 <= limit ? 0 : Buffer.byteLength(result.body.string, 'utf8');
      if (bytes > limit) deps.logger.warn('response too large', { requestId, bytes, limit });
      res.writeHead(bytes > limit ? 200 : result.status ?? 200, outHeaders);
      res.end(bytes > limit ? responseTooLargeBody(bytes, limit) : result.body.string);
      return;
    }
    res.writeHead(result.status ?? 200, outHeaders);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // how often Node checks the two timeouts above (its default, 30 s, would let a slow client hold on that long)
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
  }, (req, res) => {
    // Every path of a request is inside this chain: nothing a client sends can reject outside it.
    let requestId = 'unknown';
    if (deps.metrics) countRequest(deps.metrics, req, res);
    Promise.resolve()
      .then(() => { requestId = requestIdOf(req); return handle(req, res, requestId); })
      .catch((err: unknown) => {
        deps.logger.error('request failed', { requestId, error: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }, requestId);
        else res.end();
      })
      .catch(() => res.destroy());   // the socket itself failed: nothing more to say
  });
  // What Node's parser refuses before any handler runs (bad request line, method or header; a head too large;
  // a head or request too slow): a bare 4xx, then the connection closes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    deps.logger.debug('client error', { code: err.code ?? 'unknown' });
    deps.metrics?.httpRequests.labels('other', 'other', status.slice(0, 3)).inc();
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  // CONNECT (a tunnel) is no method of this server: 405, then close. Node hands the socket over without its
  // own error listener, so one is added (a client's reset would otherwise be an uncaught 'error').
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    deps.metrics?.httpRequests.labels('other', 'other', '405').inc();
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD, POST\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    server, port: boundPort,
    async close() {
      // live tails end with SUBSCRIPTION_ENDED (SHUTDOWN) and their cursor; streams still open after a moment are closed
      deps.events.tails.closeAll();
      for (let i = 0; i < 40 && stream.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
      await stream.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
