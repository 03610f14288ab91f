import { appliedSettings, driftSummary, policyDrift, settingsDrift } from './policy.drift';
import { AuditSettingsValue, PGAUDIT_DEFAULTS, PREDEFINED_SETTINGS, settingsFromGucs } from './settings/settings.model';

const service = { kind: 'service' } as const;
const database = { kind: 'database', database: 'sales' } as const;
const live = (gucs: Record<string, string>): AuditSettingsValue => settingsFromGucs(new Map(Object.entries(gucs)));
const applied: AuditSettingsValue = { ...PREDEFINED_SETTINGS, logParameterMaxSize: null };

describe('settingsDrift (typed comparison)', () => {
  it('agreeing settings are no drift, whatever the order, duplicates, case or spelling on the server', () => {
    const server = live({ 'pgaudit.log': ' DDL, write ,role,ddl', 'pgaudit.log_catalog': 'of', 'pgaudit.log_relation': 'TRUE', 'pgaudit.role': '' });
    expect(settingsDrift(applied, { ...server, logParameterMaxSize: null })).toEqual([]);
  });

  it('lists exactly the settings that differ, in PGAUDIT_GUCS order, with canonical applied and live text', () => {
    const server = { ...applied, logParameter: true, log: ['READ' as const, 'WRITE' as const], logExclude: ['MISC' as const] };
    expect(settingsDrift(applied, server)).toEqual([
      { setting: 'pgaudit.log', applied: 'write,role,ddl', live: 'read,write,-misc' },
      { setting: 'pgaudit.log_parameter', applied: 'off', live: 'on' },
    ]);
  });

  it('role: empty and null are the same; another role is drift', () => {
    expect(settingsDrift({ ...applied, role: null }, { ...applied, role: '' as unknown as null })).toEqual([]);
    expect(settingsDrift({ ...applied, role: null }, { ...applied, role: 'auditor' })).toEqual([{ setting: 'pgaudit.role', applied: '', live: 'auditor' }]);
  });

  it('log_parameter_max_size absent (null) on both sides is no drift', () => {
    expect(settingsDrift({ ...applied, logParameterMaxSize: null }, { ...applied, logParameterMaxSize: null })).toEqual([]);
  });
});

describe('appliedSettings / policyDrift', () => {
  const inherited = { ...PGAUDIT_DEFAULTS, log: ['DDL' as const] };

  it('an enabled policy: its last revision\'s settings, at any scope', () => {
    expect(appliedSettings({ enabled: true, settings: applied }, service, inherited)).toBe(applied);
    expect(appliedSettings({ enabled: true, settings: applied }, database, inherited)).toBe(applied);
  });

  it('a disabled service policy: what disable read back (the defaults)', () => {
    expect(appliedSettings({ enabled: false, settings: PGAUDIT_DEFAULTS }, service, inherited)).toBe(PGAUDIT_DEFAULTS);
  });

  it('a disabled database policy: what it inherits now; a value it holds itself is drift', () => {
    const policy = { enabled: false, settings: applied };
    expect(appliedSettings(policy, database, inherited)).toBe(inherited);
    expect(policyDrift(policy, database, inherited, inherited)).toEqual({ checked: true, drift: [] });
    expect(policyDrift(policy, database, { ...inherited, logRows: true }, inherited).drift)
      .toEqual([{ setting: 'pgaudit.log_rows', applied: 'off', live: 'on' }]);
  });

  it('a policy never applied has no drift', () => {
    expect(appliedSettings({ enabled: false, settings: null }, service, inherited)).toBeNull();
    expect(policyDrift({ enabled: false, settings: null }, service, { ...inherited, logRows: true }, inherited)).toEqual({ checked: true, drift: [] });
  });

  it('the log summary names settings only, bounded', () => {
    const drift = settingsDrift(applied, { ...applied, logParameter: true, role: 'secret_role_name' });
    expect(driftSummary(drift)).toEqual(['pgaudit.log_parameter', 'pgaudit.role']);
    expect(driftSummary(drift, 1)).toEqual(['pgaudit.log_parameter']);
  });
});
