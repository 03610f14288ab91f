import { AuditScopeKind, buildScopes, kindOf, MAX_SCOPES, orderedValues, pgauditEntries, scopeKey, serviceScopeValues } from './inventory.scopes';
import { PGAUDIT_DEFAULTS, PGAUDIT_GUCS } from './settings/settings.model';

const defaults = { ...PGAUDIT_DEFAULTS };
/** What serviceSettings() gives for a server where nothing is configured: every GUC at its boot value. */
const boot = new Map<string, string>([['pgaudit.log', 'none'], ['pgaudit.log_catalog', 'on'], ['pgaudit.log_client', 'off'],
  ['pgaudit.log_level', 'log'], ['pgaudit.log_parameter', 'off'], ['pgaudit.log_relation', 'off'], ['pgaudit.log_rows', 'off'],
  ['pgaudit.log_statement', 'on'], ['pgaudit.log_statement_once', 'off'], ['pgaudit.role', '']]);

describe('scope keys and kinds', () => {
  it('one key per (database, role); "" = none', () => {
    expect(scopeKey('a', '')).not.toBe(scopeKey('', 'a'));
    expect(scopeKey('a', 'b')).not.toBe(scopeKey('a,b', ''));
    expect(kindOf('', '')).toBe(AuditScopeKind.SERVICE);
    expect(kindOf('d', '')).toBe(AuditScopeKind.DATABASE);
    expect(kindOf('', 'r')).toBe(AuditScopeKind.ROLE);
    expect(kindOf('d', 'r')).toBe(AuditScopeKind.ROLE_IN_DATABASE);
  });
});

describe('parsing what the server holds', () => {
  it('setconfig: pgaudit entries only, names lower-cased, values as they are (an = inside a value kept)', () => {
    expect([...pgauditEntries(['work_mem=4MB', 'pgaudit.log=read, write', 'PGAUDIT.ROLE=a=b', 'broken', '=x'])])
      .toEqual([['pgaudit.log', 'read, write'], ['pgaudit.role', 'a=b']]);
  });

  it('the service level: only values that differ from pgaudit\'s boot values, compared as pgaudit reads them', () => {
    const values = new Map([...boot, ['pgaudit.log', 'NONE'], ['pgaudit.log_catalog', 'true'], ['pgaudit.log_rows', 'on'], ['pgaudit.log_level', 'notice']]);
    expect([...serviceScopeValues(values, defaults)]).toEqual([['pgaudit.log_level', 'notice'], ['pgaudit.log_rows', 'on']]);
    expect(serviceScopeValues(boot, defaults).size).toBe(0);
  });

  it('a value that does not parse differs', () => {
    expect([...serviceScopeValues(new Map([['pgaudit.log', 'bogus']]), defaults)]).toEqual([['pgaudit.log', 'bogus']]);
  });

  it('values in PGAUDIT_GUCS order, unknown pgaudit names after them by name', () => {
    const v = orderedValues(new Map([['pgaudit.zz', '1'], ['pgaudit.role', 'r'], ['pgaudit.log', 'ddl'], ['pgaudit.aa', '2']]));
    expect(v.map((x) => x.setting)).toEqual(['pgaudit.log', 'pgaudit.role', 'pgaudit.aa', 'pgaudit.zz']);
    expect(PGAUDIT_GUCS.indexOf('pgaudit.log')).toBeLessThan(PGAUDIT_GUCS.indexOf('pgaudit.role'));
  });
});

describe('buildScopes', () => {
  const settings = [
    { database: 'sales', role: '', entries: ['pgaudit.log=write', 'work_mem=1MB'] },
    { database: 'tmp', role: '', entries: ['work_mem=1MB'] },   // nothing of pgaudit: not a scope
    { database: '', role: 'alice', entries: ['pgaudit.log_level=notice', 'pgaudit.log_client=on'] },
    { database: 'sales', role: 'alice', entries: ['pgaudit.log=read'] },
  ];

  it('every kind of scope, in order, with its values and effective settings (service < database < role < role in database)', () => {
    const scopes = buildScopes({ serviceValues: new Map([...boot, ['pgaudit.log', 'ddl'], ['pgaudit.log_relation', 'on']]), defaults, settings, policies: [] });
    expect(scopes.map((s) => [s.kind, s.database, s.role])).toEqual([
      [AuditScopeKind.SERVICE, null, null], [AuditScopeKind.DATABASE, 'sales', null],
      [AuditScopeKind.ROLE, null, 'alice'], [AuditScopeKind.ROLE_IN_DATABASE, 'sales', 'alice']]);
    expect(scopes[0]!.values).toEqual([{ setting: 'pgaudit.log', value: 'ddl' }, { setting: 'pgaudit.log_relation', value: 'on' }]);
    expect(scopes[0]!.settings).toMatchObject({ log: ['DDL'], logRelation: true });
    expect(scopes[1]!.settings).toMatchObject({ log: ['WRITE'], logRelation: true, logLevel: 'LOG' });
    expect(scopes[2]!.settings).toMatchObject({ log: ['DDL'], logLevel: 'NOTICE', logClient: true });
    expect(scopes[3]!.values).toEqual([{ setting: 'pgaudit.log', value: 'read' }]);
    expect(scopes[3]!.settings).toMatchObject({ log: ['READ'], logLevel: 'NOTICE', logClient: true, logRelation: true });
    expect(scopes.every((s) => !s.managed && s.policyId === null)).toBe(true);
  });

  it('no service scope when the service holds only boot values', () => {
    const scopes = buildScopes({ serviceValues: boot, defaults, settings: [], policies: [] });
    expect(scopes).toEqual([]);
  });

  it('settings null when a value cannot be read; the raw text still listed', () => {
    const [scope] = buildScopes({ serviceValues: boot, defaults, policies: [],
      settings: [{ database: 'd', role: '', entries: ['pgaudit.log_level=shout'] }] });
    expect(scope).toMatchObject({ kind: AuditScopeKind.DATABASE, values: [{ setting: 'pgaudit.log_level', value: 'shout' }], settings: null });
  });

  it('managed: an enabled policy of exactly that scope; policyId also for a disabled one; rows without role match the role-less scope', () => {
    const scopes = buildScopes({ serviceValues: new Map([...boot, ['pgaudit.log', 'ddl']]), defaults, settings, policies: [
      { id: 'p-service', database: '', enabled: true },                       // a row from before policies had roles
      { id: 'p-sales', database: 'sales', role: '', enabled: false },
      { id: 'p-alice-sales', database: 'sales', role: 'alice', enabled: true },
      { id: 'p-other', database: 'other', role: '', enabled: true },         // holds nothing on the server: not listed
    ] });
    expect(scopes.map((s) => [s.kind, s.managed, s.policyId])).toEqual([
      [AuditScopeKind.SERVICE, true, 'p-service'], [AuditScopeKind.DATABASE, false, 'p-sales'],
      [AuditScopeKind.ROLE, false, null], [AuditScopeKind.ROLE_IN_DATABASE, true, 'p-alice-sales']]);
  });

  it(`at most ${MAX_SCOPES} scopes, the service first`, () => {
    const many = Array.from({ length: MAX_SCOPES + 5 }, (_, i) => ({ database: `db${String(i).padStart(5, '0')}`, role: '', entries: ['pgaudit.log=ddl'] }));
    const scopes = buildScopes({ serviceValues: new Map([...boot, ['pgaudit.log', 'ddl']]), defaults, settings: many, policies: [] });
    expect(scopes).toHaveLength(MAX_SCOPES);
    expect(scopes[0]!.kind).toBe(AuditScopeKind.SERVICE);
    expect(scopes.at(-1)!.database).toBe(`db${String(MAX_SCOPES - 2).padStart(5, '0')}`);
  });
});
