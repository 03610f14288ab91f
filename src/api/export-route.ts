/**
 * POST /export: a streamed export of one service's events (README, Export). The same gates as the GraphQL
 * query path, in the same order: the per-address limit on requests without a valid token and the bearer token
 * (http-server.ts's one authentication), the token's bucket (RATE_LIMITED once it holds less than a point), the
 * scope (read:events, HTTP_ROUTE_SCOPE), the body's checks, then the export's cost taken from the token's bucket
 * (limits.ts EXPORT_COST: RATE_LIMITED, 429 + Retry-After, when it holds less), then the tenancy check. The same
 * filter: the body's `filter` is coerced by the schema's own AuditEventFilter type and checked by its
 * class-validator bounds, then by the query builder. Every refusal is a JSON error before any byte of the
 * export; once streaming, how it ended is the last NDJSON line and the HTTP trailers (export.format.ts ExportEnd).
 * Writes wait for the socket ('drain'); a client that leaves stops the reads and frees the point in time.
 * Each page written is paid from the token's bucket as it goes (owed: a stream is not cut for its cost) and
 * counted in the export metrics (base/metrics.ts), as is every refusal, start and end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validate } from 'class-validator';
import { coerceInputValue, GraphQLInputObjectType } from 'graphql';
import type { Logger } from '../base/logger';
import type { GatewayMetrics } from '../base/metrics';
import { AuditEventsError, AuditEventsErrorCode, invalidArgument } from '../modules/audit-events/audit-events.errors';
import { AuditEventFilter } from '../modules/audit-events/audit-events.types';
import { EXPORT_CONTENT_TYPES, ExportEnd, ndjsonEnd } from '../modules/audit-events/export.format';
import { exportFormat, ExportRun, ExportService } from '../modules/audit-events/export.service';
import type { Principal } from '../modules/tenancy/principal';
import type { GatewayContext } from './context';
import { ApiError, ApiErrorCode, routeError } from './error-map';
import { EXPORT_COST, exportPageCost } from './limits';
import type { TokenThrottle } from './rate-limit';
import { gatewaySchema } from './schema';
import { HTTP_ROUTE_SCOPE } from './scopes';

export interface ExportRouteDeps {
  exports?: ExportService;
  logger: Logger;
  /** The request's context once its token is valid, the per-address limit around the lookup (http-server.ts, as /graphql/stream's). */
  authenticate(req: IncomingMessage, requestId: string): Promise<GatewayContext>;
  /** Each token's bucket of cost points (rate-limit.ts); null: no per-token limit. */
  tokens: TokenThrottle | null;
  metrics?: GatewayMetrics;
}

/** Trailers of every export answer: how it ended (complete | partial | error), events written, where to resume, the error code. */
export const EXPORT_TRAILERS = ['x-export-status', 'x-export-events', 'x-export-resume', 'x-export-error'] as const;

/** The body's filter as auditEvents gets it: coerced by the schema's AuditEventFilter type, then its class-validator bounds. */
export async function exportFilter(raw: unknown): Promise<AuditEventFilter> {
  if (raw === undefined || raw === null) return {};
  const type = gatewaySchema().getType('AuditEventFilter') as GraphQLInputObjectType;
  const coerced = coerceInputValue(raw, type, (path, _value, error) => {
    throw invalidArgument(`filter${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${error.message.slice(0, 200)}`, 'filter');
  }) as Record<string, unknown>;
  const filter = Object.assign(new AuditEventFilter(), coerced);
  const problems = await validate(filter, { forbidUnknownValues: false });
  if (problems.length > 0) {
    const p = problems[0]!;
    throw invalidArgument(`filter.${p.property}: ${Object.values(p.constraints ?? {}).join('; ').slice(0, 200)}`, `filter.${p.property}`);
  }
  return filter;
}

const str = (v: unknown, name: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalidArgument(`${name} must be a string`, name);
  return v;
};

function sendError(res: ServerResponse, requestId: string, deps: ExportRouteDeps, err: unknown): void {
  const e = routeError(err);
  if (e.logged) deps.logger.warn('export refused', { requestId, code: e.code, error: err instanceof Error ? err.message : String(err) });
  deps.metrics?.exportsFailed.labels(e.code).inc();
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId };
  if (e.code === ApiErrorCode.UNAUTHENTICATED) headers['www-authenticate'] = 'Bearer';
  // RATE_LIMITED: Retry-After, as the error carries it for GraphQL answers (rate-limit.ts rateLimitedError)
  const http = err instanceof ApiError ? (err.extensions.http as { headers?: Map<string, string> } | undefined) : undefined;
  for (const [k, v] of http?.headers ?? []) headers[k] = v;
  res.writeHead(e.status, headers);
  res.end(JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.code, ...e.extensions } }] }));
}

/**
 * Everything checked before the first byte: address limit and token, the token's bucket, scope, body, filter, the
 * export's start cost, service, resume, the token's exports at once, the first page.
 */
async function prepare(deps: ExportRouteDeps, req: IncomingMessage, requestId: string, raw: string): Promise<{ run: ExportRun; principal: Principal }> {
  const context = await deps.authenticate(req, requestId);
  await context.targets.close();   // an export never connects to a customer's server
  const principal = context.principal;
  deps.tokens?.admit(principal.tokenId);   // an empty bucket: refused before the body is even parsed, as on /graphql
  const scope = HTTP_ROUTE_SCOPE['POST /export'];
  if (!principal.scopes.includes(scope)) {
    throw new ApiError(ApiErrorCode.INSUFFICIENT_SCOPE, `this token lacks the scope ${scope} that an export needs`, { requiredScopes: [scope], missingScopes: [scope] });
  }
  let body: unknown;
  try { body = JSON.parse(raw); } catch { throw invalidArgument('the body must be a JSON object: {"serviceId", "format", "filter", "resume", "after", "limit"}', 'body'); }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('the body must be a JSON object', 'body');
  const b = body as Record<string, unknown>;
  const unknownKey = Object.keys(b).find((k) => !['serviceId', 'format', 'filter', 'resume', 'after', 'limit'].includes(k));
  if (unknownKey) throw invalidArgument(`unknown field ${unknownKey.slice(0, 50)}`, unknownKey.slice(0, 50));
  const serviceId = str(b.serviceId, 'serviceId');
  if (!serviceId) throw invalidArgument('serviceId is required', 'serviceId');
  if (b.limit !== undefined && b.limit !== null && typeof b.limit !== 'number') throw invalidArgument('limit must be a number', 'limit');
  if (!deps.exports) throw new AuditEventsError(AuditEventsErrorCode.STORE_NOT_CONFIGURED, 'audit event export is not configured');
  const request = { serviceId, format: exportFormat(str(b.format, 'format') ?? 'ndjson'), filter: await exportFilter(b.filter),
    resume: str(b.resume, 'resume'), after: str(b.after, 'after'), limit: (b.limit as number | null | undefined) ?? null };
  // the body is well-formed (types, enums, the filter's shape: what GraphQL validation would refuse for free): the start is
  // charged before any work, with no refund for what the export then finds (a service not visible, a bad resume, bounds), as on /graphql
  deps.tokens?.charge(principal.tokenId, EXPORT_COST.start, (status) => ({ cost: { requestedQueryCost: EXPORT_COST.start, throttleStatus: status } }));
  return { run: await deps.exports.start(principal, request), principal };
}

export async function handleExport(deps: ExportRouteDeps, req: IncomingMessage, res: ServerResponse, requestId: string, raw: string): Promise<void> {
  let run: ExportRun;
  let principal: Principal;
  try { ({ run, principal } = await prepare(deps, req, requestId, raw)); } catch (err) { return sendError(res, requestId, deps, err); }

  res.writeHead(200, {
    'content-type': EXPORT_CONTENT_TYPES[run.format], 'x-request-id': requestId, 'cache-control': 'no-store',
    'content-disposition': `attachment; filename="audit-events.${run.format}"`, 'x-export-token': run.startToken, trailer: EXPORT_TRAILERS.join(', '),
  });
  deps.metrics?.exportsStarted.labels(run.format).inc();
  const gone = new AbortController();
  res.once('close', () => { if (!res.writableFinished) gone.abort(); });
  const sink = {
    write: (text: string, events: number) => new Promise<void>((resolve) => {
      if (gone.signal.aborted || res.destroyed) return resolve();
      if (events > 0) {
        deps.tokens?.spend(principal.tokenId, exportPageCost(events));   // read already: owed whatever the bucket holds
        deps.metrics?.exportEvents.labels(run.format).inc(events);
      }
      deps.metrics?.exportBytes.labels(run.format).inc(Buffer.byteLength(text, 'utf8'));
      if (res.write(text)) return resolve();
      const done = () => { res.off('drain', done); gone.signal.removeEventListener('abort', done); resolve(); };
      res.once('drain', done);
      gone.signal.addEventListener('abort', done, { once: true });
    }),
  };
  const outcome = await run.run(sink, gone.signal);
  deps.metrics?.exportsEnded.labels(outcome.status === 'aborted' || gone.signal.aborted ? 'aborted' : outcome.status).inc();
  if (outcome.status === 'aborted' || gone.signal.aborted) {
    deps.logger.debug('export client went away', { requestId, written: outcome.written });
    res.destroy();
    return;
  }
  const end: ExportEnd = { status: outcome.status, events: outcome.written, resume: outcome.resume };
  if (outcome.status === 'error') {
    const e = routeError(outcome.error);
    deps.logger.warn('export stopped', { requestId, code: e.code, written: outcome.written, error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
    deps.metrics?.exportsFailed.labels(e.code).inc();
    end.code = e.code;
    end.message = e.message;
  }
  if (run.format === 'ndjson') await sink.write(ndjsonEnd(end), 0);
  res.addTrailers({ 'x-export-status': end.status, 'x-export-events': String(end.events), 'x-export-resume': end.resume ?? '', 'x-export-error': end.code ?? '' });
  res.end();
}
