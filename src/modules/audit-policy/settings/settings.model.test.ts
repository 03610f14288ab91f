/**
 * The spec of the settings model, as one file on purpose: every spelling PostgreSQL accepts for each setting,
 * pgaudit's rules, and seeded property tests against an independent reference model written here from the
 * pgaudit and PostgreSQL sources (not from settings/*.ts), so the two can disagree only if one is wrong.
 */
import { prng } from '../../../../bench/prng';
import {
  AUDIT_LOG_CLASSES,
  AUDIT_LOG_LEVELS,
  AuditLogClass,
  AuditLogLevel,
  AuditSettingsValue,
  diffSettings,
  echo,
  fitDefaultsToServer,
  formatGucs,
  formatLogClasses,
  LOG_PARAMETER_MAX_SIZE_MAX,
  mergeSettings,
  normalizeSettings,
  parseGucValue,
  parsePgBoolean,
  PGAUDIT_DEFAULTS,
  PGAUDIT_GUCS,
  PgauditGuc,
  pgauditDefaultsFor,
  predefinedSettingsFor,
  PREDEFINED_SETTINGS,
  ServerCapabilities,
  SettingProblem,
  settingsFromGucs,
  validateSettings,
} from './settings.model';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const ALL_GUCS: ReadonlySet<string> = new Set(PGAUDIT_GUCS);
const without = (...names: string[]): ReadonlySet<string> => new Set(PGAUDIT_GUCS.filter((g) => !names.includes(g)));

/** PostgreSQL 16 + pgaudit 16: every GUC. */
const PG16: ServerCapabilities = { serverVersionNum: 160004, gucs: ALL_GUCS };
/** PostgreSQL 15 + pgaudit 1.7 (measured): no log_parameter_max_size. */
const PG15: ServerCapabilities = { serverVersionNum: 150018, gucs: without('pgaudit.log_parameter_max_size') };
/** PostgreSQL 13 + pgaudit 1.5: no log_rows / log_statement (1.6) either. */
const PG13: ServerCapabilities = {
  serverVersionNum: 130012,
  gucs: without('pgaudit.log_parameter_max_size', 'pgaudit.log_rows', 'pgaudit.log_statement'),
};
/** PostgreSQL 11 + pgaudit 1.3: no MISC_SET. */
const PG11: ServerCapabilities = { serverVersionNum: 110022, gucs: PG13.gucs };

const settings = (over: Partial<AuditSettingsValue> = {}): AuditSettingsValue => ({ ...PGAUDIT_DEFAULTS, log: [], logExclude: [], ...over });

function parseOk(guc: PgauditGuc, text: string): Partial<AuditSettingsValue> {
  const r = parseGucValue(guc, text);
  if (!r.ok) throw new Error(`expected ${guc}=${JSON.stringify(text)} to parse, got: ${r.message}`);
  return r.value;
}

function parseErr(guc: PgauditGuc, text: string): string {
  const r = parseGucValue(guc, text);
  if (r.ok) throw new Error(`expected ${guc}=${JSON.stringify(text)} to be rejected, got ${JSON.stringify(r.value)}`);
  return r.message;
}

const codes = (ps: SettingProblem[]): string[] => ps.map((p) => `${p.code}:${p.field}`);

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/**
 * Independent reference: pgaudit's check_pgaudit_log bitmap for a list of already-split tokens
 * (pgaudit.c: MISC = MISC|MISC_SET, ALL = every bit, NONE = 0; '-x' clears, 'x' sets, left to right).
 */
const REF_BITS: Record<string, number> = {
  NONE: 0, DDL: 1, FUNCTION: 2, MISC: 4 | 64, READ: 8, ROLE: 16, WRITE: 32, MISC_SET: 64, ALL: 0xffffffff,
};
function referenceBits(tokens: readonly string[]): number {
  let flags = 0;
  for (const t of tokens) {
    const sub = t.startsWith('-');
    const cls = REF_BITS[(sub ? t.slice(1) : t).toUpperCase()];
    if (cls === undefined) throw new Error(`reference: unknown token ${t}`);
    flags = sub ? flags & ~cls : flags | cls;
  }
  return flags >>> 0;
}
/** The classes pgaudit actually distinguishes today (bits beyond them are unused). */
const KNOWN_BITS = 0x7f;
const modelBits = (log: readonly AuditLogClass[], ex: readonly AuditLogClass[]): number => {
  const text = formatLogClasses(log, ex);
  return referenceBits(text === 'none' ? [] : text.split(','));
};

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

describe('constants', () => {
  it('PGAUDIT_DEFAULTS are pgaudit boot values', () => {
    expect(PGAUDIT_DEFAULTS).toEqual({
      log: [], logExclude: [], logCatalog: true, logClient: false, logLevel: 'LOG', logParameter: false,
      logParameterMaxSize: 0, logRelation: false, logRows: false, logStatement: true, logStatementOnce: false, role: null,
      logConnections: false, logDisconnections: false,
    });
  });

  it('PREDEFINED_SETTINGS: DDL, ROLE, WRITE without catalog noise or parameter values', () => {
    expect(PREDEFINED_SETTINGS).toEqual({
      ...PGAUDIT_DEFAULTS, log: ['WRITE', 'ROLE', 'DDL'], logCatalog: false, logRelation: true, logParameter: false,
    });
    expect(normalizeSettings(PREDEFINED_SETTINGS)).toEqual(PREDEFINED_SETTINGS);
    expect(formatGucs(PREDEFINED_SETTINGS).get('pgaudit.log')).toBe('write,role,ddl');
    expect(validateSettings(PREDEFINED_SETTINGS, PG16)).toEqual([]);
  });

  it('constants are frozen, lists included', () => {
    expect(Object.isFrozen(PGAUDIT_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(PREDEFINED_SETTINGS.log)).toBe(true);
    expect(() => (PREDEFINED_SETTINGS.log as AuditLogClass[]).push('READ')).toThrow(TypeError);
  });

  it('server-fitted defaults drop log_parameter_max_size where it does not exist', () => {
    expect(validateSettings(PREDEFINED_SETTINGS, PG15).map((p) => p.field)).toEqual(['logParameterMaxSize']);
    expect(predefinedSettingsFor(PG15)).toEqual({ ...PREDEFINED_SETTINGS, logParameterMaxSize: null });
    expect(predefinedSettingsFor(PG16)).toEqual(PREDEFINED_SETTINGS);
    expect(pgauditDefaultsFor(PG15).logParameterMaxSize).toBeNull();
    expect(pgauditDefaultsFor(PG16).logParameterMaxSize).toBe(0);
    expect(validateSettings(predefinedSettingsFor(PG15), PG15)).toEqual([]);
    expect(validateSettings(predefinedSettingsFor(PG13), PG13)).toEqual([]);
    expect(fitDefaultsToServer(settings({ logParameterMaxSize: null }), PG16).logParameterMaxSize).toBe(0);
    // a real choice is never silently dropped
    expect(fitDefaultsToServer(settings({ logParameterMaxSize: 512 }), PG15).logParameterMaxSize).toBe(512);
  });
});

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

describe('parseGucValue: booleans', () => {
  const BOOL_GUCS: [PgauditGuc, keyof AuditSettingsValue][] = [
    ['pgaudit.log_catalog', 'logCatalog'],
    ['pgaudit.log_client', 'logClient'],
    ['pgaudit.log_parameter', 'logParameter'],
    ['pgaudit.log_relation', 'logRelation'],
    ['pgaudit.log_rows', 'logRows'],
    ['pgaudit.log_statement', 'logStatement'],
    ['pgaudit.log_statement_once', 'logStatementOnce'],
  ];
  const TRUE = ['on', 'ON', 'On', 'oN', 'true', 'TRUE', 'True', 'tRuE', 't', 'T', 'tr', 'TR', 'tru', 'yes', 'YES', 'Yes', 'y', 'Y', 'ye', '1'];
  const FALSE = ['off', 'OFF', 'Off', 'of', 'OF', 'oF', 'false', 'FALSE', 'False', 'f', 'F', 'fa', 'fal', 'fals', 'no', 'NO', 'No', 'n', 'N', '0'];
  const REJECTED = [
    '', 'o', 'O', ' on', 'on ', ' off', 'off\n', '\ton', 'onn', 'offf', 'of f', 'truee', 'yess', 'noo', 'falsey',
    '2', '01', '10', '00', '11', '-1', '+1', '1.0', 'enable', 'enabled', 'disable', 'tru e', 'null', 'none',
    'ｏｎ', 'ｔ', 'ınfo', 'on\0', 'yes,no', "'on'", '"on"',
  ];

  it.each(BOOL_GUCS.flatMap(([guc, field]) => TRUE.map((t) => [guc, field, t] as const)))('%s accepts %j as true', (guc, field, text) => {
    expect(parseOk(guc, text)).toEqual({ [field]: true });
  });
  it.each(BOOL_GUCS.flatMap(([guc, field]) => FALSE.map((t) => [guc, field, t] as const)))('%s accepts %j as false', (guc, field, text) => {
    expect(parseOk(guc, text)).toEqual({ [field]: false });
  });
  it.each(BOOL_GUCS.flatMap(([guc]) => REJECTED.map((t) => [guc, t] as const)))('%s rejects %j', (guc, text) => {
    const msg = parseErr(guc, text);
    expect(msg).toContain(guc);
    expect(msg).toContain(JSON.stringify(text));
  });

  it('parsePgBoolean agrees with PostgreSQL on every prefix', () => {
    for (const word of ['true', 'false', 'yes', 'no']) {
      for (let n = 1; n <= word.length; n++) expect(parsePgBoolean(word.slice(0, n))).toBe(word === 'true' || word === 'yes');
    }
    expect(parsePgBoolean('o')).toBeNull();
    expect(parsePgBoolean('of')).toBe(false);
    expect(parsePgBoolean('on')).toBe(true);
  });
});

describe('parseGucValue: the session-logging switches', () => {
  it.each([['log_connections', 'logConnections'], ['log_disconnections', 'logDisconnections']] as const)('%s reads booleans as PostgreSQL does', (guc, field) => {
    expect(parseOk(guc, 'on')).toEqual({ [field]: true });
    expect(parseOk(guc, 'of')).toEqual({ [field]: false });
    expect(parseOk(guc, 'yes')).toEqual({ [field]: true });
    expect(parseErr(guc, 'maybe')).toContain(guc);
  });
  it.each<[string, boolean]>([
    ['', false], ['receipt', false], ['receipt,authentication', false], ['authorization', true], [' receipt , Authorization ', true],
    ['all', true], ['setup_durations', false],
  ])("PostgreSQL 18's log_connections list %j logs the LOGIN lines: %s", (text, on) => {
    expect(parseOk('log_connections', text)).toEqual({ logConnections: on });
  });
  it('rejects a list with an unknown aspect', () => {
    expect(parseErr('log_connections', 'receipt,everything')).toContain('log_connections');
  });
  it('validation wants a boolean and never depends on pgaudit', () => {
    expect(validateSettings(settings({ logConnections: true, logDisconnections: true }), PG16)).toEqual([]);
    expect(validateSettings(settings({ logConnections: 'yes' as unknown as boolean }), PG16))
      .toEqual([expect.objectContaining({ code: 'INVALID_SETTING', field: 'logConnections' })]);
  });
});

describe('parseGucValue: pgaudit.log_level', () => {
  const ACCEPTED: [string, AuditLogLevel][] = [
    ['debug', 'DEBUG2'], ['DEBUG', 'DEBUG2'], ['Debug', 'DEBUG2'],
    ['debug1', 'DEBUG1'], ['DEBUG1', 'DEBUG1'], ['debug2', 'DEBUG2'], ['debug3', 'DEBUG3'], ['Debug4', 'DEBUG4'], ['debug5', 'DEBUG5'],
    ['info', 'INFO'], ['INFO', 'INFO'], ['notice', 'NOTICE'], ['Notice', 'NOTICE'], ['warning', 'WARNING'], ['WARNING', 'WARNING'],
    ['log', 'LOG'], ['LOG', 'LOG'], ['LoG', 'LOG'],
  ];
  const REJECTED = [
    'error', 'ERROR', 'fatal', 'FATAL', 'panic', 'PANIC', '', ' log', 'log ', ' log ', '\tinfo', 'debug0', 'debug6', 'debug 1',
    'warn', 'WARN', 'information', 'notices', 'logs', 'debug,log', 'log;', 'ınfo', 'ｌｏｇ', 'log\0', "'log'", '"log"', '5',
  ];
  it.each(ACCEPTED)('accepts %j as %s', (text, level) => {
    expect(parseOk('pgaudit.log_level', text)).toEqual({ logLevel: level });
  });
  it.each(REJECTED)('rejects %j', (text) => {
    expect(parseErr('pgaudit.log_level', text)).toContain('pgaudit.log_level');
  });
  it('every model level formats to text that parses back to it', () => {
    for (const level of AUDIT_LOG_LEVELS) {
      expect(parseOk('pgaudit.log_level', formatGucs(settings({ logLevel: level })).get('pgaudit.log_level') as string)).toEqual({ logLevel: level });
    }
  });
});

describe('parseGucValue: pgaudit.log_parameter_max_size', () => {
  it.each([
    ['0', 0], ['1', 1], ['9', 9], ['10', 10], ['1024', 1024], ['65536', 65536], ['1073741822', 1073741822], ['1073741823', LOG_PARAMETER_MAX_SIZE_MAX],
  ])('accepts %j', (text, n) => {
    expect(parseOk('pgaudit.log_parameter_max_size', text)).toEqual({ logParameterMaxSize: n });
  });
  it.each([
    '', ' ', '-1', '-0', '+1', '+0', '1073741824', '2147483648', '99999999999', '1e3', '1E3', '1.5', '1.0', '.5', '1kB', '1 kB', '1MB',
    ' 1', '1 ', '\t1', '01', '00', '010', '0x10', '0X1F', '0o7', '0b1', '1_000', '1,000', 'NaN', 'Infinity', 'abc', '１', '٣', '1\0',
  ])('rejects %j', (text) => {
    const msg = parseErr('pgaudit.log_parameter_max_size', text);
    expect(msg).toContain('pgaudit.log_parameter_max_size');
    expect(msg).toContain('1073741823');
  });
});

describe('parseGucValue: pgaudit.role', () => {
  const euro = '€'; // 3 bytes in UTF-8
  const lock = '🔒'; // 4 bytes in UTF-8, 2 UTF-16 code units
  it.each([
    ['auditor', 'auditor'],
    ['Auditor', 'Auditor'],
    ['audit role', 'audit role'],
    [' padded ', ' padded '],
    ['a"b', 'a"b'],
    ["x'; DROP TABLE t; --", "x'; DROP TABLE t; --"],
    ['ролевой_аудитор', 'ролевой_аудитор'],
    ['監査役', '監査役'],
    ['🔒auditor', '🔒auditor'],
    ['a'.repeat(63), 'a'.repeat(63)],
    ['é'.repeat(31) + 'a', 'é'.repeat(31) + 'a'],
    [euro.repeat(21), euro.repeat(21)],
    [lock.repeat(15) + 'abc', lock.repeat(15) + 'abc'],
  ])('accepts %j', (text, role) => {
    expect(parseOk('pgaudit.role', text)).toEqual({ role });
  });
  it("accepts '' as no role (null)", () => {
    expect(parseOk('pgaudit.role', '')).toEqual({ role: null });
  });
  it.each([
    ['64 ASCII bytes', 'a'.repeat(64)],
    ['32 × é = 64 bytes', 'é'.repeat(32)],
    ['31 × é + ab = 64 bytes', 'é'.repeat(31) + 'ab'],
    ['22 × € = 66 bytes', euro.repeat(22)],
    ['21 × € + a = 64 bytes', euro.repeat(21) + 'a'],
    ['16 × 🔒 = 64 bytes', lock.repeat(16)],
    ['very long', 'r'.repeat(10000)],
  ])('rejects %s (over 63 bytes)', (_label, text) => {
    const msg = parseErr('pgaudit.role', text);
    expect(msg).toContain('pgaudit.role');
    expect(msg).toMatch(/63/);
  });
  it('rejects NUL', () => {
    expect(parseErr('pgaudit.role', 'aud\0itor')).toMatch(/NUL/);
  });
  it('counts bytes, not characters: 63 bytes of 2-byte chars is 32 characters too many', () => {
    expect('é'.repeat(32).length).toBe(32);
    expect(parseGucValue('pgaudit.role', 'é'.repeat(32)).ok).toBe(false);
  });
});

describe('parseGucValue: pgaudit.log', () => {
  const L = (log: AuditLogClass[], logExclude: AuditLogClass[] = []): Partial<AuditSettingsValue> => ({ log, logExclude });

  it.each<[string, Partial<AuditSettingsValue>]>([
    ['', L([])],
    ['   ', L([])],
    ['\t\n', L([])],
    ['none', L([])],
    ['NONE', L([])],
    [' None ', L([])],
    ['none,none', L([])],
    ['-none', L([])],
    ['read', L(['READ'])],
    ['READ', L(['READ'])],
    ['ReAd', L(['READ'])],
    ['read,write', L(['READ', 'WRITE'])],
    ['write,read', L(['READ', 'WRITE'])],
    [' read , write ', L(['READ', 'WRITE'])],
    ['read ,write', L(['READ', 'WRITE'])],
    ['read,\twrite', L(['READ', 'WRITE'])],
    ['read\r\n,\fwrite', L(['READ', 'WRITE'])],
    ['read,read,READ', L(['READ'])],
    ['ddl,role,write', L(['WRITE', 'ROLE', 'DDL'])],
    ['DDL, ROLE, WRITE', L(['WRITE', 'ROLE', 'DDL'])],
    ['function', L(['FUNCTION'])],
    ['misc', L(['MISC'])],
    ['misc_set', L(['MISC_SET'])],
    ['MISC_SET', L(['MISC_SET'])],
    ['all', L(['ALL'])],
    ['read,all', L(['READ', 'ALL'])],
    ['none,read', L(['READ'])],
    ['read,none', L(['READ'])],
    ['read,-none', L(['READ'])],
    ['all,-misc', L(['ALL'], ['MISC'])],
    ['all, -misc', L(['ALL'], ['MISC'])],
    ['ALL, -MISC_SET', L(['ALL'], ['MISC_SET'])],
    ['all, -misc_set', L(['ALL'], ['MISC_SET'])],
    ['all,-read,-write', L(['ALL'], ['READ', 'WRITE'])],
    ['all,-write,-read', L(['ALL'], ['READ', 'WRITE'])],
    ['all,-misc,-misc_set', L(['ALL'], ['MISC', 'MISC_SET'])],
    ['all,-misc,-misc', L(['ALL'], ['MISC'])],
    ['misc,-misc_set', L(['MISC'], ['MISC_SET'])],
    ['read,-misc', L(['READ'], ['MISC'])],
    ['read,-misc,write', L(['READ', 'WRITE'], ['MISC'])],
    // double-quoted items, as PostgreSQL's SplitIdentifierString reads them
    ['"read"', L(['READ'])],
    ['"READ" , write', L(['READ', 'WRITE'])],
    ['all,"-misc"', L(['ALL'], ['MISC'])],
    // order-dependent texts: the model keeps pgaudit's meaning in its simplest valid form
    ['read,-read', L([])],
    ['misc,-misc', L([])],
    ['-misc', L([])],
    ['-misc,-read', L([])],
    ['-all', L([])],
    ['all,-all', L([])],
    ['read,-all', L([])],
    ['-all,read', L(['READ'])],
    ['-read,read', L(['READ'])],
    ['-read,all', L(['ALL'])],
    ['all,-read,read', L(['ALL'])],
    ['all,-read,all', L(['ALL'])],
    ['all,-misc,misc', L(['ALL'])],
    ['misc_set,-misc', L([])],
    ['read,misc_set,-misc', L(['READ'])],
    ['read,write,-read', L(['WRITE'])],
    ['all,-misc,misc_set', L(['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC_SET'])],
    ['"-misc",all', L(['ALL'])],
  ])('%j', (text, expected) => {
    expect(parseOk('pgaudit.log', text)).toEqual(expected);
  });

  it.each([
    'read;write',
    'read write',
    'read  write',
    'read,,write',
    ',read',
    'read,',
    ',',
    ' , ',
    '-',
    '- ',
    'all,-',
    '-,all',
    '- read',
    '--read',
    '-"read"',
    'all -misc',
    'foo',
    'reads',
    'rea',
    'misc-set',
    'miscset',
    'misc set',
    'dml',
    'select',
    'read,write;',
    '"read',
    'read"',
    '""',
    '"read"x',
    '"read" write',
    'ｒｅａｄ',
    'mıſc', // dotless i + long s: JS toUpperCase would make this MISC, PostgreSQL does not
    'roİe',
    'read\v', // vertical tab is whitespace only for PostgreSQL 16+; refuse it everywhere
    'read\0',
    "'read'",
    '[read]',
    'read|write',
  ])('rejects %j', (text) => {
    const msg = parseErr('pgaudit.log', text);
    expect(msg).toContain('pgaudit.log');
  });

  it('names the offending item', () => {
    expect(parseErr('pgaudit.log', 'read,bogus')).toContain('"bogus"');
    expect(parseErr('pgaudit.log', 'all,-')).toContain('"-"');
    expect(parseErr('pgaudit.log', 'read;write')).toContain('"read;write"');
  });
});

describe('parseGucValue: misuse', () => {
  it('rejects an unknown GUC name', () => {
    expect(parseGucValue('pgaudit.nope' as PgauditGuc, 'on')).toEqual({ ok: false, message: expect.stringContaining('unknown') });
  });
  it('rejects non-text values at run time', () => {
    expect(parseGucValue('pgaudit.log_rows', 1 as unknown as string).ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips and properties
// ---------------------------------------------------------------------------------------------

function parseAll(m: Map<PgauditGuc, string>): AuditSettingsValue {
  return settingsFromGucs(m);
}

describe('formatGucs', () => {
  it('formats every GUC canonically, in PGAUDIT_GUCS order', () => {
    const s = settings({
      log: ['DDL', 'READ', 'READ'], logExclude: ['MISC'], logCatalog: false, logClient: true, logLevel: 'NOTICE',
      logParameter: true, logParameterMaxSize: 4096, logRelation: true, logRows: true, logStatement: false, logStatementOnce: true,
      role: 'Auditor',
    });
    expect([...formatGucs(s)]).toEqual([
      ['pgaudit.log', 'read,ddl,-misc'],
      ['pgaudit.log_catalog', 'off'],
      ['pgaudit.log_client', 'on'],
      ['pgaudit.log_level', 'notice'],
      ['pgaudit.log_parameter', 'on'],
      ['pgaudit.log_parameter_max_size', '4096'],
      ['pgaudit.log_relation', 'on'],
      ['pgaudit.log_rows', 'on'],
      ['pgaudit.log_statement', 'off'],
      ['pgaudit.log_statement_once', 'on'],
      ['pgaudit.role', 'Auditor'],
    ]);
  });

  it("writes 'none', '' for no role, and omits a null log_parameter_max_size", () => {
    const m = formatGucs(settings({ logParameterMaxSize: null }));
    expect(m.get('pgaudit.log')).toBe('none');
    expect(m.get('pgaudit.role')).toBe('');
    expect(m.has('pgaudit.log_parameter_max_size')).toBe(false);
    // a session-logging switch that is off is not set by the policy: no text, no ALTER SYSTEM entry
    expect([...m.keys()]).toEqual(PGAUDIT_GUCS.filter((g) => !['pgaudit.log_parameter_max_size', 'log_connections', 'log_disconnections'].includes(g)));
  });

  it('session-logging switches: on, or not set at all', () => {
    const m = formatGucs(settings({ logConnections: true }));
    expect(m.get('log_connections')).toBe('on');
    expect(m.has('log_disconnections')).toBe(false);
  });

  it.each<[AuditLogClass[], AuditLogClass[], string]>([
    [[], [], 'none'],
    [['READ'], [], 'read'],
    [['ALL'], ['MISC'], 'all,-misc'],
    [['ALL'], ['MISC_SET'], 'all,-misc_set'],
    [['ALL', 'READ'], ['WRITE', 'MISC'], 'read,all,-write,-misc'],
    [['DDL', 'ROLE', 'WRITE'], [], 'write,role,ddl'],
    [[...AUDIT_LOG_CLASSES].reverse(), [], 'read,write,function,role,ddl,misc,misc_set,all'],
  ])('pgaudit.log %j - %j -> %j', (log, logExclude, text) => {
    expect(formatGucs(settings({ log, logExclude })).get('pgaudit.log')).toBe(text);
  });

  it('round-trips hand-picked settings through text', () => {
    const cases: AuditSettingsValue[] = [
      PGAUDIT_DEFAULTS,
      PREDEFINED_SETTINGS,
      settings({ log: ['ALL'], logExclude: ['MISC'], role: 'auditor', logRows: true }),
      settings({ log: ['ALL'], logExclude: ['MISC_SET'], logLevel: 'DEBUG5', logClient: true }),
      settings({ log: ['MISC'], logExclude: ['MISC_SET'] }),
      settings({ log: ['READ'], logExclude: ['MISC'] }),
      settings({ logParameterMaxSize: LOG_PARAMETER_MAX_SIZE_MAX, role: 'ролевой "аудитор"' }),
      settings({ logParameterMaxSize: 0, role: '🔒'.repeat(15) + 'abc' }),
      settings({ role: "x'; DROP TABLE t; --" }),
      settings({ logCatalog: false, logStatement: false, logStatementOnce: true, logParameter: true, logRelation: true }),
    ];
    for (const s of cases) {
      expect(parseAll(formatGucs(s))).toEqual(normalizeSettings(s));
      for (const [guc, text] of formatGucs(s)) expect(parseGucValue(guc, text).ok).toBe(true);
    }
  });
});

function randomSettings(rnd: () => number): AuditSettingsValue {
  const classes = (): AuditLogClass[] => AUDIT_LOG_CLASSES.filter(() => rnd() < 0.3).concat(rnd() < 0.2 ? [pick(rnd, AUDIT_LOG_CLASSES)] : []);
  const bool = (): boolean => rnd() < 0.5;
  const roles = ['auditor', 'Audit Role', 'a"b', "o'brien", 'ролевой', '監査', '🔒x', 'é'.repeat(31) + 'a', 'x'.repeat(63), 'back\\slash'];
  const log = classes();
  return {
    log: rnd() < 0.5 ? [...log].reverse() : log,
    logExclude: classes(),
    logCatalog: bool(),
    logClient: bool(),
    logLevel: pick(rnd, AUDIT_LOG_LEVELS),
    logParameter: bool(),
    logParameterMaxSize: rnd() < 0.3 ? null : pick(rnd, [0, 1, 10, 1024, Math.floor(rnd() * LOG_PARAMETER_MAX_SIZE_MAX), LOG_PARAMETER_MAX_SIZE_MAX]),
    logRelation: bool(),
    logRows: bool(),
    logStatement: bool(),
    logStatementOnce: bool(),
    role: rnd() < 0.3 ? null : pick(rnd, roles),
    logConnections: bool(),
    logDisconnections: bool(),
  };
}

describe('properties over pseudo-random settings (seeded)', () => {
  const rnd = prng(20240615);
  const samples = Array.from({ length: 3000 }, () => randomSettings(rnd));

  it('every valid model round-trips exactly through formatGucs -> settingsFromGucs and per-GUC parse', () => {
    let valid = 0;
    for (const s of samples) {
      if (validateSettings(s, PG16).length > 0) continue;
      valid++;
      const text = formatGucs(s);
      expect(parseAll(text)).toEqual(normalizeSettings(s));
      const viaParts = { ...PGAUDIT_DEFAULTS, logParameterMaxSize: null } as AuditSettingsValue;
      for (const [guc, t] of text) Object.assign(viaParts, parseOk(guc, t));
      expect(viaParts).toEqual(normalizeSettings(s));
      expect(diffSettings(s, parseAll(text))).toEqual([]);
    }
    expect(valid).toBeGreaterThan(300); // the generator must exercise the valid path a lot
  });

  it('every model (valid or not) reads back with the same pgaudit meaning and as a valid model', () => {
    for (const s of samples) {
      const back = parseAll(formatGucs(s));
      expect(modelBits(back.log, back.logExclude) & KNOWN_BITS).toBe(modelBits(s.log, s.logExclude) & KNOWN_BITS);
      expect(validateSettings({ ...back, role: null }, PG16).filter((p) => p.field === 'log' || p.field === 'logExclude')).toEqual([]);
      // and formatting is a fixed point after one read
      expect(formatGucs(parseAll(formatGucs(back)))).toEqual(formatGucs(back));
    }
  });

  it('diffSettings is empty exactly when the canonical texts agree, and lists GUCs in order', () => {
    for (let i = 0; i + 1 < samples.length; i += 2) {
      const [a, b] = [samples[i], samples[i + 1]];
      const d = diffSettings(a, b);
      const fa = formatGucs(a);
      const fb = formatGucs(b);
      const expected = PGAUDIT_GUCS.filter((g) => (fa.get(g) ?? null) !== (fb.get(g) ?? null));
      expect(d.map((c) => c.setting)).toEqual(expected);
      for (const c of d) {
        expect(c.from).toBe(fa.get(c.setting) ?? null);
        expect(c.to).toBe(fb.get(c.setting) ?? null);
      }
      expect(diffSettings(a, a)).toEqual([]);
    }
  });

  it('mergeSettings(a, b) with a full patch equals b; with an empty patch equals a', () => {
    for (let i = 0; i + 1 < samples.length; i += 2) {
      expect(mergeSettings(samples[i], samples[i + 1])).toEqual(samples[i + 1]);
      expect(mergeSettings(samples[i], {})).toEqual(samples[i]);
    }
  });
});

describe('property: pgaudit.log text parsing keeps pgaudit semantics (seeded)', () => {
  const WORDS = ['read', 'write', 'function', 'role', 'ddl', 'misc', 'misc_set', 'all', 'none'];
  const SPACE = ['', '', '', ' ', '  ', '\t', '\n', ' \r\n '];
  const randomCase = (rnd: () => number, w: string): string => [...w].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c)).join('');

  it('matches an independent bitmap evaluation of pgaudit for 5000 random lists', () => {
    const rnd = prng(7);
    for (let n = 0; n < 5000; n++) {
      const count = Math.floor(rnd() * 6);
      const tokens: string[] = [];
      const parts: string[] = [];
      for (let i = 0; i < count; i++) {
        const token = (rnd() < 0.35 ? '-' : '') + pick(rnd, WORDS);
        tokens.push(token);
        const spelled = randomCase(rnd, token);
        parts.push(pick(rnd, SPACE) + (rnd() < 0.1 ? `"${spelled}"` : spelled) + pick(rnd, SPACE));
      }
      const text = parts.join(',');
      const value = parseOk('pgaudit.log', text);
      const log = value.log as AuditLogClass[];
      const logExclude = value.logExclude as AuditLogClass[];
      expect({ text, bits: modelBits(log, logExclude) & KNOWN_BITS }).toEqual({ text, bits: referenceBits(tokens) & KNOWN_BITS });
      expect(validateSettings(settings({ log, logExclude }), PG16)).toEqual([]);
      expect(normalizeSettings(settings({ log, logExclude }))).toEqual(settings({ log, logExclude }));
    }
  });

  it('never throws on arbitrary text, and what it accepts is a fixed point', () => {
    const rnd = prng(99);
    const alphabet = ['r', 'e', 'a', 'd', 'l', 'm', 'i', 's', 'c', '_', ',', '-', ' ', '"', ';', 'L', 'D', '\t', 'ı', 'é', '\0'];
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(rnd() * 14);
      let text = '';
      for (let i = 0; i < len; i++) text += pick(rnd, alphabet);
      const r = parseGucValue('pgaudit.log', text);
      if (!r.ok) {
        expect(r.message).toContain('pgaudit.log');
        continue;
      }
      const canonical = formatLogClasses(r.value.log as AuditLogClass[], r.value.logExclude as AuditLogClass[]);
      expect(parseOk('pgaudit.log', canonical)).toEqual(r.value);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// settingsFromGucs
// ---------------------------------------------------------------------------------------------

describe('settingsFromGucs', () => {
  it('missing GUCs are pgaudit defaults, a missing log_parameter_max_size is null', () => {
    expect(settingsFromGucs(new Map())).toEqual({ ...PGAUDIT_DEFAULTS, logParameterMaxSize: null });
  });

  it('reads pg_settings-style values of a PG15 server (the measured sample configuration)', () => {
    const values = new Map<string, string>([
      ['pgaudit.log', 'all, -misc_set'],
      ['pgaudit.log_catalog', 'off'],
      ['pgaudit.log_client', 'off'],
      ['pgaudit.log_level', 'log'],
      ['pgaudit.log_parameter', 'off'],
      ['pgaudit.log_relation', 'off'],
      ['pgaudit.log_rows', 'on'],
      ['pgaudit.log_statement', 'on'],
      ['pgaudit.log_statement_once', 'off'],
      ['pgaudit.role', 'auditor'],
    ]);
    expect(settingsFromGucs(values)).toEqual({
      ...PGAUDIT_DEFAULTS, log: ['ALL'], logExclude: ['MISC_SET'], logCatalog: false, logRows: true, role: 'auditor', logParameterMaxSize: null,
    });
  });

  it('reads raw user spellings (string GUCs keep what was SET)', () => {
    const values = new Map<string, string>([
      ['pgaudit.log', ' DDL , Role '],
      ['pgaudit.log_level', 'DEBUG'],
      ['pgaudit.log_parameter_max_size', '512'],
      ['pgaudit.log_client', 'yes'],
      ['pgaudit.role', ''],
    ]);
    expect(settingsFromGucs(values)).toEqual({
      ...PGAUDIT_DEFAULTS, log: ['ROLE', 'DDL'], logLevel: 'DEBUG2', logParameterMaxSize: 512, logClient: true, role: null,
    });
  });

  it('ignores keys that are not pgaudit GUCs', () => {
    const values = new Map([['pgaudit.log_max_string_length', '-1'], ['log_statement', 'all'], ['pgaudit.log', 'read']]);
    expect(settingsFromGucs(values)).toEqual({ ...PGAUDIT_DEFAULTS, log: ['READ'], logParameterMaxSize: null });
  });

  it.each<[string, string]>([
    ['pgaudit.log', 'read;write'],
    ['pgaudit.log_catalog', 'o'],
    ['pgaudit.log_level', 'error'],
    ['pgaudit.log_parameter_max_size', 'abc'], // the PG15 placeholder-variable trap: SET succeeds, the value means nothing
  ])('throws a descriptive error for an unparsable %s', (guc, text) => {
    expect(() => settingsFromGucs(new Map([[guc, text]]))).toThrow(new RegExp(`${guc.replace('.', '\\.')}.*${text}`));
  });

  it('keeps an over-long server-side role (pgaudit.role has no check) for validateSettings to report', () => {
    const long = 'r'.repeat(70);
    const s = settingsFromGucs(new Map([['pgaudit.role', long]]));
    expect(s.role).toBe(long);
    expect(codes(validateSettings(s, PG15))).toEqual(['INVALID_SETTING:role']);
  });
});

// ---------------------------------------------------------------------------------------------
// merge / normalise / diff
// ---------------------------------------------------------------------------------------------

describe('mergeSettings', () => {
  it('applies every defined key, including null, and ignores undefined', () => {
    const base = settings({ log: ['READ'], role: 'auditor', logParameterMaxSize: 100 });
    const merged = mergeSettings(base, { logRows: true, role: null, logParameterMaxSize: null, logCatalog: undefined, log: undefined });
    expect(merged).toEqual({ ...base, logRows: true, role: null, logParameterMaxSize: null });
  });

  it('applies empty lists (clearing) and does not normalise', () => {
    const merged = mergeSettings(settings({ log: ['READ'], logExclude: ['MISC'] }), { log: ['WRITE', 'READ', 'WRITE'], logExclude: [] });
    expect(merged.log).toEqual(['WRITE', 'READ', 'WRITE']);
    expect(merged.logExclude).toEqual([]);
  });

  it('never mutates or aliases its inputs', () => {
    const base = settings({ log: ['READ'] });
    const patch = { logExclude: ['MISC'] as AuditLogClass[] };
    const merged = mergeSettings(base, patch);
    merged.log.push('WRITE');
    merged.logExclude.push('DDL');
    expect(base.log).toEqual(['READ']);
    expect(patch.logExclude).toEqual(['MISC']);
    expect(mergeSettings(PREDEFINED_SETTINGS, {}).log).not.toBe(PREDEFINED_SETTINGS.log);
  });

  it('covers every field of the model', () => {
    const patch = randomSettings(prng(1));
    expect(mergeSettings(PGAUDIT_DEFAULTS, patch)).toEqual(patch);
  });
});

describe('normalizeSettings', () => {
  it('dedupes and orders both lists canonically, maps role "" to null, keeps the rest', () => {
    const s = settings({ log: ['ALL', 'DDL', 'READ', 'DDL'], logExclude: ['MISC_SET', 'MISC', 'MISC_SET'], role: '' });
    expect(normalizeSettings(s)).toEqual({ ...s, log: ['READ', 'DDL', 'ALL'], logExclude: ['MISC', 'MISC_SET'], role: null });
    expect(s.log).toEqual(['ALL', 'DDL', 'READ', 'DDL']);
  });
  it('is idempotent', () => {
    const rnd = prng(3);
    for (let i = 0; i < 200; i++) {
      const once = normalizeSettings(randomSettings(rnd));
      expect(normalizeSettings(once)).toEqual(once);
    }
  });
});

describe('diffSettings', () => {
  it('reports per-GUC canonical text changes in PGAUDIT_GUCS order', () => {
    const before = settings({ log: ['DDL'], logParameterMaxSize: null });
    const after = settings({ log: ['WRITE', 'DDL'], role: 'auditor', logCatalog: false, logParameterMaxSize: null });
    expect(diffSettings(before, after)).toEqual([
      { setting: 'pgaudit.log', from: 'ddl', to: 'write,ddl' },
      { setting: 'pgaudit.log_catalog', from: 'on', to: 'off' },
      { setting: 'pgaudit.role', from: '', to: 'auditor' },
    ]);
  });
  it('ignores non-canonical differences (order, duplicates, "" vs null role)', () => {
    expect(diffSettings(settings({ log: ['DDL', 'READ'], role: '' }), settings({ log: ['READ', 'DDL', 'READ'], role: null }))).toEqual([]);
  });
  it('reports log_parameter_max_size appearing/disappearing as null', () => {
    expect(diffSettings(settings({ logParameterMaxSize: null }), settings({ logParameterMaxSize: 0 }))).toEqual([
      { setting: 'pgaudit.log_parameter_max_size', from: null, to: '0' },
    ]);
    expect(diffSettings(settings({ logParameterMaxSize: 64 }), settings({ logParameterMaxSize: null }))).toEqual([
      { setting: 'pgaudit.log_parameter_max_size', from: '64', to: null },
    ]);
  });
  it('enable from pgaudit defaults to the predefined settings', () => {
    expect(diffSettings(PGAUDIT_DEFAULTS, PREDEFINED_SETTINGS)).toEqual([
      { setting: 'pgaudit.log', from: 'none', to: 'write,role,ddl' },
      { setting: 'pgaudit.log_catalog', from: 'on', to: 'off' },
      { setting: 'pgaudit.log_relation', from: 'off', to: 'on' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// validateSettings
// ---------------------------------------------------------------------------------------------

describe('validateSettings: valid settings', () => {
  it.each<[string, Partial<AuditSettingsValue>, ServerCapabilities]>([
    ['defaults on PG16', {}, PG16],
    ['defaults without max size on PG15', { logParameterMaxSize: null }, PG15],
    ['all minus misc', { log: ['ALL'], logExclude: ['MISC'] }, PG16],
    ['all minus misc_set on PG12', { log: ['ALL'], logExclude: ['MISC_SET'], logParameterMaxSize: null }, { serverVersionNum: 120000, gucs: PG13.gucs }],
    ['misc minus misc_set', { log: ['MISC'], logExclude: ['MISC_SET'] }, PG16],
    ['redundant exclusion', { log: ['READ'], logExclude: ['MISC'] }, PG16],
    ['duplicates are normalised away', { log: ['READ', 'READ', 'ALL', 'READ'], logExclude: ['DDL', 'DDL'] }, PG16],
    ['max size bounds', { logParameterMaxSize: LOG_PARAMETER_MAX_SIZE_MAX }, PG16],
    ['max size 0', { logParameterMaxSize: 0 }, PG16],
    ['63-byte unicode role', { role: '€'.repeat(21) }, PG16],
    ['empty role without pgaudit.role', { role: '', logParameterMaxSize: null }, { ...PG15, gucs: without('pgaudit.role', 'pgaudit.log_parameter_max_size') }],
    ['unsupported GUCs left at their defaults (PG13)', { logRows: false, logStatement: true, logParameterMaxSize: null }, PG13],
    ['every level', { logLevel: 'DEBUG3', logClient: true }, PG16],
    ['pgaudit.log absent is not this function\'s concern', { log: ['READ'], logParameterMaxSize: null }, { serverVersionNum: 160000, gucs: new Set<string>() }],
  ])('%s', (_label, over, caps) => {
    expect(validateSettings(settings(over), caps)).toEqual([]);
  });
});

describe('validateSettings: problems', () => {
  it.each<[string, Partial<AuditSettingsValue>, ServerCapabilities, string[], RegExp]>([
    ['class in both lists', { log: ['READ', 'WRITE'], logExclude: ['READ'] }, PG16, ['INVALID_SETTING:logExclude'], /READ is both included and excluded/],
    ['two classes in both lists', { log: ['READ', 'WRITE'], logExclude: ['WRITE', 'READ'] }, PG16, ['INVALID_SETTING:logExclude', 'INVALID_SETTING:logExclude'], /both included and excluded/],
    ['ALL in both lists', { log: ['ALL'], logExclude: ['ALL'] }, PG16, ['INVALID_SETTING:logExclude'], /excluding ALL/],
    ['excluding ALL', { log: ['READ'], logExclude: ['ALL'] }, PG16, ['INVALID_SETTING:logExclude'], /nothing would be logged/],
    ['MISC_SET included but excluded by MISC', { log: ['READ', 'MISC_SET'], logExclude: ['MISC'] }, PG16, ['INVALID_SETTING:logExclude'], /MISC covers MISC_SET/],
    ['exclusion with nothing included', { log: [], logExclude: ['MISC'] }, PG16, ['INVALID_SETTING:logExclude'], /log nothing/],
    ['unknown class in log', { log: ['READ', 'SELECT' as AuditLogClass] }, PG16, ['INVALID_SETTING:log'], /unknown class "SELECT"/],
    ['unknown class in logExclude', { log: ['ALL'], logExclude: ['misc' as AuditLogClass] }, PG16, ['INVALID_SETTING:logExclude'], /unknown class "misc"/],
    ['log not a list', { log: null as unknown as AuditLogClass[] }, PG16, ['INVALID_SETTING:log'], /must be a list/],
    ['max size negative', { logParameterMaxSize: -1 }, PG16, ['INVALID_SETTING:logParameterMaxSize'], /"-1".*1073741823/],
    ['max size too large', { logParameterMaxSize: LOG_PARAMETER_MAX_SIZE_MAX + 1 }, PG16, ['INVALID_SETTING:logParameterMaxSize'], /1073741824/],
    ['max size fractional', { logParameterMaxSize: 1.5 }, PG16, ['INVALID_SETTING:logParameterMaxSize'], /"1\.5"/],
    ['max size NaN', { logParameterMaxSize: NaN }, PG16, ['INVALID_SETTING:logParameterMaxSize'], /NaN/],
    ['max size Infinity', { logParameterMaxSize: Infinity }, PG16, ['INVALID_SETTING:logParameterMaxSize'], /Infinity/],
    ['role 64 bytes', { role: 'a'.repeat(64) }, PG16, ['INVALID_SETTING:role'], /64 bytes.*63/],
    ['role 32 × é', { role: 'é'.repeat(32) }, PG16, ['INVALID_SETTING:role'], /64 bytes/],
    ['role 16 emoji', { role: '🔒'.repeat(16) }, PG16, ['INVALID_SETTING:role'], /64 bytes/],
    ['role with NUL', { role: 'a\0b' }, PG16, ['INVALID_SETTING:role'], /NUL/],
    ['role not a string', { role: 42 as unknown as string }, PG16, ['INVALID_SETTING:role'], /expected a role name/],
    ['log level ERROR', { logLevel: 'ERROR' as AuditLogLevel }, PG16, ['INVALID_SETTING:logLevel'], /pgaudit\.log_level.*"ERROR"/],
    ['log level lower-case', { logLevel: 'log' as AuditLogLevel }, PG16, ['INVALID_SETTING:logLevel'], /"log"/],
    ['boolean null', { logRows: null as unknown as boolean }, PG16, ['INVALID_SETTING:logRows'], /pgaudit\.log_rows.*"null"/],
    ['boolean string', { logCatalog: 'off' as unknown as boolean }, PG16, ['INVALID_SETTING:logCatalog'], /pgaudit\.log_catalog/],
    ['max size on PG15', { logParameterMaxSize: 1024 }, PG15, ['SETTING_UNSUPPORTED:logParameterMaxSize'], /pgaudit\.log_parameter_max_size.*PostgreSQL 15/],
    ['max size 0 on PG15 (non-null)', { logParameterMaxSize: 0 }, PG15, ['SETTING_UNSUPPORTED:logParameterMaxSize'], /leave logParameterMaxSize unset/],
    ['log_rows on PG13', { logRows: true, logParameterMaxSize: null }, PG13, ['SETTING_UNSUPPORTED:logRows'], /pgaudit\.log_rows.*on/],
    ['log_statement off on PG13', { logStatement: false, logParameterMaxSize: null }, PG13, ['SETTING_UNSUPPORTED:logStatement'], /pgaudit\.log_statement .*off/],
    ['MISC_SET in log on PG11', { log: ['MISC_SET'], logParameterMaxSize: null }, PG11, ['SETTING_UNSUPPORTED:log'], /MISC_SET.*PostgreSQL 12.*PostgreSQL 11/],
    ['MISC_SET in logExclude on PG11', { log: ['ALL'], logExclude: ['MISC_SET'], logParameterMaxSize: null }, PG11, ['SETTING_UNSUPPORTED:logExclude'], /MISC_SET/],
    ['MISC_SET just below PG12', { log: ['MISC_SET'], logParameterMaxSize: null }, { serverVersionNum: 119999, gucs: PG13.gucs }, ['SETTING_UNSUPPORTED:log'], /MISC_SET/],
    ['role where pgaudit.role is missing', { role: 'auditor', logParameterMaxSize: null }, { ...PG15, gucs: without('pgaudit.role', 'pgaudit.log_parameter_max_size') }, ['SETTING_UNSUPPORTED:role'], /pgaudit\.role/],
    ['level where pgaudit.log_level is missing', { logLevel: 'INFO', logParameterMaxSize: null }, { ...PG15, gucs: without('pgaudit.log_level', 'pgaudit.log_parameter_max_size') }, ['SETTING_UNSUPPORTED:logLevel'], /pgaudit\.log_level/],
    ['invalid and unsupported at once', { logParameterMaxSize: -5 }, PG15, ['INVALID_SETTING:logParameterMaxSize', 'SETTING_UNSUPPORTED:logParameterMaxSize'], /-5/],
  ])('%s', (_label, over, caps, expected, message) => {
    const problems = validateSettings(settings(over), caps);
    expect(codes(problems)).toEqual(expected);
    expect(problems[0].message).toMatch(message);
  });

  it('returns all problems at once, in field order', () => {
    const s = settings({
      log: [], logExclude: ['MISC'], logRows: true, logLevel: 'PANIC' as AuditLogLevel, logParameterMaxSize: 5, role: 'x'.repeat(64),
    });
    expect(codes(validateSettings(s, PG13))).toEqual([
      'INVALID_SETTING:logExclude',
      'SETTING_UNSUPPORTED:logRows',
      'INVALID_SETTING:logLevel',
      'SETTING_UNSUPPORTED:logParameterMaxSize',
      'INVALID_SETTING:role',
    ]);
  });

  it('every SETTING_UNSUPPORTED / INVALID_SETTING field is a model key', () => {
    const keys = new Set(Object.keys(PGAUDIT_DEFAULTS));
    const rnd = prng(11);
    for (let i = 0; i < 500; i++) {
      for (const p of validateSettings(randomSettings(rnd), pick(rnd, [PG16, PG15, PG13, PG11]))) {
        expect(keys.has(p.field)).toBe(true);
        expect(p.message).toMatch(/pgaudit\./);
      }
    }
  });

  it('does not mutate its input', () => {
    const s = settings({ log: ['DDL', 'READ', 'DDL'] });
    validateSettings(s, PG16);
    expect(s.log).toEqual(['DDL', 'READ', 'DDL']);
  });
});

describe('messages never echo more than 100 characters of user text', () => {
  const hostile = 'x'.repeat(5000);
  const longest = (msg: string): number => Math.max(0, ...(msg.match(/x+/g) ?? []).map((m) => m.length));

  it('echo() truncates by characters and escapes control characters', () => {
    expect(echo('abc')).toBe('"abc"');
    expect(echo('a\nb')).toBe('"a\\nb"');
    expect(echo('x'.repeat(100))).toBe(`"${'x'.repeat(100)}"`);
    expect(echo('x'.repeat(101))).toBe(`"${'x'.repeat(100)}"… (101 characters)`);
    expect(echo('🔒'.repeat(150))).toBe(`"${'🔒'.repeat(100)}"… (150 characters)`);
  });

  it.each<[PgauditGuc, string]>([
    ['pgaudit.log', hostile],
    ['pgaudit.log', `read,${hostile}`],
    ['pgaudit.log', `read ${hostile}`],
    ['pgaudit.log_level', hostile],
    ['pgaudit.log_rows', hostile],
    ['pgaudit.log_parameter_max_size', hostile],
    ['pgaudit.role', hostile],
  ])('parse %s', (guc, text) => {
    const msg = parseErr(guc, text);
    expect(longest(msg)).toBeLessThanOrEqual(100);
    expect(msg.length).toBeLessThan(400);
  });

  it('validate', () => {
    const problems = validateSettings(
      settings({ role: hostile, log: [hostile as AuditLogClass], logLevel: hostile as AuditLogLevel, logParameterMaxSize: null }),
      { ...PG15, gucs: without('pgaudit.role', 'pgaudit.log_parameter_max_size') },
    );
    expect(codes(problems)).toEqual(['INVALID_SETTING:log', 'INVALID_SETTING:logLevel', 'INVALID_SETTING:role', 'SETTING_UNSUPPORTED:role']);
    for (const p of problems) expect(longest(p.message)).toBeLessThanOrEqual(100);
  });

  it('settingsFromGucs errors', () => {
    let msg = '';
    try {
      settingsFromGucs(new Map([['pgaudit.log', hostile]]));
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('pgaudit.log');
    expect(longest(msg)).toBeLessThanOrEqual(100);
  });
});
