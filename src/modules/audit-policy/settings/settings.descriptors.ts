/**
 * The pgaudit settings as data: the model type and ONE table with a descriptor per model field
 * (GUC, kind, default, first pgaudit version). Every list of the settings (GUC names, field<->GUC,
 * defaults) and every per-setting operation (parse, format, merge, compare, validate) is derived from
 * SETTINGS, so a new setting is one row here plus its field in AuditSettingsValue (and the GraphQL
 * classes, which type-graphql needs written out).
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
  /**
   * PostgreSQL's log_connections / log_disconnections, the lines session events (LOGIN, LOGOUT) come from: true =
   * the policy turns it on (ALTER SYSTEM), false = the policy does not set it (the server's own configuration applies).
   * The service level's own: a database or role policy cannot hold it.
   */
  logConnections: boolean;
  logDisconnections: boolean;
}
/** From a mutation input; undefined = absent. */
export type AuditSettingsPatch = Partial<AuditSettingsValue>;
export type SettingsField = keyof AuditSettingsValue;

/** The value type of each kind of setting. */
export interface SettingKindValues {
  /** pgaudit.log: its included classes (log) and '-class' exclusions (logExclude) are parsed, formatted and validated together. */
  classList: AuditLogClass[];
  bool: boolean;
  level: AuditLogLevel;
  /** A whole number of bytes; null = the server's pgaudit has no such GUC (it is then absent from SQL and history). */
  bytes: number | null;
  /** A role name; null = '' (none). */
  role: string | null;
  /**
   * A PostgreSQL logging switch a service-level policy may turn on (log_connections, log_disconnections): true = SET
   * to on by ALTER SYSTEM, false = not set by ALTER SYSTEM (RESET: postgresql.conf, the platform's, decides). Read
   * from postgresql.auto.conf only, never from pg_settings: these are backend-start settings, which a reload changes
   * for new connections only, so a running session's pg_settings keeps the old value.
   */
  sessionLog: boolean;
}
export type SettingKind = keyof SettingKindValues;

/** The one kind whose value type is exactly V. */
type KindOf<V> = {
  [K in SettingKind]: [V] extends [SettingKindValues[K]] ? ([SettingKindValues[K]] extends [V] ? K : never) : never;
}[SettingKind];
/** A value as a shared constant holds it: lists read-only. */
type ConstValue<V> = V extends readonly (infer E)[] ? readonly E[] : V;

/** The session-logging GUCs a policy can hold beside pgaudit's (kind 'sessionLog'; service level only). */
export const SESSION_LOG_GUCS = ['log_connections', 'log_disconnections'] as const;

export interface SettingDescriptor<F extends SettingsField = SettingsField> {
  readonly field: F;
  readonly guc: `pgaudit.${string}` | (typeof SESSION_LOG_GUCS)[number];
  /** Must match the field's type in AuditSettingsValue (checked by the compiler). */
  readonly kind: KindOf<AuditSettingsValue[F]>;
  /** pgaudit's boot value. */
  readonly default: ConstValue<AuditSettingsValue[F]>;
  /**
   * The first pgaudit (and PostgreSQL major) with this GUC; absent = every pgaudit the gateway
   * supports (PostgreSQL 11+). Validation goes by the GUCs the live server really lists
   * (ServerCapabilities.gucs), not by version; this is for messages and documentation.
   */
  readonly since?: { readonly pgaudit: string; readonly postgres: number };
}

/**
 * THE table. Field order = the order of PGAUDIT_GUCS, formatGucs, diffSettings and of the GUCs in
 * SQL (log and logExclude share pgaudit.log). A field of AuditSettingsValue without a row, a row
 * without a field, or a kind that does not fit the field's type, does not compile.
 */
export const SETTINGS = {
  log: { field: 'log', guc: 'pgaudit.log', kind: 'classList', default: [] },
  logExclude: { field: 'logExclude', guc: 'pgaudit.log', kind: 'classList', default: [] },
  logCatalog: { field: 'logCatalog', guc: 'pgaudit.log_catalog', kind: 'bool', default: true },
  logClient: { field: 'logClient', guc: 'pgaudit.log_client', kind: 'bool', default: false },
  logLevel: { field: 'logLevel', guc: 'pgaudit.log_level', kind: 'level', default: 'LOG' },
  logParameter: { field: 'logParameter', guc: 'pgaudit.log_parameter', kind: 'bool', default: false },
  logParameterMaxSize: {
    field: 'logParameterMaxSize', guc: 'pgaudit.log_parameter_max_size', kind: 'bytes', default: 0, since: { pgaudit: '16', postgres: 16 },
  },
  logRelation: { field: 'logRelation', guc: 'pgaudit.log_relation', kind: 'bool', default: false },
  logRows: { field: 'logRows', guc: 'pgaudit.log_rows', kind: 'bool', default: false, since: { pgaudit: '1.6', postgres: 14 } },
  logStatement: { field: 'logStatement', guc: 'pgaudit.log_statement', kind: 'bool', default: true, since: { pgaudit: '1.6', postgres: 14 } },
  logStatementOnce: { field: 'logStatementOnce', guc: 'pgaudit.log_statement_once', kind: 'bool', default: false },
  role: { field: 'role', guc: 'pgaudit.role', kind: 'role', default: null },
  logConnections: { field: 'logConnections', guc: 'log_connections', kind: 'sessionLog', default: false },
  logDisconnections: { field: 'logDisconnections', guc: 'log_disconnections', kind: 'sessionLog', default: false },
} as const satisfies { readonly [F in SettingsField]: SettingDescriptor<F> };

/** One row of SETTINGS: a union discriminated by `kind` (narrowing it narrows `field` and the value type). */
export type Setting = (typeof SETTINGS)[SettingsField];
/** A GUC a policy holds: pgaudit's, and the two session-logging switches (SESSION_LOG_GUCS). */
export type PgauditGuc = Setting['guc'];

/** The rows, in table order. */
export const SETTING_LIST: readonly Setting[] = Object.values(SETTINGS);

/** The GUCs, in a fixed order (table order). */
export const PGAUDIT_GUCS: readonly PgauditGuc[] = [...new Set(SETTING_LIST.map((d) => d.guc))];

/** Whether a scope below the service may hold the GUC: not the session-logging switches, which are the service level's (ALTER SYSTEM). */
export function gucBelowService(guc: PgauditGuc): boolean {
  return !(SESSION_LOG_GUCS as readonly string[]).includes(guc);
}

/** The rows of each GUC (two for pgaudit.log). */
export const SETTINGS_OF_GUC: ReadonlyMap<PgauditGuc, readonly Setting[]> = new Map(
  PGAUDIT_GUCS.map((g) => [g, SETTING_LIST.filter((d) => d.guc === g)]),
);

/** The row that decides how a GUC is read and written: its first (for pgaudit.log, `log`; same kind either way). */
export function settingOfGuc(guc: PgauditGuc): Setting {
  const rows = SETTINGS_OF_GUC.get(guc);
  if (!rows || rows.length === 0) throw new Error(`not a pgaudit setting: ${guc}`);
  return rows[0];
}

/** pgaudit.log_parameter_max_size upper bound: (1 << 30) - 1 in pgaudit.c. */
export const LOG_PARAMETER_MAX_SIZE_MAX = 1073741823;
/** PostgreSQL identifier limit (NAMEDATALEN - 1), in UTF-8 bytes. */
export const ROLE_NAME_MAX_BYTES = 63;
/** MISC_SET exists from pgaudit 1.4, which is PostgreSQL 12. */
export const MISC_SET_MIN_SERVER_VERSION_NUM = 120000;
/** Messages never quote more than this many characters of caller/server text. */
export const MAX_ECHO_CHARS = 100;

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

export function isAuditLogClass(v: unknown): v is AuditLogClass {
  return typeof v === 'string' && (AUDIT_LOG_CLASSES as readonly string[]).includes(v);
}

export function isAuditLogLevel(v: unknown): v is AuditLogLevel {
  return typeof v === 'string' && (AUDIT_LOG_LEVELS as readonly string[]).includes(v);
}

export function isPgauditGuc(v: unknown): v is PgauditGuc {
  return typeof v === 'string' && (PGAUDIT_GUCS as readonly string[]).includes(v);
}

// ---------------------------------------------------------------------------------------------
// Whole settings objects from the table
// ---------------------------------------------------------------------------------------------

function setField<F extends SettingsField>(to: Partial<AuditSettingsValue>, field: F, value: AuditSettingsValue[F]): void {
  to[field] = value;
}

/**
 * to[d.field] = from[d.field] unless that is undefined; a list is copied (a malformed non-list
 * runtime value is kept as it is, for validation to report).
 */
export function copySetting(to: Partial<AuditSettingsValue>, from: Partial<AuditSettingsValue>, d: Setting): void {
  if (d.kind === 'classList') {
    const v = from[d.field];
    if (v !== undefined) to[d.field] = Array.isArray(v) ? [...v] : v;
    return;
  }
  const v = from[d.field];
  if (v !== undefined) setField(to, d.field, v);
}

/** Has every field of the table (a value of undefined counts as missing). */
function isComplete(s: Partial<AuditSettingsValue>): s is AuditSettingsValue {
  return SETTING_LIST.every((d) => s[d.field] !== undefined);
}

/** A copy whose lists are copies too. */
export function cloneSettings(s: AuditSettingsValue): AuditSettingsValue {
  const r = { ...s };
  for (const d of SETTING_LIST) copySetting(r, s, d);
  return r;
}

/** The table's defaults as a settings object. */
function defaultsFromTable(): AuditSettingsValue {
  const out: Partial<AuditSettingsValue> = {};
  for (const d of SETTING_LIST) {
    if (d.kind === 'classList') setField(out, d.field, [...d.default]);
    else setField(out, d.field, d.default);
  }
  if (!isComplete(out)) throw new Error('SETTINGS has a row without a default'); // unreachable: SETTINGS covers every field
  return out;
}

/** Freeze a settings constant, its lists included, so shared constants cannot be mutated by accident. */
function freezeSettings(s: AuditSettingsValue): AuditSettingsValue {
  for (const d of SETTING_LIST) if (d.kind === 'classList') Object.freeze(s[d.field]);
  return Object.freeze(s);
}

/** pgaudit's own defaults (boot values), from the table. logParameterMaxSize 0. */
export const PGAUDIT_DEFAULTS: AuditSettingsValue = freezeSettings(defaultsFromTable());

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
