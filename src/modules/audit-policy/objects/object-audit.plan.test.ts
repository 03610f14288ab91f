import {
  activeAuditorRole, desiredAtoms, GrantAtom, grantChanges, grantsText, planDatabaseRole, planGrants, reservedRoleName, sameAtoms, stateOf,
} from './object-audit.plan';
import { disableKeepingAuditor, keepAuditorRole } from './object-audit.settings';
import { PGAUDIT_DEFAULTS } from '../settings/settings.model';

const atom = (relation: string, privilege: GrantAtom['privilege'], column: string | null = null, schema = 'public'): GrantAtom =>
  ({ schema, relation, privilege, column });

describe('desiredAtoms', () => {
  it('expands privileges x columns; entries naming one relation twice add up; duplicates collapse', () => {
    const atoms = desiredAtoms([
      { schema: 'public', relation: 'orders', privileges: ['UPDATE', 'SELECT'], columns: ['amount', 'note'] },
      { schema: 'public', relation: 'orders', privileges: ['DELETE', 'SELECT'], columns: null },
      { schema: 'public', relation: 'orders', privileges: ['SELECT'], columns: ['amount'] },
    ]);
    expect(atoms).toEqual([atom('orders', 'SELECT'), atom('orders', 'DELETE'), atom('orders', 'SELECT', 'amount'),
      atom('orders', 'SELECT', 'note'), atom('orders', 'UPDATE', 'amount'), atom('orders', 'UPDATE', 'note')]);
  });
  it('empty columns mean the whole relation', () => {
    expect(desiredAtoms([{ schema: 's', relation: 't', privileges: ['INSERT'], columns: [] }])).toEqual([atom('t', 'INSERT', null, 's')]);
  });
});

describe('planGrants', () => {
  it('grants only what is missing, revokes only what is no longer asked, REVOKE before GRANT, identifiers quoted', () => {
    const current = [atom('orders', 'SELECT'), atom('orders', 'DELETE'), atom('old', 'INSERT')];
    const desired = [atom('orders', 'SELECT'), atom('orders', 'UPDATE', 'amount'), atom('We"ird', 'SELECT', null, 'My Schema')];
    expect(planGrants('pgaudit_auditor', current, desired)).toEqual([
      'REVOKE INSERT ON TABLE "public"."old" FROM "pgaudit_auditor"',
      'REVOKE DELETE ON TABLE "public"."orders" FROM "pgaudit_auditor"',
      'GRANT SELECT ON TABLE "My Schema"."We""ird" TO "pgaudit_auditor"',
      'GRANT UPDATE ("amount") ON TABLE "public"."orders" TO "pgaudit_auditor"',
    ]);
  });
  it('nothing to do when the auditor holds exactly what is asked (any order)', () => {
    const a = [atom('t', 'SELECT'), atom('t', 'UPDATE', 'x')];
    expect(planGrants('a', [...a].reverse(), a)).toEqual([]);
  });
  it('groups whole-relation privileges and column lists per privilege', () => {
    expect(planGrants('a', [], desiredAtoms([{ schema: 'public', relation: 't', privileges: ['SELECT', 'INSERT', 'UPDATE'], columns: ['b', 'a'] },
      { schema: 'public', relation: 't', privileges: ['DELETE'], columns: null }]))).toEqual([
      'GRANT DELETE ON TABLE "public"."t" TO "a"',
      'GRANT SELECT ("a", "b") ON TABLE "public"."t" TO "a"',
      'GRANT INSERT ("a", "b") ON TABLE "public"."t" TO "a"',
      'GRANT UPDATE ("a", "b") ON TABLE "public"."t" TO "a"',
    ]);
  });
  it('whole relation -> some columns: the REVOKE on the relation takes the column grants with it, so they are granted again', () => {
    const current = [atom('t', 'UPDATE'), atom('t', 'UPDATE', 'x')];
    const desired = [atom('t', 'UPDATE', 'x')];
    expect(planGrants('a', current, desired)).toEqual([
      'REVOKE UPDATE ON TABLE "public"."t" FROM "a"',
      'GRANT UPDATE ("x") ON TABLE "public"."t" TO "a"',
    ]);
  });
  it('removing everything revokes every atom held', () => {
    expect(planGrants('a', [atom('t', 'SELECT'), atom('t', 'UPDATE', 'x'), atom('u', 'DELETE')], [])).toEqual([
      'REVOKE SELECT ON TABLE "public"."t" FROM "a"',
      'REVOKE UPDATE ("x") ON TABLE "public"."t" FROM "a"',
      'REVOKE DELETE ON TABLE "public"."u" FROM "a"',
    ]);
  });
  it('refuses a NUL in a name (quoteIdent)', () => {
    expect(() => planGrants('a', [], [atom('t\u0000', 'SELECT')])).toThrow(/NUL/);
  });
});

describe('state and history text', () => {
  const atoms = [atom('orders', 'UPDATE', 'amount'), atom('orders', 'SELECT'), atom('orders', 'SELECT', 'note'), atom('orders', 'INSERT', 'note'),
    atom('orders', 'UPDATE', 'note'), atom('a', 'DELETE')];
  it('stateOf is canonical and round-trips through desiredAtoms', () => {
    const state = stateOf('aud', atoms);
    expect(state).toEqual({ auditorRole: 'aud', objects: [
      { schema: 'public', relation: 'a', privileges: ['DELETE'], columns: null },
      { schema: 'public', relation: 'orders', privileges: ['SELECT'], columns: null },
      { schema: 'public', relation: 'orders', privileges: ['UPDATE'], columns: ['amount', 'note'] },
      { schema: 'public', relation: 'orders', privileges: ['SELECT', 'INSERT'], columns: ['note'] },
    ] });
    expect(sameAtoms(desiredAtoms(state.objects), atoms)).toBe(true);
    expect(stateOf('aud', [...atoms].reverse())).toEqual(state);
  });
  it('grantsText and one change per relation whose grants differ', () => {
    expect(grantsText([atom('o', 'UPDATE', 'amount'), atom('o', 'SELECT')])).toBe('SELECT, UPDATE (amount)');
    expect(grantsText([])).toBeNull();
    expect(grantChanges([atom('orders', 'SELECT'), atom('same', 'SELECT'), atom('gone', 'INSERT')],
      [atom('orders', 'SELECT'), atom('orders', 'UPDATE', 'amount'), atom('same', 'SELECT'), atom('new', 'DELETE', null, 'x')])).toEqual([
      { setting: 'object public.gone', from: 'INSERT', to: null },
      { setting: 'object public.orders', from: 'SELECT', to: 'SELECT, UPDATE (amount)' },
      { setting: 'object x.new', from: null, to: 'DELETE' },
    ]);
  });
});

describe('pgaudit.role of the database', () => {
  it('SET when the effective role differs; nothing when it is the auditor already', () => {
    expect(planDatabaseRole('sales db', 'aud', false, null, null)).toEqual([`ALTER DATABASE "sales db" SET pgaudit.role = 'aud'`]);
    expect(planDatabaseRole('d', 'aud', false, 'aud', null)).toEqual([]);
    expect(planDatabaseRole('d', "o'k", false, 'x', 'x')).toEqual([`ALTER DATABASE "d" SET pgaudit.role = 'o''k'`]);
  });
  it('removing: RESET only a database-level value that is the auditor', () => {
    expect(planDatabaseRole('d', 'aud', true, 'aud', 'aud')).toEqual([`ALTER DATABASE "d" RESET pgaudit.role`]);
    expect(planDatabaseRole('d', 'aud', true, 'aud', null)).toEqual([]);   // the service's value: not object audit's
    expect(planDatabaseRole('d', 'aud', true, 'other', 'other')).toEqual([]);
  });
  it('reserved names and the active auditor of a stored state', () => {
    expect(['pg_monitor', 'public', 'NONE', 'current_user'].every(reservedRoleName)).toBe(true);
    expect(reservedRoleName('pgaudit_auditor')).toBe(false);
    expect(activeAuditorRole({ auditorRole: 'a', objects: [{}] })).toBe('a');
    expect(activeAuditorRole({ auditorRole: 'a', objects: [] })).toBeNull();
    expect(activeAuditorRole(null)).toBeNull();
  });
});

describe('the settings policy keeps the auditor', () => {
  const db = { kind: 'database' as const, database: 'd' };
  const stored = { auditorRole: 'aud', objects: [{ schema: 'public', relation: 't', privileges: ['SELECT'], columns: null }] };
  it('enable/configure without role keep pgaudit.role; with role, the caller wins; the service scope is never touched', () => {
    expect(keepAuditorRole(db, { log: ['READ'] }, PGAUDIT_DEFAULTS, stored).role).toBe('aud');
    expect(keepAuditorRole(db, null, PGAUDIT_DEFAULTS, stored).role).toBe('aud');
    expect(keepAuditorRole(db, { role: 'other' }, { ...PGAUDIT_DEFAULTS, role: 'other' }, stored).role).toBe('other');
    expect(keepAuditorRole({ kind: 'service' }, null, PGAUDIT_DEFAULTS, stored).role).toBeNull();
    expect(keepAuditorRole(db, null, PGAUDIT_DEFAULTS, { auditorRole: 'aud', objects: [] }).role).toBeNull();
  });
  it('disable RESETs all but pgaudit.role, and SETs it back when the database holds another value', () => {
    const gucs = new Set(['pgaudit.log', 'pgaudit.role']);
    const k = disableKeepingAuditor(db, new Map([['pgaudit.role', 'aud']]), PGAUDIT_DEFAULTS, gucs, stored)!;
    expect([...k.resetGucs]).toEqual(['pgaudit.log']);
    expect(k.keep).toEqual([]);
    expect(k.expected.role).toBe('aud');
    expect(disableKeepingAuditor(db, new Map(), PGAUDIT_DEFAULTS, gucs, stored)!.keep).toEqual([`ALTER DATABASE "d" SET pgaudit.role = 'aud'`]);
    expect(disableKeepingAuditor(db, new Map(), PGAUDIT_DEFAULTS, gucs, null)).toBeNull();
  });
});
