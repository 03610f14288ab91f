import { canonicalGucText, gucsOfPatch, planReset, planRestore, planSet, Scope } from './apply.plan';
import { PGAUDIT_DEFAULTS, PGAUDIT_GUCS, AuditSettingsValue } from './settings/settings.model';

const pg15 = new Set(PGAUDIT_GUCS.filter((g) => g !== 'pgaudit.log_parameter_max_size'));
const service: Scope = { kind: 'service' };
const db = (database: string): Scope => ({ kind: 'database', database });
const settings = (s: Partial<AuditSettingsValue>): AuditSettingsValue => ({ ...PGAUDIT_DEFAULTS, logParameterMaxSize: null, ...s });
const defaultsText = new Map([['pgaudit.log', 'none'], ['pgaudit.log_catalog', 'on'], ['pgaudit.log_client', 'off'], ['pgaudit.log_level', 'log'],
  ['pgaudit.log_parameter', 'off'], ['pgaudit.log_relation', 'off'], ['pgaudit.log_rows', 'off'], ['pgaudit.log_statement', 'on'],
  ['pgaudit.log_statement_once', 'off'], ['pgaudit.role', '']]);

describe('planSet', () => {
  it('service level: SET only what differs, then reload', () => {
    expect(planSet(service, defaultsText, settings({ log: ['READ', 'WRITE'], logRows: true }), PGAUDIT_GUCS, pg15)).toEqual([
      `ALTER SYSTEM SET pgaudit.log = 'read,write'`, `ALTER SYSTEM SET pgaudit.log_rows = 'on'`, 'SELECT pg_reload_conf()']);
  });
  it('nothing to do: no statements, not even a reload', () => {
    expect(planSet(service, defaultsText, settings({}), PGAUDIT_GUCS, pg15)).toEqual([]);
  });
  it('compares meaning, not spelling, of what the server holds', () => {
    const held = new Map([...defaultsText, ['pgaudit.log', ' READ, write'], ['pgaudit.log_rows', 'tr']]);
    expect(planSet(service, held, settings({ log: ['READ', 'WRITE'], logRows: true }), PGAUDIT_GUCS, pg15)).toEqual([]);
  });
  it('an unparseable server value always gets rewritten', () => {
    const held = new Map([...defaultsText, ['pgaudit.log', 'read;write']]);
    expect(planSet(service, held, settings({}), ['pgaudit.log'], pg15)).toEqual([`ALTER SYSTEM SET pgaudit.log = 'none'`, 'SELECT pg_reload_conf()']);
  });
  it('database level: every absent GUC is pinned, identifiers quoted, no reload', () => {
    const out = planSet(db('sales "eu"'), new Map(), settings({ role: "o'brien" }), PGAUDIT_GUCS, pg15);
    expect(out).toHaveLength(10);
    expect(out[0]).toBe(`ALTER DATABASE "sales ""eu""" SET pgaudit.log = 'none'`);
    expect(out).toContain(`ALTER DATABASE "sales ""eu""" SET pgaudit.role = 'o''brien'`);
    expect(out).not.toContain('SELECT pg_reload_conf()');
  });
  it('only the GUCs asked for, and never one the server lacks', () => {
    const all = new Set<string>(PGAUDIT_GUCS);
    expect(planSet(service, defaultsText, settings({ logParameterMaxSize: 64, logRows: true }), ['pgaudit.log_parameter_max_size'], all))
      .toEqual([`ALTER SYSTEM SET pgaudit.log_parameter_max_size = '64'`, 'SELECT pg_reload_conf()']);
    expect(planSet(service, defaultsText, settings({ logParameterMaxSize: 64 }), PGAUDIT_GUCS, pg15)).toEqual([]);
  });
  it('hostile text stays inside its literal or identifier', () => {
    const [stmt] = planSet(db('x"; DROP DATABASE postgres; --'), new Map(), settings({ role: "x'; ALTER SYSTEM SET a = 'b" }), ['pgaudit.role'], pg15);
    expect(stmt).toBe(`ALTER DATABASE "x""; DROP DATABASE postgres; --" SET pgaudit.role = 'x''; ALTER SYSTEM SET a = ''b'`);
  });
});

describe('the session-logging switches', () => {
  it('service level: on is SET, off is RESET where ALTER SYSTEM holds it, and left alone where it does not', () => {
    expect(planSet(service, defaultsText, settings({ logConnections: true }), PGAUDIT_GUCS, pg15))
      .toEqual([`ALTER SYSTEM SET log_connections = 'on'`, 'SELECT pg_reload_conf()']);
    const held = new Map([...defaultsText, ['log_connections', 'on'], ['log_disconnections', 'off']]);
    expect(planSet(service, held, settings({ logConnections: true }), PGAUDIT_GUCS, pg15))
      .toEqual(['ALTER SYSTEM RESET log_disconnections', 'SELECT pg_reload_conf()']);
    expect(planSet(service, held, settings({}), ['log_connections'], pg15)).toEqual(['ALTER SYSTEM RESET log_connections', 'SELECT pg_reload_conf()']);
  });
  it('never below the service: not SET, not RESET, not restored', () => {
    const dbHeld = new Map([['log_connections', 'on']]);
    expect(planSet(db('d'), dbHeld, settings({ logConnections: true }), ['log_connections', 'log_disconnections'], pg15)).toEqual([]);
    expect(planReset(db('d'), pg15).some((s) => s.includes('log_connections'))).toBe(false);
    expect(planReset({ kind: 'role', role: 'r' }, pg15).some((s) => s.includes('log_disconnections'))).toBe(false);
    expect(planRestore(db('d'), dbHeld, ['log_connections'], pg15)).toEqual([]);
    expect(planRestore(service, new Map(), ['log_connections'], pg15)).toEqual(['ALTER SYSTEM RESET log_connections', 'SELECT pg_reload_conf()']);
  });
});

describe('planReset / planRestore', () => {
  it('RESETs every GUC the server has', () => {
    expect(planReset(service, pg15)).toEqual([...[...pg15].map((g) => `ALTER SYSTEM RESET ${g}`), 'SELECT pg_reload_conf()']);
    expect(planReset(db('d'), pg15)[0]).toBe('ALTER DATABASE "d" RESET pgaudit.log');
  });
  it('restore puts back held values and RESETs the rest', () => {
    expect(planRestore(db('d'), new Map([['pgaudit.log', 'ddl']]), ['pgaudit.log', 'pgaudit.log_rows'], pg15)).toEqual([
      `ALTER DATABASE "d" SET pgaudit.log = 'ddl'`, 'ALTER DATABASE "d" RESET pgaudit.log_rows']);
  });
});

describe('helpers', () => {
  it('gucsOfPatch maps fields to GUCs once, in a fixed order', () => {
    expect(gucsOfPatch({ logRows: true, logExclude: ['MISC'], log: ['ALL'], role: undefined })).toEqual(['pgaudit.log', 'pgaudit.log_rows']);
  });
  it('canonicalGucText', () => {
    expect(canonicalGucText('pgaudit.log', 'ALL, -MISC_SET')).toBe('all,-misc_set');
    expect(canonicalGucText('pgaudit.log_level', 'debug')).toBe('debug2');
    expect(canonicalGucText('pgaudit.log', 'read write')).toBeNull();
  });
});
