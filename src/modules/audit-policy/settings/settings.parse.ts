/**
 * Text -> model, AS POSTGRESQL/PGAUDIT READS IT (pgaudit.c check_pgaudit_log /
 * check_pgaudit_log_level, PostgreSQL's parse_bool). Where PostgreSQL versions differ, or where
 * PostgreSQL's reading would surprise (octal integers), the parser is STRICTER than the server,
 * never looser: whatever it accepts, every server reads the same way. One parser per kind of setting.
 */
import {
  AuditLogLevel, AuditSettingsValue, cloneSettings, GucParseResult, isAuditLogLevel, isPgauditGuc, LOG_PARAMETER_MAX_SIZE_MAX,
  PGAUDIT_DEFAULTS, PGAUDIT_GUCS, PgauditGuc, ROLE_NAME_MAX_BYTES, SETTING_LIST, settingOfGuc,
} from './settings.descriptors';
import { parseLogClasses } from './settings.log-classes';
import { asciiLower, asciiUpper, echo, echoUnknown, utf8Bytes } from './settings.text';

/** PostgreSQL's parse_bool: on/off/true/false/yes/no/1/0 and unique prefixes, ASCII case-insensitive. */
export function parsePgBoolean(text: string): boolean | null {
  if (text.length === 0) return null;
  const v = asciiLower(text);
  switch (v[0]) {
    case 't':
      return 'true'.startsWith(v) ? true : null;
    case 'f':
      return 'false'.startsWith(v) ? false : null;
    case 'y':
      return 'yes'.startsWith(v) ? true : null;
    case 'n':
      return 'no'.startsWith(v) ? false : null;
    case 'o':
      // 'o' alone is ambiguous (on/off): PostgreSQL compares at least 2 characters.
      if (v === 'on') return true;
      if (v.length >= 2 && 'off'.startsWith(v)) return false;
      return null;
    case '1':
      return v.length === 1 ? true : null;
    case '0':
      return v.length === 1 ? false : null;
    default:
      return null;
  }
}

/** pgaudit's check_pgaudit_log_level: exact, ASCII case-insensitive; 'debug' means DEBUG2. */
function parseLogLevel(text: string): AuditLogLevel | null {
  const up = asciiUpper(text);
  if (up === 'DEBUG') return 'DEBUG2';
  return isAuditLogLevel(up) ? up : null;
}

/**
 * Plain decimal 0..1073741823. Stricter than PostgreSQL on purpose: it reads '010' as octal 8 and
 * '0x10' as 16 and accepts spaces and units, so only unambiguous canonical decimals are accepted
 * (no sign, no leading zeros, no spaces, no fraction, no unit).
 */
function parseMaxSize(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text)) return null;
  const n = Number(text);
  return n <= LOG_PARAMETER_MAX_SIZE_MAX ? n : null;
}

/**
 * PostgreSQL 18's log_connections may also be a list of aspects (receipt, authentication, authorization,
 * setup_durations, all; '' = none): it logs what the LOGIN events are made of ("connection authorized") when the
 * list has authorization or all. null: not such a list.
 */
function connectionAspects(text: string): boolean | null {
  const aspects = text.split(',').map((a) => asciiLower(a.trim())).filter((a) => a !== '');
  if (!aspects.every((a) => ['receipt', 'authentication', 'authorization', 'setup_durations', 'all'].includes(a))) return null;
  return aspects.includes('authorization') || aspects.includes('all');
}

/** Why a role name can never be a PostgreSQL role (null: it can). */
export function roleProblem(guc: PgauditGuc, role: string): string | null {
  if (role.includes('\0')) return `invalid value for ${guc}: a role name cannot contain a NUL character (${echo(role)})`;
  const bytes = utf8Bytes(role);
  if (bytes > ROLE_NAME_MAX_BYTES) {
    return `invalid value for ${guc}: role name ${echo(role)} is ${bytes} bytes in UTF-8, PostgreSQL role names have at most ${ROLE_NAME_MAX_BYTES}`;
  }
  return null;
}

/** Parse one GUC's text AS POSTGRESQL/PGAUDIT WOULD ACCEPT IT, returning the model part or a problem. */
export function parseGucValue(guc: PgauditGuc, text: string): GucParseResult {
  if (!isPgauditGuc(guc)) return { ok: false, message: `unknown pgaudit setting ${echoUnknown(guc)}` };
  if (typeof text !== 'string') return { ok: false, message: `invalid value for ${guc}: expected text, got ${echoUnknown(text)}` };
  const d = settingOfGuc(guc);
  switch (d.kind) {
    case 'classList':
      return parseLogClasses(text);
    case 'sessionLog': {
      const b = parsePgBoolean(text) ?? connectionAspects(text);
      if (b === null) return { ok: false, message: `invalid value for ${guc}: ${echo(text)} is not a boolean (use on or off)` };
      return { ok: true, value: { [d.field]: b } };
    }
    case 'bool': {
      const b = parsePgBoolean(text);
      if (b === null) {
        return {
          ok: false,
          message: `invalid value for ${guc}: ${echo(text)} is not a boolean (use on/off, true/false, yes/no, 1/0 or a unique prefix, without spaces)`,
        };
      }
      return { ok: true, value: { [d.field]: b } };
    }
    case 'level': {
      const level = parseLogLevel(text);
      if (level === null) {
        return {
          ok: false,
          message: `invalid value for ${guc}: ${echo(text)} (allowed: debug, debug1..debug5, info, notice, warning, log; error, fatal and panic are refused)`,
        };
      }
      return { ok: true, value: { [d.field]: level } };
    }
    case 'bytes': {
      const n = parseMaxSize(text);
      if (n === null) {
        return {
          ok: false,
          message: `invalid value for ${guc}: ${echo(text)} (expected a plain decimal number of bytes from 0 to ${LOG_PARAMETER_MAX_SIZE_MAX}, 0 = no limit)`,
        };
      }
      return { ok: true, value: { [d.field]: n } };
    }
    case 'role': {
      const problem = roleProblem(guc, text);
      if (problem !== null) return { ok: false, message: problem };
      return { ok: true, value: { [d.field]: text === '' ? null : text } };
    }
  }
}

/** The model of a server that lists none of the GUCs: each default, null for a 'bytes' setting (absent). */
function absentSettings(): AuditSettingsValue {
  const out = cloneSettings(PGAUDIT_DEFAULTS);
  for (const d of SETTING_LIST) if (d.kind === 'bytes') out[d.field] = null;
  return out;
}

/**
 * Build the whole model from the server's text values (e.g. pg_settings.setting, or a per-database /
 * per-role setconfig entry). Missing GUCs -> pgaudit default, except log_parameter_max_size -> null
 * when absent. Keys that are not pgaudit GUCs are ignored.
 *
 * Throws a descriptive Error if a present value cannot be parsed (the server would never hold one).
 * One exception: pgaudit.role has no check hook, so the server may hold a name longer than 63 bytes
 * (which can never match a role); it is returned as is and validateSettings reports it.
 */
export function settingsFromGucs(values: ReadonlyMap<string, string>): AuditSettingsValue {
  const out = absentSettings();
  for (const guc of PGAUDIT_GUCS) {
    const text = values.get(guc);
    if (text === undefined) continue;
    const d = settingOfGuc(guc);
    if (d.kind === 'role' && typeof text === 'string' && !text.includes('\0')) {
      out[d.field] = text === '' ? null : text;
      continue;
    }
    const r = parseGucValue(guc, text);
    if (!r.ok) throw new Error(`cannot read the server's ${guc}: ${r.message}`);
    Object.assign(out, r.value);
  }
  return out;
}
