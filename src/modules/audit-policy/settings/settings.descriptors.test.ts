import {
  AuditSettingsValue, changedGucs, gucTextMatches, PGAUDIT_DEFAULTS, PGAUDIT_GUCS, sameSetting, SETTING_LIST, SETTINGS, settingOfGuc,
} from './settings.model';

const settings = (over: Partial<AuditSettingsValue> = {}): AuditSettingsValue => ({ ...PGAUDIT_DEFAULTS, ...over });

describe('the SETTINGS table', () => {
  it('has one row per model field, each GUC once in PGAUDIT_GUCS, in table order', () => {
    expect(SETTING_LIST.map((d) => d.field)).toEqual(Object.keys(PGAUDIT_DEFAULTS));
    expect(new Set(PGAUDIT_GUCS).size).toBe(PGAUDIT_GUCS.length);
    expect(PGAUDIT_GUCS).toEqual([...new Set(SETTING_LIST.map((d) => d.guc))]);
  });

  it('rows sharing a GUC share its kind (only pgaudit.log has two)', () => {
    for (const d of SETTING_LIST) expect(settingOfGuc(d.guc).kind).toBe(d.kind);
    expect(SETTING_LIST.filter((d) => d.guc === 'pgaudit.log').map((d) => d.field)).toEqual(['log', 'logExclude']);
  });

  it('PGAUDIT_DEFAULTS are the table defaults', () => {
    for (const d of SETTING_LIST) expect(PGAUDIT_DEFAULTS[d.field]).toEqual(d.default);
    expect(SETTINGS.logParameterMaxSize.since).toEqual({ pgaudit: '16', postgres: 16 });
  });
});

describe('typed comparison', () => {
  it('sameSetting: class lists regardless of order and duplicates, role "" = null, null size differs from 0', () => {
    expect(sameSetting(SETTINGS.log, settings({ log: ['DDL', 'READ'] }), settings({ log: ['READ', 'DDL', 'READ'] }))).toBe(true);
    expect(sameSetting(SETTINGS.log, settings({ log: ['ALL'] }), settings({ log: ['ALL', 'READ'] }))).toBe(false);
    expect(sameSetting(SETTINGS.role, settings({ role: '' }), settings({ role: null }))).toBe(true);
    expect(sameSetting(SETTINGS.role, settings({ role: 'a' }), settings({ role: 'A' }))).toBe(false);
    expect(sameSetting(SETTINGS.logParameterMaxSize, settings({ logParameterMaxSize: null }), settings({ logParameterMaxSize: 0 }))).toBe(false);
  });

  it('changedGucs names a shared GUC once, in PGAUDIT_GUCS order', () => {
    expect(changedGucs(settings({ role: 'x', logExclude: ['MISC'], log: ['ALL'] }), settings())).toEqual(['pgaudit.log', 'pgaudit.role']);
    expect(changedGucs(settings(), settings())).toEqual([]);
  });

  it('gucTextMatches reads the server text as PostgreSQL does', () => {
    expect(gucTextMatches('pgaudit.log', ' WRITE, read', settings({ log: ['READ', 'WRITE'] }))).toBe(true);
    expect(gucTextMatches('pgaudit.log_rows', 'tr', settings({ logRows: true }))).toBe(true);
    expect(gucTextMatches('pgaudit.log_level', 'debug', settings({ logLevel: 'DEBUG2' }))).toBe(true);
    expect(gucTextMatches('pgaudit.role', '', settings({ role: null }))).toBe(true);
    expect(gucTextMatches('pgaudit.log', 'read;write', settings())).toBe(false);
    expect(gucTextMatches('pgaudit.log_parameter_max_size', '64', settings({ logParameterMaxSize: 0 }))).toBe(false);
  });
});
