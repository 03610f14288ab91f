import { AuditRequirement, evaluateEntitlements, EntitlementFacts } from './entitlement.checks';

const ok: EntitlementFacts = {
  proPlatform: true, proFeatures: true, callerRole: 'avnadmin',
  server: { serverVersionNum: 150018, serverVersion: '15.18', avnadminSuperuser: true },
};
const failing = (f: EntitlementFacts) => evaluateEntitlements(f).filter((c) => !c.satisfied).map((c) => c.requirement);

describe('evaluateEntitlements', () => {
  it('passes all four when every condition holds, in a fixed order', () => {
    const checks = evaluateEntitlements(ok);
    expect(checks.map((c) => c.requirement)).toEqual(['PRO_PLATFORM', 'PRO_FEATURES', 'POSTGRES_VERSION', 'AVNADMIN_ROLE']);
    expect(checks.every((c) => c.satisfied && c.detail.length > 0)).toBe(true);
  });
  it.each([
    [{ proPlatform: false }, [AuditRequirement.PRO_PLATFORM]],
    [{ proFeatures: false }, [AuditRequirement.PRO_FEATURES]],
    [{ callerRole: 'reporting' }, [AuditRequirement.AVNADMIN_ROLE]],
    [{ server: { serverVersionNum: 100023, serverVersion: '10.23', avnadminSuperuser: true } }, [AuditRequirement.POSTGRES_VERSION]],
    [{ server: { serverVersionNum: 110000, serverVersion: '11.0', avnadminSuperuser: true } }, []],
    [{ server: { serverVersionNum: 150000, serverVersion: '15.0', avnadminSuperuser: false } }, [AuditRequirement.AVNADMIN_ROLE]],
    [{ server: { serverVersionNum: 150000, serverVersion: '15.0', avnadminSuperuser: null } }, [AuditRequirement.AVNADMIN_ROLE]],
    [{ server: null }, [AuditRequirement.POSTGRES_VERSION, AuditRequirement.AVNADMIN_ROLE]],
    [{ proPlatform: false, proFeatures: false, callerRole: 'x' }, [AuditRequirement.PRO_PLATFORM, AuditRequirement.PRO_FEATURES, AuditRequirement.AVNADMIN_ROLE]],
  ])('%j fails exactly %j', (patch, expected) => {
    expect(failing({ ...ok, ...patch } as EntitlementFacts)).toEqual(expected);
  });
  it('explains the version it saw', () => {
    const v = evaluateEntitlements({ ...ok, server: { serverVersionNum: 100023, serverVersion: '10.23', avnadminSuperuser: true } })[2]!;
    expect(v.detail).toContain('10.23');
  });
});
