/**
 * Where object audit meets the settings policy of the same database (pure): while objects are configured there,
 * pgaudit.role must stay the auditor role, or object audit stops logging. Enable/configure without an explicit
 * `role` keep it; disable leaves it set (RESETs every other pgaudit setting).
 */
import { planSet, Scope } from '../apply.plan';
import type { AuditSettingsPatch, AuditSettingsValue, PgauditGuc } from '../settings/settings.model';
import { activeAuditorRole } from './object-audit.plan';

const ROLE_GUC: PgauditGuc = 'pgaudit.role';

/** The settings an enable/configure of a database scope asks for, with pgaudit.role kept at the auditor unless `role` is given. */
export function keepAuditorRole(scope: Scope, patch: AuditSettingsPatch | null | undefined, desired: AuditSettingsValue,
  storedObjects: unknown): AuditSettingsValue {
  const auditor = scope.kind === 'service' ? null : activeAuditorRole(storedObjects);
  if (!auditor || patch?.role !== undefined) return desired;
  return { ...desired, role: auditor };
}

/**
 * A disable of a database scope with object audit configured: the GUCs to RESET (all but pgaudit.role), the SET
 * that puts pgaudit.role back to the auditor if the database holds another value, and what must be read back.
 * null: no object audit there, disable as usual.
 */
export function disableKeepingAuditor(scope: Scope, explicit: ReadonlyMap<string, string>, expected: AuditSettingsValue,
  serverGucs: ReadonlySet<string>, storedObjects: unknown): { resetGucs: ReadonlySet<string>; keep: string[]; expected: AuditSettingsValue } | null {
  const auditor = scope.kind === 'service' ? null : activeAuditorRole(storedObjects);
  if (!auditor) return null;
  const withAuditor = { ...expected, role: auditor };
  return {
    resetGucs: new Set([...serverGucs].filter((g) => g !== ROLE_GUC)),
    keep: planSet(scope, explicit, withAuditor, [ROLE_GUC], serverGucs),
    expected: withAuditor,
  };
}
