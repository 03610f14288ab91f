/**
 * The HTTP front: POST/GET /graphql (Apollo), GET /healthz (process up), GET /readyz (gateway
 * database reachable). Every request gets a request id (x-request-id, echoed back) and a bounded
 * body. Authentication happens before any resolver runs: no token, no GraphQL.
 */
import { randomUUID } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ASTVisitor, GraphQLError, ValidationContext } from 'graphql';
import type { Logger } from '../base/logger';
import type { AuditEventsService } from '../modules/audit-events/audit-events.service';
import type { PolicyService } from '../modules/audit-policy/policy.service';
import { bearerToken } from '../modules/tenancy/token';
import type { TenancyService } from '../modules/tenancy/tenancy.service';
import type { GatewayContext } from './context';
import { ApiError, ApiErrorCode, makeFormatError } from './error-map';
import { gatewaySchema } from './schema';

export interface GatewayDeps {
  tenancy: TenancyService;
  policies: PolicyService;
  events: AuditEventsService;
  logger: Logger;
  maxBodyBytes: number;
  /** Readiness: resolves when the gateway database answers. */
  ready: () => Promise<void>;
}

/**
 * graphql-js 16 validates no operation type against the schema's root types: `subscription { ... }`
 * (this schema has none) passed validation and failed in execution as INTERNAL_SERVER_ERROR.
 * Refuse it as the malformed request it is (GRAPHQL_VALIDATION_FAILED, HTTP 400).
 */
export function knownOperationTypes(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(new GraphQLError(`This API has no ${node.operation} operations`, { nodes: node }));
      }
    },
  };
}

export function createApollo(logger: Logger): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema: gatewaySchema(),
    validationRules: [knownOperationTypes],
    formatError: makeFormatError(logger),
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // No field carries a cache hint; the default cache-control plugin would still wrap every field's
    // resolver (Apollo's schema instrumentation) to compute a policy that is always "no cache".
    plugins: [ApolloServerPluginCacheControlDisabled()],
    // The CLI owns shutdown (HTTP, database pool, local clusters): Apollo's own handler would re-raise
    // the signal and kill the process before that finishes.
    stopOnTerminationSignals: false,
  });
}

/** The context of one request; throws UNAUTHENTICATED (HTTP 401) without a valid token. */
export async function contextFor(deps: Pick<GatewayDeps, 'tenancy' | 'policies' | 'events' | 'logger'>, authorization: string | undefined,
  requestId: string): Promise<GatewayContext> {
  const token = bearerToken(authorization);
  const principal = token ? await deps.tenancy.authenticate(token) : null;
  if (!principal) {
    throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'a valid API token is required: Authorization: Bearer <token>');
  }
  const logger = deps.logger.child({ requestId, projectId: principal.projectId, tokenId: principal.tokenId });
  return { requestId, principal, policies: deps.policies, events: deps.events, logger };
}

class BodyTooLarge extends Error {}

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
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers });
  res.end(JSON.stringify(body));
}

export async function startHttpServer(deps: GatewayDeps, port: number, host = '0.0.0.0')
  : Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const apollo = createApollo(deps.logger);
  await apollo.start();

  const server = http.createServer(async (req, res) => {
    const supplied = req.headers['x-request-id'];
    const requestId = typeof supplied === 'string' && /^[\w.-]{1,100}$/.test(supplied) ? supplied : randomUUID();
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' }, requestId);
      if (url.pathname === '/readyz') {
        try { await deps.ready(); return sendJson(res, 200, { status: 'ready' }, requestId); }
        catch { return sendJson(res, 503, { status: 'unavailable' }, requestId); }
      }
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' }, requestId);

      let raw: string;
      try { raw = req.method === 'POST' ? await readBody(req, deps.maxBodyBytes) : ''; }
      catch (err) {
        // Destroying the request here would take the socket, and the 413 with it: answer, then close.
        if (err instanceof BodyTooLarge) return sendJson(res, 413, { errors: [{ message: `request body over ${deps.maxBodyBytes} bytes`, extensions: { code: 'BAD_REQUEST' } }] }, requestId, { connection: 'close' });
        throw err;
      }
      let body: unknown = undefined;
      if (raw) {
        try { body = JSON.parse(raw); }
        catch { return sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] }, requestId); }
      }
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: () => contextFor(deps, req.headers.authorization, requestId),
      });
      const outHeaders: Record<string, string> = { 'x-request-id': requestId };
      for (const [k, v] of result.headers) outHeaders[k] = v;
      res.writeHead(result.status ?? 200, outHeaders);
      if (result.body.kind === 'complete') { res.end(result.body.string); return; }
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (err) {
      deps.logger.error('request failed', { requestId, error: (err as Error).message });
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }, requestId);
      else res.end();
    }
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
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
