/**
 * Top-level GraphQL errors: authentication, visibility, malformed input and faults. Outcomes a caller
 * can act on (entitlements, settings, conflicts) are `userErrors` in the payload instead.
 * Every code has an HTTP status in one exhaustive table; a new code without one fails to compile.
 */
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import type { Logger } from '../base/logger';

export enum ApiErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** HTTP status for an error that ends the whole request; undefined keeps GraphQL's 200 (partial result). */
const HTTP_STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: undefined,
  NOT_FOUND: undefined,
  BAD_USER_INPUT: undefined,
  SERVICE_UNAVAILABLE: undefined,
  INTERNAL_SERVER_ERROR: undefined,
} as const satisfies Record<ApiErrorCode, number | undefined>;

export class ApiError extends GraphQLError {
  constructor(readonly code: ApiErrorCode, message: string, extra: Record<string, unknown> = {}) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...extra, ...(status ? { http: { status } } : {}) } });
  }
}

/** GraphQL/Apollo's own codes for requests that never reached a resolver: safe to show as they are. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * Apollo `formatError`: known errors keep their code and message (no stack trace, no internals);
 * anything else is logged with the request id and becomes a bare INTERNAL_SERVER_ERROR.
 */
export function makeFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ArgumentValidationError) {
      const problems = (original.extensions.validationErrors as { property: string; constraints?: Record<string, string> }[])
        .map((v) => ({ property: v.property, constraints: v.constraints ?? {} }));
      return { message: 'Invalid input', path: formatted.path, locations: formatted.locations,
        extensions: { code: ApiErrorCode.BAD_USER_INPUT, validationErrors: problems } };
    }
    if (original instanceof ApiError) {
      const { http: _http, ...extensions } = original.extensions as Record<string, unknown>;
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH.has(code) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    logger.error('unhandled error', { error: original instanceof Error ? original.message : String(original),
      stack: original instanceof Error ? original.stack : undefined, path: formatted.path });
    return { message: 'Internal server error', path: formatted.path, extensions: { code: ApiErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
