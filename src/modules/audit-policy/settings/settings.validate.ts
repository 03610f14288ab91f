/**
 * Validation of a model against pgaudit's rules and against what the live server's pgaudit really
 * has (its pg_settings GUCs and server_version_num). One check per kind of setting.
 */
import {
  AUDIT_LOG_LEVELS, AuditSettingsValue, isAuditLogLevel, LOG_PARAMETER_MAX_SIZE_MAX, PGAUDIT_GUCS, PgauditGuc, ServerCapabilities,
  SettingKind, SettingProblem, settingOfGuc, SettingsField,
} from './settings.descriptors';
import { onOff } from './settings.format';
import { classListProblems } from './settings.log-classes';
import { normalizeSettings } from './settings.merge';
import { roleProblem } from './settings.parse';
import { echo, echoUnknown } from './settings.text';

/** Problems come grouped by kind, in this order (pgaudit.log first), and in table order within a kind. */
const KIND_RANK = { classList: 0, bool: 1, level: 2, bytes: 3, role: 4, sessionLog: 5 } as const satisfies Record<SettingKind, number>;
const GUCS_IN_CHECK_ORDER: readonly PgauditGuc[] = [...PGAUDIT_GUCS].sort(
  (a, b) => KIND_RANK[settingOfGuc(a).kind] - KIND_RANK[settingOfGuc(b).kind],
);

/**
 * Normalise (dedupe + canonical order of log/logExclude) and validate against pgaudit's rules AND
 * the server capabilities. Returns all problems found (empty = valid). Tolerates malformed runtime
 * values (wrong types, unknown enum members) and reports them as INVALID_SETTING.
 *
 * Whether 'pgaudit.log' itself is in caps.gucs is not checked here (the caller reports
 * PGAUDIT_UNAVAILABLE).
 */
export function validateSettings(s: AuditSettingsValue, caps: ServerCapabilities): SettingProblem[] {
  const n = normalizeSettings(s);
  const problems: SettingProblem[] = [];
  const invalid = (field: SettingsField, message: string): void => {
    problems.push({ code: 'INVALID_SETTING', field, message });
  };
  const unsupported = (field: SettingsField, message: string): void => {
    problems.push({ code: 'SETTING_UNSUPPORTED', field, message });
  };
  const pgMajor = Math.floor(caps.serverVersionNum / 10000);

  for (const guc of GUCS_IN_CHECK_ORDER) {
    const d = settingOfGuc(guc);
    const has = caps.gucs.has(guc);
    switch (d.kind) {
      case 'classList':
        problems.push(...classListProblems(n, caps));
        break;
      case 'bool': {
        const v: unknown = n[d.field];
        if (typeof v !== 'boolean') {
          invalid(d.field, `invalid value for ${guc}: expected true or false, got ${echoUnknown(v)}`);
        } else if (!has && v !== d.default) {
          unsupported(
            d.field,
            `${guc} does not exist in this server's pgaudit (PostgreSQL ${pgMajor}); it cannot be set to ${onOff(v)} (only its default ${onOff(d.default)} is possible)`,
          );
        }
        break;
      }
      case 'level': {
        const v: unknown = n[d.field];
        if (!isAuditLogLevel(v)) {
          invalid(d.field, `invalid value for ${guc}: ${echoUnknown(v)} (allowed: ${AUDIT_LOG_LEVELS.join(', ')})`);
        } else if (!has && v !== d.default) {
          unsupported(d.field, `${guc} does not exist in this server's pgaudit; it cannot be set to ${v.toLowerCase()}`);
        }
        break;
      }
      case 'bytes': {
        const v: unknown = n[d.field];
        if (v === null) break;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LOG_PARAMETER_MAX_SIZE_MAX) {
          invalid(
            d.field,
            `invalid value for ${guc}: ${echoUnknown(v)} (expected a whole number of bytes from 0 to ${LOG_PARAMETER_MAX_SIZE_MAX}, 0 = no limit)`,
          );
        }
        if (!has) {
          unsupported(
            d.field,
            `${guc} does not exist in this server's pgaudit (it needs pgaudit ${d.since.pgaudit} / PostgreSQL ${d.since.postgres}+; this server is PostgreSQL ${pgMajor}); leave ${d.field} unset (null), got ${echoUnknown(v)}`,
          );
        }
        break;
      }
      case 'sessionLog': {
        const v: unknown = n[d.field];
        if (typeof v !== 'boolean') invalid(d.field, `invalid value for ${guc}: expected true or false, got ${echoUnknown(v)}`);
        break;
      }
      case 'role': {
        const v: unknown = n[d.field];
        if (v === null) break;
        if (typeof v !== 'string') {
          invalid(d.field, `invalid value for ${guc}: expected a role name or null, got ${echoUnknown(v)}`);
          break;
        }
        const p = roleProblem(guc, v);
        if (p !== null) invalid(d.field, p);
        if (!has) unsupported(d.field, `${guc} does not exist in this server's pgaudit; it cannot be set to ${echo(v)}`);
        break;
      }
    }
  }
  return problems;
}
