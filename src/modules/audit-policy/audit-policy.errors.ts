/** Outcomes of a mutation a caller can act on: returned as `userErrors`, never thrown to the client. */
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
}

/** Each entitlement requirement refuses with its own code (exhaustive: a new requirement needs one). */
export const REFUSAL_OF_REQUIREMENT = {
  PRO_PLATFORM: AuditErrorCode.PRO_PLATFORM_REQUIRED,
  PRO_FEATURES: AuditErrorCode.PRO_FEATURES_REQUIRED,
  POSTGRES_VERSION: AuditErrorCode.POSTGRES_VERSION_UNSUPPORTED,
  AVNADMIN_ROLE: AuditErrorCode.AVNADMIN_REQUIRED,
} as const satisfies Record<AuditRequirement, AuditErrorCode>;

export interface AuditUserError { code: AuditErrorCode; message: string; field: string[] | null }

/** Thrown inside a change to abandon it: the transaction rolls back, the caller gets the userErrors. */
export class Refusal extends Error {
  constructor(readonly errors: AuditUserError[]) { super(errors.map((e) => e.code).join(',')); }
}

export const refuse = (code: AuditErrorCode, message: string, field: string[] | null = null): Refusal =>
  new Refusal([{ code, message, field }]);
