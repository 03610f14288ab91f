/**
 * Comparing settings: as typed values, the way pgaudit reads them (class lists regardless of order
 * and duplicates, role '' = null). Text is made only for what the history stores (diffSettings'
 * from/to), never to compare.
 */
import {
  AuditSettingsValue, PGAUDIT_GUCS, PgauditGuc, Setting, SETTINGS_OF_GUC,
} from './settings.descriptors';
import { formatGuc } from './settings.format';
import { sameClassList } from './settings.log-classes';
import { parseGucValue } from './settings.parse';

/** Whether a and b hold the same value for d's field. */
export function sameSetting(d: Setting, a: AuditSettingsValue, b: AuditSettingsValue): boolean {
  switch (d.kind) {
    case 'classList':
      return sameClassList(a[d.field], b[d.field]);
    case 'role':
      return (a[d.field] ?? '') === (b[d.field] ?? '');
    case 'bool':
    case 'sessionLog':
    case 'level':
    case 'bytes':
      return a[d.field] === b[d.field];
  }
}

function sameGuc(guc: PgauditGuc, a: AuditSettingsValue, b: AuditSettingsValue): boolean {
  return (SETTINGS_OF_GUC.get(guc) ?? []).every((d) => sameSetting(d, a, b));
}

/** The GUCs whose value differs between a and b, in PGAUDIT_GUCS order. */
export function changedGucs(a: AuditSettingsValue, b: AuditSettingsValue): PgauditGuc[] {
  return PGAUDIT_GUCS.filter((g) => !sameGuc(g, a, b));
}

/** Whether a server's text for `guc` means what `s` holds there (false if the text does not parse). */
export function gucTextMatches(guc: PgauditGuc, text: string, s: AuditSettingsValue): boolean {
  const parsed = parseGucValue(guc, text);
  return parsed.ok && sameGuc(guc, { ...s, ...parsed.value }, s);
}

/** One changed GUC as the history stores it: canonical texts, null = absent (log_parameter_max_size; a session-logging switch not set). */
export interface SettingChange {
  setting: PgauditGuc;
  from: string | null;
  to: string | null;
}

/** Per-GUC differences, in PGAUDIT_GUCS order: { setting: 'pgaudit.log', from: 'ddl', to: 'ddl,write' }. */
export function diffSettings(before: AuditSettingsValue, after: AuditSettingsValue): SettingChange[] {
  return changedGucs(before, after).map((setting) => ({ setting, from: formatGuc(before, setting), to: formatGuc(after, setting) }));
}
