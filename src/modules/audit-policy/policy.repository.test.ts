import { policySummariesOf } from './policy.repository';

/** A row as to_jsonb(audit_policy) gives it, with the revision's action added (SERVICE_POLICIES). */
const json = (over: Record<string, unknown>) => ({ id: 'p1', service_id: 's1', database: '', enabled: true, version: 2,
  settings: { log: ['DDL'] }, updated_at: '2026-11-30T05:50:42.23+00:00', updated_by: 'token:t as avnadmin', last_action: 'CONFIGURED', ...over });

describe('policySummariesOf (the JSON of SERVICE_POLICIES)', () => {
  it('reads rows before audit_policy has a role column (role "") and after (its role), sorted by database then role', () => {
    const rows = policySummariesOf([json({ id: 'b', database: 'sales', role: 'bob' }), json({ id: 'svc' }),
      json({ id: 'a', database: 'sales', role: '' }), json({ id: 'r', role: 'alice', target_databases: null })]);
    expect(rows.map((r) => [r.id, r.database, r.role])).toEqual([['svc', '', ''], ['r', '', 'alice'], ['a', 'sales', ''], ['b', 'sales', 'bob']]);
    expect(rows[0]).toEqual({ id: 'svc', database: '', role: '', enabled: true, version: 2,
      updatedAt: new Date('2026-11-30T05:50:42.230Z'), updatedBy: 'token:t as avnadmin', lastAction: 'CONFIGURED' });
  });

  it('a missing revision: no action; no policies: none', () => {
    expect(policySummariesOf([json({ last_action: null })])[0]!.lastAction).toBeNull();
    expect(policySummariesOf([])).toEqual([]);
    expect(policySummariesOf(null)).toEqual([]);
  });
});
