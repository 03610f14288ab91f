import { TenancyError, TenancyErrorCode } from '../tenancy/tenancy.errors';
import { AuditErrorCode, refuse, unreachable } from './audit-policy.errors';
import {
  LAPSE_BACKOFF_CAP_MS, lapseBackoffMs, lapseFailureReason, LAPSE_FAILURE_REASONS, LAPSE_FAILURE_TEXT, lapseReason,
} from './lapse.rules';

describe('lapseReason', () => {
  it('names what was switched off and for which organization or project', () => {
    expect(lapseReason({ kind: 'organization', name: 'Acme' })).toBe('Pro Platform was switched off for organization Acme');
    expect(lapseReason({ kind: 'project', name: 'billing' })).toBe('Pro Features was switched off for project billing');
  });
});

describe('lapseBackoffMs', () => {
  it('waits one interval after the first failure, doubling after each further one', () => {
    expect([1, 2, 3, 4].map((n) => lapseBackoffMs(n, 30_000))).toEqual([30_000, 60_000, 120_000, 240_000]);
  });
  it('is capped at an hour, however many attempts', () => {
    expect(lapseBackoffMs(8, 30_000)).toBe(LAPSE_BACKOFF_CAP_MS);
    expect(lapseBackoffMs(1000, 30_000)).toBe(LAPSE_BACKOFF_CAP_MS);
    expect(lapseBackoffMs(Number.MAX_SAFE_INTEGER, 100)).toBe(LAPSE_BACKOFF_CAP_MS);
  });
  it('never waits less than the interval, even an interval above the cap', () => {
    expect(lapseBackoffMs(0, 500)).toBe(500);
    expect(lapseBackoffMs(3, 3_600_000)).toBe(3_600_000);
  });
});

describe('lapseFailureReason', () => {
  it('maps each failure to a fixed reason', () => {
    expect(lapseFailureReason(unreachable())).toBe('unreachable');
    expect(lapseFailureReason(refuse(AuditErrorCode.SERVICE_BUSY, 'x'))).toBe('busy');
    expect(lapseFailureReason(refuse(AuditErrorCode.SERVICE_TLS_FAILED, 'x'))).toBe('tls_failed');
    expect(lapseFailureReason(refuse(AuditErrorCode.APPLY_FAILED, 'x'))).toBe('apply_failed');
    expect(lapseFailureReason(new TenancyError(TenancyErrorCode.CREDENTIALS_UNREADABLE, 'x'))).toBe('credentials_unreadable');
    expect(lapseFailureReason(new Error('connect ECONNREFUSED postgres://avnadmin:secret@h/db'))).toBe('error');
    expect(lapseFailureReason(refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, 'x'))).toBe('error');
  });
  it('every reason has a fixed sentence without a URL', () => {
    for (const r of LAPSE_FAILURE_REASONS) {
      expect(LAPSE_FAILURE_TEXT[r]).toMatch(/^[a-z].+[a-z)]$/);
      expect(LAPSE_FAILURE_TEXT[r]).not.toMatch(/:\/\//);
    }
  });
});
