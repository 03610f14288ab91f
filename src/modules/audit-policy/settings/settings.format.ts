/**
 * Model -> the canonical text PostgreSQL gets. Only for SQL statements and for the texts the
 * history stores and shows (revision changes, read-back messages): settings are COMPARED as typed
 * values (settings.compare.ts), never as text.
 */
import { AuditSettingsValue, PGAUDIT_GUCS, PgauditGuc, settingOfGuc } from './settings.descriptors';
import { formatLogClasses } from './settings.log-classes';

export const onOff = (b: boolean): string => (b ? 'on' : 'off');

/**
 * Canonical text of one GUC: log as 'read,write,-misc' lower-case ('none' when both lists empty),
 * booleans 'on'/'off', level lower-case, size decimal, role as-is ('' for null).
 * null for a null log_parameter_max_size (the server has no such GUC) and for a session-logging switch the policy does
 * not set (false: no ALTER SYSTEM entry). Not SQL-quoted: use quoteLiteral.
 */
export function formatGuc(s: AuditSettingsValue, guc: PgauditGuc): string | null {
  const d = settingOfGuc(guc);
  switch (d.kind) {
    case 'classList':
      return formatLogClasses(s.log, s.logExclude);
    case 'bool':
      return onOff(s[d.field]);
    case 'sessionLog':
      return s[d.field] ? 'on' : null;
    case 'level':
      return s[d.field].toLowerCase();
    case 'bytes': {
      const n = s[d.field];
      return n === null ? null : String(n);
    }
    case 'role':
      return s[d.field] ?? '';
  }
}

/**
 * formatGuc for every GUC, omitting log_parameter_max_size when null. Map iteration order =
 * PGAUDIT_GUCS order.
 */
export function formatGucs(s: AuditSettingsValue): Map<PgauditGuc, string> {
  const m = new Map<PgauditGuc, string>();
  for (const guc of PGAUDIT_GUCS) {
    const text = formatGuc(s, guc);
    if (text !== null) m.set(guc, text);
  }
  return m;
}
