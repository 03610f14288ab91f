import { auditStatus, StatusRow } from './inventory.status';

const row = (over: Partial<StatusRow>): StatusRow => ({ database: '', enabled: true, version: 1,
  updatedAt: new Date('2026-11-01T00:00:00Z'), updatedBy: 'tok (avnadmin)', lastAction: 'ENABLED', ...over });

describe('auditStatus (from the policy rows alone)', () => {
  it('no policy: not enabled, no last change', () => {
    expect(auditStatus([])).toEqual({ enabled: false, enabledScopes: 0, lastChange: null });
  });

  it('counts enabled scopes; rows without a history (version 0) do not count', () => {
    const s = auditStatus([row({}), row({ database: 'a', enabled: false, lastAction: 'DISABLED', version: 2 }),
      row({ database: 'b' }), row({ database: 'c', version: 0, enabled: true })]);
    expect(s.enabled).toBe(true);
    expect(s.enabledScopes).toBe(2);
  });

  it('only disabled policies: not enabled, the last change still shown', () => {
    const s = auditStatus([row({ enabled: false, version: 2, lastAction: 'DISABLED' })]);
    expect(s).toMatchObject({ enabled: false, enabledScopes: 0, lastChange: { action: 'DISABLED', version: 2, database: null, role: null } });
  });

  it('the last change is the most recently updated policy, with its scope (database, role) and last action', () => {
    const s = auditStatus([
      row({ updatedAt: new Date('2026-11-01T00:00:00Z') }),
      row({ database: 'sales', role: 'alice', version: 3, lastAction: 'CONFIGURED', updatedBy: 'b (avnadmin)', updatedAt: new Date('2026-11-03T00:00:00Z') }),
      row({ database: 'hr', updatedAt: new Date('2026-11-02T00:00:00Z') }),
    ]);
    expect(s.lastChange).toEqual({ at: new Date('2026-11-03T00:00:00Z'), actor: 'b (avnadmin)', action: 'CONFIGURED',
      database: 'sales', role: 'alice', version: 3 });
  });

  it('ties on time: the higher version, then the scope, whatever the input order', () => {
    const a = row({ database: 'a', version: 2 });
    const b = row({ database: 'b', version: 5 });
    const c = row({ database: 'c', version: 5 });
    expect(auditStatus([a, b, c]).lastChange!.database).toBe('b');
    expect(auditStatus([c, b, a]).lastChange!.database).toBe('b');
  });

  it('rows without a role (before policies had roles) and a missing revision', () => {
    const s = auditStatus([{ ...row({ lastAction: null }), role: undefined }]);
    expect(s.lastChange).toMatchObject({ role: null, action: null });
  });
});
