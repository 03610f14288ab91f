/**
 * The pgaudit settings model: pure, no I/O.
 *
 * It converts between the GraphQL-facing model (`AuditSettingsValue`) and the text values PostgreSQL
 * holds for the `pgaudit.*` GUCs, and validates a model against pgaudit's rules and against what the
 * live server's pgaudit actually has (see ../../../../../shared/reference/pgaudit.md).
 *
 * Parsing follows PostgreSQL/pgaudit exactly where it matters (pgaudit.c check_pgaudit_log /
 * check_pgaudit_log_level, PostgreSQL's parse_bool and SplitIdentifierString). Where PostgreSQL
 * versions differ, or where PostgreSQL's reading would surprise (octal integers), the parser is
 * STRICTER than the server, never looser: whatever it accepts, every server reads the same way.
 */

export const AUDIT_LOG_CLASSES = ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC', 'MISC_SET', 'ALL'] as const;
export type AuditLogClass = (typeof AUDIT_LOG_CLASSES)[number];
export const AUDIT_LOG_LEVELS = ['DEBUG1', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'DEBUG5', 'INFO', 'NOTICE', 'WARNING', 'LOG'] as const;
export type AuditLogLevel = (typeof AUDIT_LOG_LEVELS)[number];

/** The full pgaudit configuration of one scope, in model form. */
export interface AuditSettingsValue {
  /** Included classes, canonical order = AUDIT_LOG_CLASSES order, no duplicates. */
  log: AuditLogClass[];
  /** '-class' exclusions, same ordering rule. */
  logExclude: AuditLogClass[];
  logCatalog: boolean;
  logClient: boolean;
  logLevel: AuditLogLevel;
  logParameter: boolean;
  /** null = the server's pgaudit has no such setting. */
  logParameterMaxSize: number | null;
  logRelation: boolean;
  logRows: boolean;
  logStatement: boolean;
  logStatementOnce: boolean;
  /** null = '' (no object-audit role). */
  role: string | null;
}
/** From a mutation input; undefined = absent. */
export type AuditSettingsPatch = Partial<AuditSettingsValue>;

/** The GUCs, in a fixed order. */
export const PGAUDIT_GUCS = [
  'pgaudit.log',
  'pgaudit.log_catalog',
  'pgaudit.log_client',
  'pgaudit.log_level',
  'pgaudit.log_parameter',
  'pgaudit.log_parameter_max_size',
  'pgaudit.log_relation',
  'pgaudit.log_rows',
  'pgaudit.log_statement',
  'pgaudit.log_statement_once',
  'pgaudit.role',
] as const;
export type PgauditGuc = (typeof PGAUDIT_GUCS)[number];

/** The model keys, in PGAUDIT_GUCS order (log and logExclude share pgaudit.log). */
export const SETTINGS_FIELDS = [
  'log',
  'logExclude',
  'logCatalog',
  'logClient',
  'logLevel',
  'logParameter',
  'logParameterMaxSize',
  'logRelation',
  'logRows',
  'logStatement',
  'logStatementOnce',
  'role',
] as const satisfies readonly (keyof AuditSettingsValue)[];
export type SettingsField = (typeof SETTINGS_FIELDS)[number];

/** Which GUC holds each model key. */
export const FIELD_GUC = {
  log: 'pgaudit.log',
  logExclude: 'pgaudit.log',
  logCatalog: 'pgaudit.log_catalog',
  logClient: 'pgaudit.log_client',
  logLevel: 'pgaudit.log_level',
  logParameter: 'pgaudit.log_parameter',
  logParameterMaxSize: 'pgaudit.log_parameter_max_size',
  logRelation: 'pgaudit.log_relation',
  logRows: 'pgaudit.log_rows',
  logStatement: 'pgaudit.log_statement',
  logStatementOnce: 'pgaudit.log_statement_once',
  role: 'pgaudit.role',
} as const satisfies Record<keyof AuditSettingsValue, PgauditGuc>;

/** pgaudit.log_parameter_max_size upper bound: (1 << 30) - 1 in pgaudit.c. */
export const LOG_PARAMETER_MAX_SIZE_MAX = 1073741823;
/** PostgreSQL identifier limit (NAMEDATALEN - 1), in UTF-8 bytes. */
export const ROLE_NAME_MAX_BYTES = 63;
/** MISC_SET exists from pgaudit 1.4, which is PostgreSQL 12. */
export const MISC_SET_MIN_SERVER_VERSION_NUM = 120000;
/** Messages never quote more than this many characters of caller/server text. */
export const MAX_ECHO_CHARS = 100;

const BOOLEAN_FIELDS = [
  'logCatalog',
  'logClient',
  'logParameter',
  'logRelation',
  'logRows',
  'logStatement',
  'logStatementOnce',
] as const satisfies readonly (keyof AuditSettingsValue)[];
type BooleanField = (typeof BOOLEAN_FIELDS)[number];

/** pgaudit's own defaults (boot values). logParameterMaxSize 0. */
/** Freeze a settings constant, its lists included, so shared constants cannot be mutated by accident. */
function freezeSettings(s: AuditSettingsValue): AuditSettingsValue {
  Object.freeze(s.log);
  Object.freeze(s.logExclude);
  return Object.freeze(s);
}

export const PGAUDIT_DEFAULTS: AuditSettingsValue = freezeSettings({
  log: [],
  logExclude: [],
  logCatalog: true,
  logClient: false,
  logLevel: 'LOG',
  logParameter: false,
  logParameterMaxSize: 0,
  logRelation: false,
  logRows: false,
  logStatement: true,
  logStatementOnce: false,
  role: null,
});

/**
 * What `enable` applies when the caller gives no settings.
 *
 * Why: a compliance baseline. DDL and ROLE record every schema and privilege change (who created,
 * altered, dropped, granted, revoked), WRITE records every data modification. READ is left out
 * because it multiplies log volume on most workloads. logCatalog is off so that the catalog queries
 * of psql, pgAdmin, ORMs and drivers do not drown the audit trail in noise. logRelation is on so each
 * touched relation gets its own line, which makes filtering by table possible. logParameter stays
 * off because bound parameter values may hold secrets and personal data. Everything else is
 * pgaudit's default.
 *
 * `log` is in canonical order: WRITE, ROLE, DDL (= "DDL, ROLE, WRITE").
 * logParameterMaxSize is pgaudit's default 0, which a server without that GUC (PG15 and older)
 * reports as SETTING_UNSUPPORTED: use `predefinedSettingsFor(caps)` to get the value to apply.
 */
export const PREDEFINED_SETTINGS: AuditSettingsValue = freezeSettings({
  ...PGAUDIT_DEFAULTS,
  log: ['WRITE', 'ROLE', 'DDL'],
  logExclude: [],
  logCatalog: false,
  logRelation: true,
  logParameter: false,
});

/** What the live server's pgaudit has: the GUC names present in its pg_settings and its server_version_num. */
export interface ServerCapabilities {
  serverVersionNum: number;
  gucs: ReadonlySet<string>;
}

export interface SettingProblem {
  code: 'INVALID_SETTING' | 'SETTING_UNSUPPORTED';
  message: string;
  /** The model key, e.g. 'logParameterMaxSize'. */
  field: string;
}

export type GucParseResult = { ok: true; value: Partial<AuditSettingsValue> } | { ok: false; message: string };

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** ASCII-only lower-casing, like PostgreSQL's pg_strcasecmp (JS toLowerCase maps e.g. 'İ', 'K'). */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** ASCII-only upper-casing (JS toUpperCase maps e.g. 'ı' -> 'I' and 'ſ' -> 'S', PostgreSQL does not). */
function asciiUpper(s: string): string {
  return s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Quote at most MAX_ECHO_CHARS characters (code points) of untrusted text, control characters escaped. */
export function echo(text: string): string {
  const chars = Array.from(text);
  if (chars.length <= MAX_ECHO_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(chars.slice(0, MAX_ECHO_CHARS).join(''))}… (${chars.length} characters)`;
}

/** Show a runtime value of unknown type safely in a message. */
function echoUnknown(v: unknown): string {
  if (typeof v === 'string') return echo(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return echo(String(v));
  if (Array.isArray(v)) return `a list`;
  return `a value of type ${typeof v}`;
}

function isAuditLogClass(v: unknown): v is AuditLogClass {
  return typeof v === 'string' && (AUDIT_LOG_CLASSES as readonly string[]).includes(v);
}

function isAuditLogLevel(v: unknown): v is AuditLogLevel {
  return typeof v === 'string' && (AUDIT_LOG_LEVELS as readonly string[]).includes(v);
}

function isPgauditGuc(v: unknown): v is PgauditGuc {
  return typeof v === 'string' && (PGAUDIT_GUCS as readonly string[]).includes(v);
}

/** Dedupe, known classes in AUDIT_LOG_CLASSES order, then any unknown runtime values in input order. */
function normalizeClassList(list: readonly AuditLogClass[]): AuditLogClass[] {
  const seen = new Set<string>(list);
  const known = AUDIT_LOG_CLASSES.filter((c) => seen.has(c));
  const unknown: AuditLogClass[] = [];
  for (const c of list) if (!isAuditLogClass(c) && !unknown.includes(c)) unknown.push(c);
  return [...known, ...unknown];
}

function cloneSettings(s: AuditSettingsValue): AuditSettingsValue {
  return { ...s, log: [...s.log], logExclude: [...s.logExclude] };
}

// ---------------------------------------------------------------------------------------------
// pgaudit.log class bitmaps (pgaudit.c): MISC covers MISC_SET, ALL covers every bit (also future ones)
// ---------------------------------------------------------------------------------------------

const BIT_READ = 1;
const BIT_WRITE = 2;
const BIT_FUNCTION = 4;
const BIT_ROLE = 8;
const BIT_DDL = 16;
const BIT_MISC = 32;
const BIT_MISC_SET = 64;
/** Stands for every bit only ALL sets (pgaudit uses 0xFFFFFFFF). */
const BIT_OTHER = 128;
const BITS_ALL = 255;

const CLASS_BITS: Record<AuditLogClass, number> = {
  READ: BIT_READ,
  WRITE: BIT_WRITE,
  FUNCTION: BIT_FUNCTION,
  ROLE: BIT_ROLE,
  DDL: BIT_DDL,
  MISC: BIT_MISC | BIT_MISC_SET,
  MISC_SET: BIT_MISC_SET,
  ALL: BITS_ALL,
};

const SINGLE_BIT_CLASSES = ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL'] as const satisfies readonly AuditLogClass[];

function bitsOf(list: readonly AuditLogClass[]): number {
  let b = 0;
  for (const c of list) b |= CLASS_BITS[c];
  return b;
}

/** The effective bitmap of a model: included classes minus excluded ones (how formatGucs' text reads). */
function effectiveBits(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): number {
  return bitsOf(log) & ~bitsOf(logExclude) & BITS_ALL;
}

/** The simplest valid model with exactly the effective bitmap `e`. */
function modelFromBits(e: number): { log: AuditLogClass[]; logExclude: AuditLogClass[] } {
  if (e === 0) return { log: [], logExclude: [] };
  if (e & BIT_OTHER) {
    const missing = BITS_ALL & ~e;
    const misc = missing & (BIT_MISC | BIT_MISC_SET);
    // "everything but MISC while keeping MISC_SET" cannot be written as ALL minus classes; fall through.
    if (misc !== BIT_MISC) {
      const logExclude: AuditLogClass[] = SINGLE_BIT_CLASSES.filter((c) => missing & CLASS_BITS[c]);
      if (misc === (BIT_MISC | BIT_MISC_SET)) logExclude.push('MISC');
      else if (misc === BIT_MISC_SET) logExclude.push('MISC_SET');
      return { log: ['ALL'], logExclude: normalizeClassList(logExclude) };
    }
  }
  const log: AuditLogClass[] = SINGLE_BIT_CLASSES.filter((c) => e & CLASS_BITS[c]);
  const logExclude: AuditLogClass[] = [];
  const misc = e & (BIT_MISC | BIT_MISC_SET);
  if (misc === (BIT_MISC | BIT_MISC_SET)) log.push('MISC');
  else if (misc === BIT_MISC_SET) log.push('MISC_SET');
  else if (misc === BIT_MISC) {
    log.push('MISC');
    logExclude.push('MISC_SET');
  }
  return { log: normalizeClassList(log), logExclude };
}

// ---------------------------------------------------------------------------------------------
// Parsing (text -> model), as PostgreSQL/pgaudit reads it
// ---------------------------------------------------------------------------------------------

/**
 * PostgreSQL's scanner_isspace. Deliberately without '\v': PostgreSQL 16+ added it, older majors
 * reject it, and we must never accept what some server would refuse.
 */
function isPgSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f';
}

/** PostgreSQL's SplitIdentifierString(rawstring, ','): null on a syntax error. */
function splitIdentifierList(raw: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (isPgSpace(raw[i])) i++;
  if (i >= raw.length) return out; // empty (or all-space) list is allowed
  for (;;) {
    let name: string;
    if (raw[i] === '"') {
      // Quoted name: "" collapses to ", no downcasing.
      let j = i + 1;
      name = '';
      for (;;) {
        const end = raw.indexOf('"', j);
        if (end < 0) return null; // mismatched quotes
        name += raw.slice(j, end);
        if (raw[end + 1] === '"') {
          name += '"';
          j = end + 2;
          continue;
        }
        i = end + 1;
        break;
      }
    } else {
      const start = i;
      while (i < raw.length && raw[i] !== ',' && !isPgSpace(raw[i])) i++;
      if (i === start) return null; // empty unquoted name
      name = asciiLower(raw.slice(start, i));
    }
    while (isPgSpace(raw[i])) i++;
    out.push(name);
    if (raw[i] === ',') {
      i++;
      while (isPgSpace(raw[i])) i++;
      continue;
    }
    if (i >= raw.length) return out;
    return null; // anything else after a name is a syntax error (e.g. 'read write', 'read;write')
  }
}

const LOG_CLASS_HELP = 'expected a comma-separated list of NONE, ALL, READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET, each optionally prefixed with - to exclude it';

/**
 * pgaudit.log text -> model.
 *
 * pgaudit applies the items left to right on a bitmap (`-x` clears, `x` sets), so order matters and
 * the model (included classes, then exclusions) cannot keep the text's shape in every case. The
 * result is:
 *  - the items as written (includes -> log, `-x` -> logExclude) when that model means exactly what
 *    the text means and passes validateSettings' pgaudit.log checks (so every valid model round-trips
 *    through formatGucs);
 *  - otherwise the simplest valid model with the same effective classes (e.g. 'read,-read' -> none,
 *    '-misc' -> none, '-all,read' -> [READ], 'all,-read,read' -> [ALL]).
 */
function parseLogClasses(text: string): GucParseResult {
  const items = splitIdentifierList(text);
  if (items === null) {
    return { ok: false, message: `invalid value for pgaudit.log: ${echo(text)} is not a valid list (${LOG_CLASS_HELP})` };
  }
  const log: AuditLogClass[] = [];
  const logExclude: AuditLogClass[] = [];
  let bits = 0;
  for (const item of items) {
    const subtract = item.startsWith('-');
    const name = asciiUpper(subtract ? item.slice(1) : item);
    if (name === 'NONE') continue; // pgaudit: class 0, adding or removing it changes nothing
    if (!isAuditLogClass(name)) {
      return { ok: false, message: `invalid value for pgaudit.log: unknown class ${echo(item)} (${LOG_CLASS_HELP})` };
    }
    if (subtract) {
      logExclude.push(name);
      bits &= ~CLASS_BITS[name];
    } else {
      log.push(name);
      bits |= CLASS_BITS[name];
    }
  }
  const direct = { log: normalizeClassList(log), logExclude: normalizeClassList(logExclude) };
  if (effectiveBits(direct.log, direct.logExclude) === bits && logListProblems(direct.log, direct.logExclude).length === 0) {
    return { ok: true, value: direct };
  }
  return { ok: true, value: modelFromBits(bits) };
}

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

function roleProblem(role: string): string | null {
  if (role.includes('\0')) return `invalid value for pgaudit.role: a role name cannot contain a NUL character (${echo(role)})`;
  const bytes = utf8Bytes(role);
  if (bytes > ROLE_NAME_MAX_BYTES) {
    return `invalid value for pgaudit.role: role name ${echo(role)} is ${bytes} bytes in UTF-8, PostgreSQL role names have at most ${ROLE_NAME_MAX_BYTES}`;
  }
  return null;
}

const BOOLEAN_GUC_FIELD: Partial<Record<PgauditGuc, BooleanField>> = {
  'pgaudit.log_catalog': 'logCatalog',
  'pgaudit.log_client': 'logClient',
  'pgaudit.log_parameter': 'logParameter',
  'pgaudit.log_relation': 'logRelation',
  'pgaudit.log_rows': 'logRows',
  'pgaudit.log_statement': 'logStatement',
  'pgaudit.log_statement_once': 'logStatementOnce',
};

/** Parse one GUC's text AS POSTGRESQL/PGAUDIT WOULD ACCEPT IT, returning the model part or a problem. */
export function parseGucValue(guc: PgauditGuc, text: string): GucParseResult {
  if (!isPgauditGuc(guc)) return { ok: false, message: `unknown pgaudit setting ${echoUnknown(guc)}` };
  if (typeof text !== 'string') return { ok: false, message: `invalid value for ${guc}: expected text, got ${echoUnknown(text)}` };
  if (guc === 'pgaudit.log') return parseLogClasses(text);
  const boolField = BOOLEAN_GUC_FIELD[guc];
  if (boolField !== undefined) {
    const b = parsePgBoolean(text);
    if (b === null) {
      return {
        ok: false,
        message: `invalid value for ${guc}: ${echo(text)} is not a boolean (use on/off, true/false, yes/no, 1/0 or a unique prefix, without spaces)`,
      };
    }
    return { ok: true, value: { [boolField]: b } };
  }
  switch (guc) {
    case 'pgaudit.log_level': {
      const level = parseLogLevel(text);
      if (level === null) {
        return {
          ok: false,
          message: `invalid value for pgaudit.log_level: ${echo(text)} (allowed: debug, debug1..debug5, info, notice, warning, log; error, fatal and panic are refused)`,
        };
      }
      return { ok: true, value: { logLevel: level } };
    }
    case 'pgaudit.log_parameter_max_size': {
      const n = parseMaxSize(text);
      if (n === null) {
        return {
          ok: false,
          message: `invalid value for pgaudit.log_parameter_max_size: ${echo(text)} (expected a plain decimal number of bytes from 0 to ${LOG_PARAMETER_MAX_SIZE_MAX}, 0 = no limit)`,
        };
      }
      return { ok: true, value: { logParameterMaxSize: n } };
    }
    case 'pgaudit.role': {
      const problem = roleProblem(text);
      if (problem !== null) return { ok: false, message: problem };
      return { ok: true, value: { role: text === '' ? null : text } };
    }
    default:
      return { ok: false, message: `unknown pgaudit setting ${echo(guc)}` };
  }
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
  const out = cloneSettings({ ...PGAUDIT_DEFAULTS, logParameterMaxSize: null });
  for (const guc of PGAUDIT_GUCS) {
    const text = values.get(guc);
    if (text === undefined) continue;
    if (guc === 'pgaudit.role' && typeof text === 'string' && !text.includes('\0')) {
      out.role = text === '' ? null : text;
      continue;
    }
    const r = parseGucValue(guc, text);
    if (!r.ok) throw new Error(`cannot read the server's ${guc}: ${r.message}`);
    Object.assign(out, r.value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting, merging, normalising, diffing
// ---------------------------------------------------------------------------------------------

/** Canonical pgaudit.log text: 'read,write,-misc' ('none' when both lists are empty). */
export function formatLogClasses(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): string {
  const items = [
    ...normalizeClassList(log).map((c) => c.toLowerCase()),
    ...normalizeClassList(logExclude).map((c) => `-${c.toLowerCase()}`),
  ];
  return items.length === 0 ? 'none' : items.join(',');
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');

/**
 * Canonical text per GUC for SQL: log as 'read,write,-misc' lower-case ('none' when both lists
 * empty), booleans 'on'/'off', level lower-case, size decimal, role as-is ('' for null).
 * Omits log_parameter_max_size when null. Map iteration order = PGAUDIT_GUCS order.
 * The texts are not SQL-quoted: use quoteLiteral.
 */
export function formatGucs(s: AuditSettingsValue): Map<PgauditGuc, string> {
  const m = new Map<PgauditGuc, string>();
  m.set('pgaudit.log', formatLogClasses(s.log, s.logExclude));
  m.set('pgaudit.log_catalog', onOff(s.logCatalog));
  m.set('pgaudit.log_client', onOff(s.logClient));
  m.set('pgaudit.log_level', s.logLevel.toLowerCase());
  m.set('pgaudit.log_parameter', onOff(s.logParameter));
  if (s.logParameterMaxSize !== null) m.set('pgaudit.log_parameter_max_size', String(s.logParameterMaxSize));
  m.set('pgaudit.log_relation', onOff(s.logRelation));
  m.set('pgaudit.log_rows', onOff(s.logRows));
  m.set('pgaudit.log_statement', onOff(s.logStatement));
  m.set('pgaudit.log_statement_once', onOff(s.logStatementOnce));
  m.set('pgaudit.role', s.role ?? '');
  return m;
}

/** base with every defined key of patch applied (no normalisation, no validation; arrays copied). */
export function mergeSettings(base: AuditSettingsValue, patch: AuditSettingsPatch): AuditSettingsValue {
  const r = cloneSettings(base);
  if (patch.log !== undefined) r.log = Array.isArray(patch.log) ? [...patch.log] : patch.log;
  if (patch.logExclude !== undefined) r.logExclude = Array.isArray(patch.logExclude) ? [...patch.logExclude] : patch.logExclude;
  if (patch.logCatalog !== undefined) r.logCatalog = patch.logCatalog;
  if (patch.logClient !== undefined) r.logClient = patch.logClient;
  if (patch.logLevel !== undefined) r.logLevel = patch.logLevel;
  if (patch.logParameter !== undefined) r.logParameter = patch.logParameter;
  if (patch.logParameterMaxSize !== undefined) r.logParameterMaxSize = patch.logParameterMaxSize;
  if (patch.logRelation !== undefined) r.logRelation = patch.logRelation;
  if (patch.logRows !== undefined) r.logRows = patch.logRows;
  if (patch.logStatement !== undefined) r.logStatement = patch.logStatement;
  if (patch.logStatementOnce !== undefined) r.logStatementOnce = patch.logStatementOnce;
  if (patch.role !== undefined) r.role = patch.role;
  return r;
}

/** Dedupe + canonical order of log/logExclude, role '' -> null. Returns a new object. */
export function normalizeSettings(s: AuditSettingsValue): AuditSettingsValue {
  return {
    ...s,
    log: Array.isArray(s.log) ? normalizeClassList(s.log) : s.log,
    logExclude: Array.isArray(s.logExclude) ? normalizeClassList(s.logExclude) : s.logExclude,
    role: s.role === '' ? null : s.role,
  };
}

/** Per-GUC differences in canonical text form, in PGAUDIT_GUCS order: { setting: 'pgaudit.log', from: 'ddl', to: 'ddl,write' }. */
export function diffSettings(
  before: AuditSettingsValue,
  after: AuditSettingsValue,
): { setting: PgauditGuc; from: string | null; to: string | null }[] {
  const a = formatGucs(before);
  const b = formatGucs(after);
  const out: { setting: PgauditGuc; from: string | null; to: string | null }[] = [];
  for (const setting of PGAUDIT_GUCS) {
    const from = a.get(setting) ?? null;
    const to = b.get(setting) ?? null;
    if (from !== to) out.push({ setting, from, to });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** pgaudit.log rules on normalised lists of known classes. */
function logListProblems(log: readonly AuditLogClass[], logExclude: readonly AuditLogClass[]): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const invalid = (message: string): void => {
    problems.push({ code: 'INVALID_SETTING', field: 'logExclude', message });
  };
  if (logExclude.length === 0) return problems;
  const text = formatLogClasses(log, logExclude);
  if (log.length === 0) {
    invalid(
      `pgaudit.log ${echo(text)}: exclusions with no included class log nothing (an exclusion only removes classes from those in log); include at least one class in log, or remove the exclusions`,
    );
    return problems;
  }
  if (logExclude.includes('ALL')) {
    invalid(`pgaudit.log ${echo(text)}: excluding ALL removes every class, so nothing would be logged; remove ALL from logExclude`);
    return problems;
  }
  for (const c of log) {
    if (logExclude.includes(c)) {
      invalid(`pgaudit.log ${echo(text)}: class ${c} is both included and excluded, so it would not be logged; remove it from log or from logExclude`);
    } else if (c === 'MISC_SET' && logExclude.includes('MISC')) {
      invalid(`pgaudit.log ${echo(text)}: class MISC_SET is included but excluded by MISC (MISC covers MISC_SET), so it would not be logged`);
    }
  }
  return problems;
}

function classListShapeProblems(field: 'log' | 'logExclude', list: unknown): SettingProblem[] {
  if (!Array.isArray(list)) {
    return [{ code: 'INVALID_SETTING', field, message: `pgaudit.log: ${field} must be a list of classes, got ${echoUnknown(list)}` }];
  }
  const problems: SettingProblem[] = [];
  for (const c of list) {
    if (!isAuditLogClass(c)) {
      problems.push({
        code: 'INVALID_SETTING',
        field,
        message: `pgaudit.log: unknown class ${echoUnknown(c)} in ${field} (allowed: ${AUDIT_LOG_CLASSES.join(', ')})`,
      });
    }
  }
  return problems;
}

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
  const has = (guc: PgauditGuc): boolean => caps.gucs.has(guc);
  const pgMajor = Math.floor(caps.serverVersionNum / 10000);

  // pgaudit.log
  const logShape = classListShapeProblems('log', n.log);
  const excludeShape = classListShapeProblems('logExclude', n.logExclude);
  problems.push(...logShape, ...excludeShape);
  if (logShape.length === 0 && excludeShape.length === 0) {
    problems.push(...logListProblems(n.log, n.logExclude));
    if (!(caps.serverVersionNum >= MISC_SET_MIN_SERVER_VERSION_NUM)) {
      for (const field of ['log', 'logExclude'] as const) {
        if (n[field].includes('MISC_SET')) {
          unsupported(
            field,
            `pgaudit.log: class MISC_SET needs pgaudit 1.4 (PostgreSQL 12) or later; this server is PostgreSQL ${pgMajor} (server_version_num ${caps.serverVersionNum})`,
          );
        }
      }
    }
  }

  // booleans
  for (const field of BOOLEAN_FIELDS) {
    const v: unknown = n[field];
    const guc = FIELD_GUC[field];
    if (typeof v !== 'boolean') {
      invalid(field, `invalid value for ${guc}: expected true or false, got ${echoUnknown(v)}`);
    } else if (!has(guc) && v !== PGAUDIT_DEFAULTS[field]) {
      unsupported(
        field,
        `${guc} does not exist in this server's pgaudit (PostgreSQL ${pgMajor}); it cannot be set to ${onOff(v)} (only its default ${onOff(PGAUDIT_DEFAULTS[field])} is possible)`,
      );
    }
  }

  // log_level
  {
    const v: unknown = n.logLevel;
    if (!isAuditLogLevel(v)) {
      invalid('logLevel', `invalid value for pgaudit.log_level: ${echoUnknown(v)} (allowed: ${AUDIT_LOG_LEVELS.join(', ')})`);
    } else if (!has('pgaudit.log_level') && v !== PGAUDIT_DEFAULTS.logLevel) {
      unsupported('logLevel', `pgaudit.log_level does not exist in this server's pgaudit; it cannot be set to ${v.toLowerCase()}`);
    }
  }

  // log_parameter_max_size
  {
    const v: unknown = n.logParameterMaxSize;
    if (v !== null) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > LOG_PARAMETER_MAX_SIZE_MAX) {
        invalid(
          'logParameterMaxSize',
          `invalid value for pgaudit.log_parameter_max_size: ${echoUnknown(v)} (expected a whole number of bytes from 0 to ${LOG_PARAMETER_MAX_SIZE_MAX}, 0 = no limit)`,
        );
      }
      if (!has('pgaudit.log_parameter_max_size')) {
        unsupported(
          'logParameterMaxSize',
          `pgaudit.log_parameter_max_size does not exist in this server's pgaudit (it needs pgaudit 16 / PostgreSQL 16+; this server is PostgreSQL ${pgMajor}); leave logParameterMaxSize unset (null), got ${echoUnknown(v)}`,
        );
      }
    }
  }

  // role
  {
    const v: unknown = n.role;
    if (v !== null) {
      if (typeof v !== 'string') {
        invalid('role', `invalid value for pgaudit.role: expected a role name or null, got ${echoUnknown(v)}`);
      } else {
        const p = roleProblem(v);
        if (p !== null) invalid('role', p);
        if (!has('pgaudit.role')) {
          unsupported('role', `pgaudit.role does not exist in this server's pgaudit; it cannot be set to ${echo(v)}`);
        }
      }
    }
  }

  return problems;
}

// ---------------------------------------------------------------------------------------------
// Capability-aware defaults
// ---------------------------------------------------------------------------------------------

/**
 * `base` with logParameterMaxSize adjusted to the server: null where the server's pgaudit has no
 * pgaudit.log_parameter_max_size and the value is the default 0; 0 where it has the GUC and the
 * value is null. Any other value is kept (validateSettings then reports it).
 */
export function fitDefaultsToServer(base: AuditSettingsValue, caps: ServerCapabilities): AuditSettingsValue {
  const r = cloneSettings(base);
  const hasMax = caps.gucs.has('pgaudit.log_parameter_max_size');
  if (!hasMax && r.logParameterMaxSize === 0) r.logParameterMaxSize = null;
  if (hasMax && r.logParameterMaxSize === null) r.logParameterMaxSize = 0;
  return r;
}

/** PGAUDIT_DEFAULTS as this server has them (logParameterMaxSize null without the GUC). */
export function pgauditDefaultsFor(caps: ServerCapabilities): AuditSettingsValue {
  return fitDefaultsToServer(PGAUDIT_DEFAULTS, caps);
}

/** PREDEFINED_SETTINGS as this server can take them (logParameterMaxSize null without the GUC). */
export function predefinedSettingsFor(caps: ServerCapabilities): AuditSettingsValue {
  return fitDefaultsToServer(PREDEFINED_SETTINGS, caps);
}
