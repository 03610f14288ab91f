/**
 * The pure rules of a plan lapse (README: "Audit logging is disabled when the plan lapses"): the reason a
 * revision records, how long a failed job waits before its next attempt, and the fixed reason and sentence
 * a failure is recorded with (never a URL, a secret or a server's own text). No I/O.
 */
import { TenancyError, TenancyErrorCode } from '../tenancy/tenancy.errors';
import { AuditErrorCode, AuditPolicyError } from './audit-policy.errors';

/** What lapsed: an organization's Pro Platform or a project's Pro Features. */
export type Lapse = { kind: 'organization'; name: string } | { kind: 'project'; name: string };

/** The reason of the revision that disables a policy for a lapse. */
export function lapseReason(lapse: Lapse): string {
  return lapse.kind === 'organization'
    ? `Pro Platform was switched off for organization ${lapse.name}`
    : `Pro Features was switched off for project ${lapse.name}`;
}

/** The longest wait between two attempts of one job (never shorter than the worker's interval). */
export const LAPSE_BACKOFF_CAP_MS = 3_600_000;

/** The wait before the next attempt of a job that has failed `attempts` times (1 = the first failure): doubling from the interval, capped. */
export function lapseBackoffMs(attempts: number, intervalMs: number): number {
  const cap = Math.max(intervalMs, LAPSE_BACKOFF_CAP_MS);
  const n = Math.max(1, Math.floor(attempts));
  if (n > 40) return cap;
  return Math.min(cap, intervalMs * 2 ** (n - 1));
}

/** Why a job is still pending: a small fixed set (summaries, logs and the metrics' `reason` label). */
export const LAPSE_FAILURE_REASONS = ['unreachable', 'busy', 'tls_failed', 'credentials_unreadable', 'apply_failed', 'in_progress_elsewhere', 'error'] as const;
export type LapseFailureReason = typeof LAPSE_FAILURE_REASONS[number];

/** The sentence stored as a job's last_error and logged: fixed per reason. */
export const LAPSE_FAILURE_TEXT: Record<LapseFailureReason, string> = {
  unreachable: 'the PostgreSQL service could not be reached; audit logging is still enabled there and the job will be retried',
  busy: 'the gateway was already using as many connections to this service as it allows; the job will be retried',
  tls_failed: 'the service\'s TLS does not meet TARGET_SSLMODE; the job will be retried',
  credentials_unreadable: 'the service\'s stored credentials do not decrypt with the configured master keys; the job will be retried',
  apply_failed: 'the service did not take the reset of its pgaudit settings (the previous settings were restored); the job will be retried',
  in_progress_elsewhere: 'another gateway process is working on this job',
  error: 'an unexpected error stopped the job; the job will be retried',
};

/** The fixed reason of a failed attempt. */
export function lapseFailureReason(err: unknown): LapseFailureReason {
  if (err instanceof TenancyError && err.code === TenancyErrorCode.CREDENTIALS_UNREADABLE) return 'credentials_unreadable';
  if (!(err instanceof AuditPolicyError)) return 'error';
  switch (err.code) {
    case AuditErrorCode.SERVICE_UNREACHABLE: return 'unreachable';
    case AuditErrorCode.SERVICE_BUSY: return 'busy';
    case AuditErrorCode.SERVICE_TLS_FAILED: return 'tls_failed';
    case AuditErrorCode.APPLY_FAILED: return 'apply_failed';
    default: return 'error';
  }
}
