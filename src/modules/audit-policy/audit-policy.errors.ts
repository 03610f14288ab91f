/**
 * The audit-policy domain's codes and exception. Its codes are outcomes of a mutation a caller can act on: the
 * service returns them as `userErrors` in the payload, never as top-level GraphQL errors.
 */
import { DomainError } from '../../base/domain-error';
import { AuditRequirement } from '../entitlements/entitlement.checks';

export enum AuditErrorCode {
  PRO_PLATFORM_REQUIRED = 'PRO_PLATFORM_REQUIRED',
  PRO_FEATURES_REQUIRED = 'PRO_FEATURES_REQUIRED',
  POSTGRES_VERSION_UNSUPPORTED = 'POSTGRES_VERSION_UNSUPPORTED',
  AVNADMIN_REQUIRED = 'AVNADMIN_REQUIRED',
  PGAUDIT_UNAVAILABLE = 'PGAUDIT_UNAVAILABLE',
  INVALID_SETTING = 'INVALID_SETTING',
  SETTING_UNSUPPORTED = 'SETTING_UNSUPPORTED',
  DATABASE_NOT_FOUND = 'DATABASE_NOT_FOUND',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  NOT_ENABLED = 'NOT_ENABLED',
  APPLY_FAILED = 'APPLY_FAILED',
  SERVICE_UNREACHABLE = 'SERVICE_UNREACHABLE',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  SERVICE_BUSY = 'SERVICE_BUSY',
  /** The service's TLS does not meet TARGET_SSLMODE (no TLS offered, an untrusted certificate, or one for another host). */
  SERVICE_TLS_FAILED = 'SERVICE_TLS_FAILED',
  /** The role a scope names does not exist on the server (or is one of PostgreSQL's predefined roles). */
  ROLE_NOT_FOUND = 'ROLE_NOT_FOUND',
  /** Two policies would govern one database (a target list and a database's own policy), or a field given for a scope it does not belong to. */
  SCOPE_CONFLICT = 'SCOPE_CONFLICT',
  // object audit (objects/)
  /** A relation of setObjectAudit does not exist in the database, or is not a table, view, materialized view or partitioned table. */
  RELATION_NOT_FOUND = 'RELATION_NOT_FOUND',
  /** A column of setObjectAudit is not a column of its relation. */
  COLUMN_NOT_FOUND = 'COLUMN_NOT_FOUND',
}

/** Each entitlement requirement refuses with its own code (exhaustive: a new requirement needs one). */
export const REFUSAL_OF_REQUIREMENT = {
  PRO_PLATFORM: AuditErrorCode.PRO_PLATFORM_REQUIRED,
  PRO_FEATURES: AuditErrorCode.PRO_FEATURES_REQUIRED,
  POSTGRES_VERSION: AuditErrorCode.POSTGRES_VERSION_UNSUPPORTED,
  AVNADMIN_ROLE: AuditErrorCode.AVNADMIN_REQUIRED,
} as const satisfies Record<AuditRequirement, AuditErrorCode>;

export interface AuditUserError { code: AuditErrorCode; message: string; field: string[] | null }

/**
 * Thrown inside a change to abandon it: the transaction rolls back, nothing is applied, and the caller gets
 * `userErrors` (one refusal may name several problems, e.g. every failing entitlement). `code` is the first one's.
 */
export class AuditPolicyError extends DomainError<AuditErrorCode> {
  constructor(readonly userErrors: AuditUserError[]) {
    super(userErrors[0]?.code ?? AuditErrorCode.APPLY_FAILED, userErrors.map((e) => e.message).join('; '));
  }
}

export const refuse = (code: AuditErrorCode, message: string, field: string[] | null = null): AuditPolicyError =>
  new AuditPolicyError([{ code, message, field }]);

/** A target server that cannot be connected to (the message never carries its URL). */
export const unreachable = (): AuditPolicyError => refuse(AuditErrorCode.SERVICE_UNREACHABLE,
  'the PostgreSQL service could not be reached; nothing was changed', ['input', 'serviceId']);

export const isUnreachable = (err: unknown): boolean =>
  err instanceof AuditPolicyError && err.code === AuditErrorCode.SERVICE_UNREACHABLE;

/** User text inside messages: bounded, so a 1 MB name never comes back in an error. */
export function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A target server's own error text as a caller may see it: bounded, and without the server's file paths. */
export function serverText(text: string, max = 100): string {
  return clip(text.replace(/(^|[\s"'(=])(?:[A-Za-z]:)?[\\/](?:[^\s"'/\\]+[\\/])+[^\s"',;:)]*/g, '$1<path>'), max);
}
