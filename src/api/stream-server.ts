/**
 * GET/POST /graphql/stream: GraphQL subscriptions (auditEventTail) over Server-Sent Events, graphql-sse's
 * "distinct connections" mode (one subscription per HTTP request; `accept: text/event-stream`). Queries and
 * mutations stay on /graphql, which refuses subscriptions (http-server.ts, knownOperationTypes).
 *
 * A subscription passes the same gates as a query on /graphql, in the same order, before anything opens:
 * the per-address limit on requests without a valid token, the bearer token (UNAUTHENTICATED, 401), the
 * token's bucket (RATE_LIMITED, 429), the parse limit, the validation rules (depth, aliases, directives,
 * root fields), the scopes (INSUFFICIENT_SCOPE, 403: read:events), the cost budget and its charge, the variables'
 * coercion (BAD_USER_INPUT, 400). Those refusals are JSON answers with the HTTP status /graphql gives them, every
 * message bounded, graphql-sse's own refusals of malformed requests with a code too (codedRefusal); errors once the stream is open (a bad
 * filter or cursor, a service not visible, the live-tail limits, the end of a tail) are GraphQL errors in the
 * stream, formatted by the one error map. The token is not checked again while the tail runs: its expiry
 * ends the tail (TOKEN_EXPIRED), a revocation takes effect within TAIL_MAX_LIFETIME_MS at most.
 *
 * Memory per stream is bounded: a tail produces at most TAIL_MAX_EVENTS_PER_POLL events per poll and polls
 * only when the previous batch was taken; a client that stops reading for STREAM_STALL_MS (its socket buffer
 * full) is disconnected, which closes its tail.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DocumentNode, getOperationAST, getVariableValues, GraphQLError, GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { createHandler, ExecutionResult, Response as SseResponse } from 'graphql-sse';
import type { GraphQLLimits } from '../base/config';
import type { GatewayContext } from './context';
import { ApiError, ApiErrorCode, logRequestError, makeFormatError, MAX_PASSED_MESSAGE } from './error-map';
import { graphqlLimits, operationCost } from './limits';
import type { AddressThrottle, TokenThrottle } from './rate-limit';
import { checkOperationScopes } from './scopes';

/** A client whose socket takes nothing for this long is disconnected (its tail closes). */
export const STREAM_STALL_MS = 30_000;

interface StreamContext { requestId: string }

export interface StreamDeps {
  schema: GraphQLSchema;
  limits: GraphQLLimits;
  throttles: { tokens: TokenThrottle | null; addresses: AddressThrottle | null };
  /** The request's context once its token is valid (http-server.ts contextFor, with the address limit around it). */
  authenticate(req: IncomingMessage, requestId: string): Promise<GatewayContext>;
}

const format = makeFormatError();
/** graphql-sse's constraint on an operation's context: an indexable record. */
type OperationContext = GatewayContext & Record<PropertyKey, unknown>;
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** A JSON answer with one error, the status the error carries (ApiError) or `status`. */
function errorResponse(err: GraphQLError, status: number): SseResponse {
  const http = err.extensions?.http as { status?: number; headers?: Map<string, string> } | undefined;
  const headers: Record<string, string> = { ...JSON_TYPE };
  for (const [k, v] of http?.headers ?? []) headers[k] = v;
  const formatted = format(err.toJSON(), err);
  const code = http?.status ?? status;
  return [JSON.stringify({ errors: [formatted] }), { status: code, statusText: String(code), headers }];
}

const refusal = (code: string, message: string) => new GraphQLError(message, { extensions: { code } });


/**
 * graphql-sse's own refusals of a malformed request (a body that is not JSON or not an object, no query, variables
 * or extensions of the wrong type: 400 with bare `{ errors: [{ message }] }`; a content type other than JSON: 415
 * with no body) in this API's shape, as /graphql answers them: `extensions.code` BAD_REQUEST, a bounded message.
 * Answers this file made (they carry a code) pass as they are.
 */
export function codedRefusal(body: string | null, status: number): string | null {
  if (status < 400) return body;
  let errors: { message?: unknown; extensions?: { code?: unknown } }[] = [];
  try { errors = (JSON.parse(body ?? '') as { errors?: typeof errors }).errors ?? []; } catch { errors = []; }
  if (errors.length > 0 && errors.every((e) => typeof e.extensions?.code === 'string')) return body;
  const messages = errors.map((e) => (typeof e.message === 'string' ? e.message : '')).filter(Boolean);
  const message = status === 415 ? 'send the request as JSON (content-type: application/json), or as GET with query parameters'
    : messages.length > 0 ? messages.join('; ') : 'malformed request';
  return JSON.stringify({ errors: [{ message: message.slice(0, MAX_PASSED_MESSAGE), extensions: { code: 'BAD_REQUEST' } }] });
}

export function createStreamServer(deps: StreamDeps) {
  const guard = graphqlLimits(deps.schema, deps.limits);
  const rules = [...specifiedRules, ...guard.validationRules];
  const open = new Set<AsyncGenerator<string, void, undefined>>();

  const handler = createHandler<IncomingMessage, StreamContext, OperationContext>({
    schema: deps.schema,
    authenticate: () => null,   // distinct connections only: no reservations (PUT), no shared streams
    async onSubscribe(req, params) {
      let context: GatewayContext;
      try {
        context = await deps.authenticate(req.raw, req.context.requestId);
        deps.throttles.tokens?.admit(context.principal.tokenId);
      } catch (err) {
        if (err instanceof GraphQLError) return errorResponse(err, 401);
        throw err;
      }
      await context.targets.close();   // a subscription never connects to a customer's server
      let document: DocumentNode;
      try { document = parse(params.query, guard.parseOptions); }
      catch (err) { return errorResponse(err instanceof GraphQLError ? new GraphQLError(err.message.slice(0, MAX_PASSED_MESSAGE), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : refusal('GRAPHQL_PARSE_FAILED', 'unparsable query'), 400); }
      const operation = getOperationAST(document, params.operationName);
      if (!operation) return errorResponse(refusal('BAD_REQUEST', 'name one operation of the document (operationName)'), 400);
      if (operation.operation !== 'subscription') {
        return errorResponse(refusal('BAD_REQUEST', `this endpoint serves subscriptions only; send ${operation.operation}s to POST /graphql`), 400);
      }
      const invalid = validate(deps.schema, document, rules);
      if (invalid.length > 0) {
        // bounded: graphql-js quotes an invalid literal whole ("Expected value of type ..., found <the 70 KB string>")
        return [JSON.stringify({ errors: invalid.slice(0, 10).map((e) => ({ message: e.message.slice(0, MAX_PASSED_MESSAGE), locations: e.locations?.slice(0, 5),
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) }),
          { status: 400, statusText: 'Bad Request', headers: JSON_TYPE }];
      }
      try {
        checkOperationScopes(operation, document, context.principal.scopes);
        let cost: number | undefined;
        try { cost = operationCost(deps.schema, document, params.variables ?? undefined, params.operationName ?? undefined); }
        catch { cost = undefined; }   // variables that do not coerce: refused below, once the request is charged
        if (cost !== undefined && cost > deps.limits.maxCost) {
          throw new ApiError(ApiErrorCode.QUERY_TOO_COMPLEX, `query cost ${cost} is over the limit of ${deps.limits.maxCost}`,
            { cost: { requestedQueryCost: cost, maximumAvailable: deps.limits.maxCost } });
        }
        deps.throttles.tokens?.charge(context.principal.tokenId, cost ?? 1, (status) => ({ cost: { requestedQueryCost: cost, throttleStatus: status } }));
      } catch (err) {
        if (err instanceof GraphQLError) return errorResponse(err, 400);
        throw err;
      }
      // Variables that do not coerce: BAD_USER_INPUT before the stream opens, as /graphql answers them (graphql-js's
      // subscribe would report them with no code, which the error map can only take for a fault). After the charge,
      // as on /graphql (where such a request costs 1); messages bounded (they may quote the value).
      const coerced = getVariableValues(deps.schema, operation.variableDefinitions ?? [], params.variables ?? {}, { maxErrors: 10 });
      if (coerced.errors) {
        return [JSON.stringify({ errors: coerced.errors.map((e) => ({ message: e.message.slice(0, MAX_PASSED_MESSAGE), locations: e.locations,
          extensions: { code: 'BAD_USER_INPUT' } })) }), { status: 400, statusText: 'Bad Request', headers: JSON_TYPE }];
      }
      return { schema: deps.schema, document, operationName: params.operationName, variableValues: params.variables, contextValue: context as OperationContext };
    },
    // every error of the stream through the one error map; faults logged with the request id
    onNext(ctx, _req, result) {
      const errors = (result as ExecutionResult).errors;
      if (!errors?.length) return;
      // formatted errors are what reaches the client (JSON); graphql-sse's type names GraphQLError instances
      return { ...result, errors: errors.map((e) => {
        if (e instanceof GraphQLError) { logRequestError(ctx.logger, e); return format(e.toJSON(), e); }
        return e;
      }) } as unknown as ExecutionResult;
    },
  });

  return {
    /** Serves one request of /graphql/stream; `body` is the request's body already read (bounded), '' for GET. */
    async serve(req: IncomingMessage, res: ServerResponse, requestId: string, body: string): Promise<void> {
      if (req.headers.accept !== 'text/event-stream') {
        res.writeHead(406, { ...JSON_TYPE, 'x-request-id': requestId });
        res.end(JSON.stringify({ errors: [{ message: 'this endpoint streams Server-Sent Events: send accept: text/event-stream', extensions: { code: 'BAD_REQUEST' } }] }));
        return;
      }
      const [out, init] = await handler({
        method: req.method ?? 'GET', url: req.url ?? '/',
        headers: { get: (key) => { const v = req.headers[key]; return Array.isArray(v) ? v.join('\n') : v; } },
        body: body === '' ? null : body, raw: req, context: { requestId },
      });
      if (!out || typeof out === 'string') {
        const answer = codedRefusal(out ?? null, init.status);
        res.writeHead(init.status, { ...init.headers, ...(answer !== (out ?? null) ? JSON_TYPE : {}), 'x-request-id': requestId });
        res.end(answer ?? undefined);
        return;
      }
      res.writeHead(init.status, { ...init.headers, 'x-request-id': requestId });
      open.add(out);
      const stop = () => { void out.return(undefined); };
      res.once('close', stop);
      try {
        for await (const chunk of out) {
          if (!res.writable) break;
          if (!res.write(chunk)) {
            // the client's socket is full: wait for it, at most STREAM_STALL_MS, then give up on it
            const waiting = new AbortController();
            const timer = setTimeout(() => waiting.abort(), STREAM_STALL_MS);
            try { await Promise.race([once(res, 'drain', { signal: waiting.signal }), once(res, 'close', { signal: waiting.signal })]); }
            catch { res.destroy(); break; }
            finally { clearTimeout(timer); waiting.abort(); }
          }
        }
      } finally {
        res.off('close', stop);
        open.delete(out);
        if (!res.writableEnded) res.end();
      }
    },

    /** Streams open now. */
    get size(): number { return open.size; },

    /** Closes every open stream now (their tails close with them). */
    async closeAll(): Promise<void> {
      await Promise.all([...open].map((out) => out.return(undefined)));
    },
  };
}

export type StreamServer = ReturnType<typeof createStreamServer>;
