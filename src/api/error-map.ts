/**
 * The one error map. Domains throw their own coded exceptions (base/domain-error.ts); this file alone turns
 * them into GraphQL errors, through one exhaustive table per domain: a new code without a mapping fails to
 * compile. Top-level errors are for authentication, visibility, malformed input and faults; outcomes a
 * caller can act on (entitlements, settings, conflicts) are `userErrors` in a mutation's payload instead.
 */
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import { BaseError, BaseErrorCode, DomainError } from '../base/domain-error';
import type { Logger } from '../base/logger';
import { AuditEventsError, AuditEventsErrorCode } from '../modules/audit-events/audit-events.errors';
import { AuditErrorCode, AuditPolicyError } from '../modules/audit-policy/audit-policy.errors';
import { TenancyError, TenancyErrorCode } from '../modules/tenancy/tenancy.errors';
import { RedactionError, RedactionErrorCode } from '../modules/redaction/redaction.errors';

export enum ApiErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  /**
   * The token lacks a scope the operation needs (src/api/scopes.ts): nothing runs. `extensions.requiredScopes`
   * and `extensions.missingScopes` name them (OAuth's `insufficient_scope`, RFC 6750).
   */
  INSUFFICIENT_SCOPE = 'INSUFFICIENT_SCOPE',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** Over the cost budget of one request (src/api/limits.ts); `extensions.cost` says by how much. */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** The answer would exceed MAX_RESPONSE_BYTES: nothing of it is sent (narrow the query: fewer events or fields). */
  RESPONSE_TOO_LARGE = 'RESPONSE_TOO_LARGE',
  /**
   * A rate limit (src/api/rate-limit.ts): the token's bucket holds fewer points than the request costs, or the
   * address sent too many requests without a valid token. Nothing ran; `Retry-After` and `extensions.retryAfterSeconds` say when to retry.
   */
  RATE_LIMITED = 'RATE_LIMITED',
  /**
   * A live tail refused: the token, or the gateway process, has as many open as it may (`extensions.limit`:
   * PER_TOKEN or PER_PROCESS; `extensions.max`). Nothing was opened.
   */
  SUBSCRIPTION_LIMIT_REACHED = 'SUBSCRIPTION_LIMIT_REACHED',
  /**
   * The gateway ended a live tail (`extensions.reason`: LIFETIME, IDLE, TOKEN_EXPIRED, SHUTDOWN); subscribe again
   * with `after: extensions.cursor` to continue exactly where it stopped.
   */
  SUBSCRIPTION_ENDED = 'SUBSCRIPTION_ENDED',
}

/** HTTP status for an error that ends the whole request; undefined keeps GraphQL's 200 (partial result). */
const HTTP_STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: undefined,
  INSUFFICIENT_SCOPE: 403,
  NOT_FOUND: undefined,
  BAD_USER_INPUT: undefined,
  SERVICE_UNAVAILABLE: undefined,
  QUERY_TOO_COMPLEX: 400,
  INTERNAL_SERVER_ERROR: 500,
  RESPONSE_TOO_LARGE: undefined,
  RATE_LIMITED: 429,
  SUBSCRIPTION_LIMIT_REACHED: undefined,
  SUBSCRIPTION_ENDED: undefined,
} as const satisfies Record<ApiErrorCode, number | undefined>;

/** How one domain code reaches a caller: its GraphQL code, and a fixed message where the domain's may hold internals. */
interface Mapping { code: ApiErrorCode; publicMessage?: string }

const BASE = {
  INVALID_CURSOR: { code: ApiErrorCode.BAD_USER_INPUT },
  INVALID_CONFIG: { code: ApiErrorCode.INTERNAL_SERVER_ERROR, publicMessage: 'Internal server error' },
} as const satisfies Record<BaseErrorCode, Mapping>;

const TENANCY = {
  INVALID_INPUT: { code: ApiErrorCode.BAD_USER_INPUT },
  ORGANIZATION_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  PROJECT_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  SERVICE_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  SERVICE_NAME_TAKEN: { code: ApiErrorCode.BAD_USER_INPUT },
  TOKEN_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  // the gateway's own stored credentials do not decrypt: a fixed message to the caller (the domain's names the reason), logged as a warning
  CREDENTIALS_UNREADABLE: { code: ApiErrorCode.SERVICE_UNAVAILABLE,
    publicMessage: 'the gateway cannot use its stored credentials for this service; nothing was changed (an operator must check its master keys)' },
} as const satisfies Record<TenancyErrorCode, Mapping>;

const AUDIT_EVENTS = {
  INVALID_ARGUMENT: { code: ApiErrorCode.BAD_USER_INPUT },
  STORE_UNAVAILABLE: { code: ApiErrorCode.SERVICE_UNAVAILABLE, publicMessage: 'audit event search is unavailable; try again later' },
  STORE_NOT_CONFIGURED: { code: ApiErrorCode.SERVICE_UNAVAILABLE },
  EXPORT_BUSY: { code: ApiErrorCode.RATE_LIMITED },
  TAIL_LIMIT_REACHED: { code: ApiErrorCode.SUBSCRIPTION_LIMIT_REACHED },
  TAIL_ENDED: { code: ApiErrorCode.SUBSCRIPTION_ENDED },
} as const satisfies Record<AuditEventsErrorCode, Mapping>;

/**
 * The control path returns these as `userErrors` and never lets one escape; should one ever reach this map,
 * it still gets a sensible top-level code rather than INTERNAL_SERVER_ERROR.
 */
const AUDIT_POLICY = {
  PRO_PLATFORM_REQUIRED: { code: ApiErrorCode.FORBIDDEN },
  PRO_FEATURES_REQUIRED: { code: ApiErrorCode.FORBIDDEN },
  POSTGRES_VERSION_UNSUPPORTED: { code: ApiErrorCode.FORBIDDEN },
  AVNADMIN_REQUIRED: { code: ApiErrorCode.FORBIDDEN },
  PGAUDIT_UNAVAILABLE: { code: ApiErrorCode.BAD_USER_INPUT },
  INVALID_SETTING: { code: ApiErrorCode.BAD_USER_INPUT },
  SETTING_UNSUPPORTED: { code: ApiErrorCode.BAD_USER_INPUT },
  DATABASE_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  VERSION_CONFLICT: { code: ApiErrorCode.BAD_USER_INPUT },
  NOT_ENABLED: { code: ApiErrorCode.BAD_USER_INPUT },
  APPLY_FAILED: { code: ApiErrorCode.SERVICE_UNAVAILABLE },
  SERVICE_UNREACHABLE: { code: ApiErrorCode.SERVICE_UNAVAILABLE },
  IDEMPOTENCY_KEY_REUSED: { code: ApiErrorCode.BAD_USER_INPUT },
  SERVICE_BUSY: { code: ApiErrorCode.SERVICE_UNAVAILABLE },
  SERVICE_TLS_FAILED: { code: ApiErrorCode.SERVICE_UNAVAILABLE },
  ROLE_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  SCOPE_CONFLICT: { code: ApiErrorCode.BAD_USER_INPUT },
  RELATION_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
  COLUMN_NOT_FOUND: { code: ApiErrorCode.NOT_FOUND },
} as const satisfies Record<AuditErrorCode, Mapping>;

/** setRedactionRules returns INVALID_RULES and VERSION_CONFLICT as `userErrors`; RULES_UNREADABLE is a fault. */
const REDACTION = {
  INVALID_RULES: { code: ApiErrorCode.BAD_USER_INPUT },
  VERSION_CONFLICT: { code: ApiErrorCode.BAD_USER_INPUT },
  RULES_UNREADABLE: { code: ApiErrorCode.SERVICE_UNAVAILABLE,
    publicMessage: 'the stored redaction rules cannot be read by this gateway version; nothing was changed (an operator must upgrade it)' },
} as const satisfies Record<RedactionErrorCode, Mapping>;

/** The mapping of any domain error, found by its class: each domain has exactly one. */
function mappingOf(err: DomainError): Mapping | null {
  if (err instanceof BaseError) return BASE[err.code];
  if (err instanceof TenancyError) return TENANCY[err.code];
  if (err instanceof AuditEventsError) return AUDIT_EVENTS[err.code];
  if (err instanceof AuditPolicyError) return AUDIT_POLICY[err.code];
  if (err instanceof RedactionError) return REDACTION[err.code];
  return null;
}

/**
 * An error the API layer raises itself (authentication, limits); domains throw DomainErrors instead. Its HTTP
 * status (HTTP_STATUS) and `headers` reach the response through Apollo (`extensions.http`, removed before it is sent).
 */
export class ApiError extends GraphQLError {
  constructor(readonly code: ApiErrorCode, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const status = HTTP_STATUS[code];
    const http = status ? { status, headers: new HeaderMap(Object.entries(headers)) } : undefined;
    super(message, { extensions: { code, ...extra, ...(http ? { http } : {}) } });
  }
}

/** GraphQL/Apollo's own codes for requests that never reached a resolver: safe to show as they are. */
export const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** graphql-js's own message (execution/values.js) when a request's variables hold more errors than it reports. */
const VARIABLE_ERROR_LIMIT = 'Too many errors processing variables, error limit reached. Execution aborted.';

/**
 * The code of an error of the request itself (it never reached a resolver), shown as it is; undefined for
 * anything else. A GraphQL/Apollo code from PASS_THROUGH, or BAD_REQUEST for Apollo's own request errors that
 * carry an HTTP 4xx status but no code (a persisted query whose sha256Hash does not match its query, or of an
 * unsupported version): the client's fault, not an INTERNAL_SERVER_ERROR to log.
 */
function requestErrorCode(error: unknown, code: unknown, original: unknown): string | undefined {
  if (original instanceof Error && !(original instanceof GraphQLError)) return undefined;   // a fault wrapped by graphql-js
  if (typeof code === 'string') return PASS_THROUGH.has(code) ? code : undefined;
  // graphql-js stops coercing variables after 50 errors (a long list of bad input objects) with an error of no code
  if (error instanceof GraphQLError && !error.originalError && error.message === VARIABLE_ERROR_LIMIT) return 'BAD_USER_INPUT';
  const status = error instanceof GraphQLError ? (error.extensions?.http as { status?: unknown } | undefined)?.status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 && !(error as GraphQLError).originalError ? 'BAD_REQUEST' : undefined;
}

/**
 * What a request's error is worth a log line (written by the observability plugin, with the request's logger,
 * which carries the request id): a domain error shown with a fixed public message (warn), or anything that
 * becomes INTERNAL_SERVER_ERROR (error). The same decisions as makeFormatError below.
 */
export function logRequestError(logger: Logger, error: GraphQLError): void {
  const original = unwrapResolverError(error);
  if (original instanceof ArgumentValidationError || original instanceof ApiError) return;
  const mapping = original instanceof DomainError ? mappingOf(original) : null;
  if (mapping && mapping.code !== ApiErrorCode.INTERNAL_SERVER_ERROR) {
    const domain = original as DomainError;
    if (mapping.publicMessage) logger.warn('request failed', { code: domain.code, error: domain.message, path: error.path });
    return;
  }
  if (requestErrorCode(error, error.extensions?.code, original)) return;
  logger.error('unhandled error', { error: original instanceof Error ? original.message : String(original),
    stack: original instanceof Error ? original.stack : undefined, path: error.path });
}

/**
 * The most characters of a message graphql-js wrote (parse, validation, variable coercion) that an answer repeats:
 * those quote the request's own text, so a 200 KB literal would otherwise come back as a 200 KB message.
 */
export const MAX_PASSED_MESSAGE = 500;

/**
 * Apollo `formatError`: known errors keep their code and message (no stack trace, no internals);
 * anything else becomes a bare INTERNAL_SERVER_ERROR (logged with the request id by logRequestError).
 */
export function makeFormatError() {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const where = { path: formatted.path, locations: formatted.locations };
    if (original instanceof ArgumentValidationError) {
      const problems = (original.extensions.validationErrors as { property: string; constraints?: Record<string, string> }[])
        .map((v) => ({ property: v.property, constraints: v.constraints ?? {} }));
      return { message: 'Invalid input', ...where, extensions: { code: ApiErrorCode.BAD_USER_INPUT, validationErrors: problems } };
    }
    if (original instanceof ApiError) {
      const { http: _http, ...extensions } = original.extensions as Record<string, unknown>;
      return { message: original.message, ...where, extensions };
    }
    const mapping = original instanceof DomainError ? mappingOf(original) : null;
    if (mapping && mapping.code !== ApiErrorCode.INTERNAL_SERVER_ERROR) {
      const domain = original as DomainError;
      return { message: mapping.publicMessage ?? domain.message, ...where, extensions: { code: mapping.code, ...domain.details } };
    }
    // the error's own code: Apollo fills formatted.extensions.code with INTERNAL_SERVER_ERROR where it has none
    const code = requestErrorCode(error, error instanceof GraphQLError ? error.extensions?.code : formatted.extensions?.code, original);
    if (code) {
      return { message: formatted.message.slice(0, MAX_PASSED_MESSAGE), locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    return { message: 'Internal server error', path: formatted.path, extensions: { code: ApiErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

/**
 * What replaces a GraphQL response over MAX_RESPONSE_BYTES (HTTP 200, like any other error of execution):
 * no data, one error with the limit and the size the response would have had.
 */
export function responseTooLargeBody(responseBytes: number, maxResponseBytes: number): string {
  return JSON.stringify({ data: null, errors: [{
    message: `the response would be ${responseBytes} bytes, over the limit of ${maxResponseBytes}: ask for fewer events or fields`,
    extensions: { code: ApiErrorCode.RESPONSE_TOO_LARGE, responseBytes, maxResponseBytes },
  }] });
}

/** The HTTP status of each code on routes outside GraphQL (POST /export), where an error is the whole answer. */
const ROUTE_STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  SERVICE_UNAVAILABLE: 503,
  QUERY_TOO_COMPLEX: 400,
  INTERNAL_SERVER_ERROR: 500,
  RESPONSE_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  // live tails only (served on /graphql/stream, never by a route); here for a complete table
  SUBSCRIPTION_LIMIT_REACHED: 429,
  SUBSCRIPTION_ENDED: 410,
} as const satisfies Record<ApiErrorCode, number>;

/**
 * An error of a route outside GraphQL, by the same tables: its status, and `{ code, message, ...details }` for
 * the body (`{"errors": [{"message", "extensions": {"code", ...}}]}`) or an in-band error marker. `logged`: a
 * fault (INTERNAL_SERVER_ERROR) or a domain error shown with a fixed message, which the caller logs.
 */
export function routeError(err: unknown): { status: number; code: ApiErrorCode | string; message: string; extensions: Record<string, unknown>; logged: boolean } {
  if (err instanceof ApiError) {
    const { http: _http, code: _code, ...extensions } = err.extensions as Record<string, unknown>;
    return { status: ROUTE_STATUS[err.code], code: err.code, message: err.message, extensions, logged: false };
  }
  const mapping = err instanceof DomainError ? mappingOf(err) : null;
  if (mapping && mapping.code !== ApiErrorCode.INTERNAL_SERVER_ERROR) {
    const domain = err as DomainError;
    return { status: ROUTE_STATUS[mapping.code], code: mapping.code, message: mapping.publicMessage ?? domain.message,
      extensions: { ...domain.details }, logged: mapping.publicMessage !== undefined };
  }
  return { status: 500, code: ApiErrorCode.INTERNAL_SERVER_ERROR, message: 'Internal server error', extensions: {}, logged: true };
}
