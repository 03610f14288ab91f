/** The audit-events domain's exception: a query the store refuses, or a store that cannot answer. */
import { DomainError } from '../../base/domain-error';

export enum AuditEventsErrorCode {
  /** A filter, page size, interval or cursor out of bounds; `details.argument` names it. */
  INVALID_ARGUMENT = 'INVALID_ARGUMENT',
  /** OpenSearch is unreachable or overloaded (the message may carry internals: it is for logs only). */
  STORE_UNAVAILABLE = 'STORE_UNAVAILABLE',
  /** No OPENSEARCH_URL: event queries cannot be answered, the control path works as usual. */
  STORE_NOT_CONFIGURED = 'STORE_NOT_CONFIGURED',
  /** The token already runs as many exports as it may at once (EXPORT_MAX_CONCURRENT_PER_TOKEN); `details.limit`. */
  EXPORT_BUSY = 'EXPORT_BUSY',
  /** A live tail refused: the token (`details.limit` PER_TOKEN) or the process (PER_PROCESS) has `details.max` open already. */
  TAIL_LIMIT_REACHED = 'TAIL_LIMIT_REACHED',
  /**
   * A live tail ended by the gateway (`details.reason`: LIFETIME, IDLE, TOKEN_EXPIRED, SHUTDOWN); `details.cursor`
   * resumes it exactly where it stopped.
   */
  TAIL_ENDED = 'TAIL_ENDED',
}

export class AuditEventsError extends DomainError<AuditEventsErrorCode> {}

export const invalidArgument = (message: string, argument: string): AuditEventsError =>
  new AuditEventsError(AuditEventsErrorCode.INVALID_ARGUMENT, message, { argument });

export const storeUnavailable = (message: string): AuditEventsError =>
  new AuditEventsError(AuditEventsErrorCode.STORE_UNAVAILABLE, message);
