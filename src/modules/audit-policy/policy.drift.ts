/**
 * Drift: where what a scope holds on the server now differs from what the gateway left there. Pure: no I/O.
 * Compared as typed values (settings.compare.ts), so the order, duplicates and spellings of one value are not
 * drift; text (canonical pgaudit form) is made only for what is shown. The module README, "Drift", has the rules.
 */
import type { Scope } from './apply.plan';
import { AuditSettingsValue, changedGucs, formatGuc, PgauditGuc } from './settings/settings.model';

/** One setting whose live value is not the applied one, both in pgaudit's canonical text (null = absent). */
export interface SettingDrift {
  setting: PgauditGuc;
  applied: string | null;
  live: string | null;
}

/** A policy's drift as read now: `checked` false (and no drift) when the server could not be read. */
export interface DriftReport {
  checked: boolean;
  drift: SettingDrift[];
}

export const NOT_CHECKED: DriftReport = { checked: false, drift: [] };

/** What a policy row says the gateway left on its scope (the fields drift needs). */
export interface AppliedPolicy { enabled: boolean; settings: AuditSettingsValue | null }

/**
 * The settings the gateway left on a scope:
 * - an enabled policy: the settings of its last revision (what was read back after it, or adopted);
 * - a disabled policy of the service: what disable read back (pgaudit's defaults);
 * - a disabled policy of a narrower scope (a database): nothing of its own, so whatever it inherits now
 *   (`inherited`: the service's values). A value the scope holds itself again is drift.
 * null when the policy has never been applied (no settings).
 */
export function appliedSettings(policy: AppliedPolicy, scope: Scope, inherited: AuditSettingsValue): AuditSettingsValue | null {
  if (!policy.settings) return null;
  if (policy.enabled || scope.kind === 'service') return policy.settings;
  return inherited;
}

/** The settings that drifted, in PGAUDIT_GUCS order (the order of SQL statements and history changes). */
export function driftedGucs(applied: AuditSettingsValue, live: AuditSettingsValue): PgauditGuc[] {
  return changedGucs(applied, live);
}

/** Per drifted setting, the applied and live values in canonical text. */
export function settingsDrift(applied: AuditSettingsValue, live: AuditSettingsValue): SettingDrift[] {
  return driftedGucs(applied, live).map((setting) => ({ setting, applied: formatGuc(applied, setting), live: formatGuc(live, setting) }));
}

/** A policy's drift given what its scope holds now (`live`) and what it would inherit holding nothing (`inherited`). */
export function policyDrift(policy: AppliedPolicy, scope: Scope, live: AuditSettingsValue, inherited: AuditSettingsValue): DriftReport {
  const applied = appliedSettings(policy, scope, inherited);
  return { checked: true, drift: applied ? settingsDrift(applied, live) : [] };
}

/** What the drift log line may carry: setting names only, at most `max`. */
export function driftSummary(drift: readonly SettingDrift[], max = 12): string[] {
  return drift.slice(0, max).map((d) => d.setting);
}
