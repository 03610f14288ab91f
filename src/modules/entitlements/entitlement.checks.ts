/**
 * The four conditions for audit logging, as data: each check says whether it holds and why.
 * Pure: the caller gathers the facts (registry + live server); the eligibility query shows the
 * result and the mutations refuse with the code of every failing check.
 */
export enum AuditRequirement {
  PRO_PLATFORM = 'PRO_PLATFORM',
  PRO_FEATURES = 'PRO_FEATURES',
  POSTGRES_VERSION = 'POSTGRES_VERSION',
  AVNADMIN_ROLE = 'AVNADMIN_ROLE',
}

export interface EntitlementCheckResult {
  requirement: AuditRequirement;
  satisfied: boolean;
  detail: string;
}

export const MIN_SERVER_VERSION_NUM = 110000;
export const SUPERUSER_ROLE = 'avnadmin';

export interface EntitlementFacts {
  proPlatform: boolean;
  proFeatures: boolean;
  callerRole: string;
  /** null when the live server could not be reached. */
  server: { serverVersionNum: number; serverVersion: string; avnadminSuperuser: boolean | null } | null;
}

export function evaluateEntitlements(f: EntitlementFacts): EntitlementCheckResult[] {
  const unreachable = 'the PostgreSQL service could not be reached to check this';
  const version = f.server === null
    ? { satisfied: false, detail: unreachable }
    : f.server.serverVersionNum >= MIN_SERVER_VERSION_NUM
      ? { satisfied: true, detail: `PostgreSQL ${f.server.serverVersion} (11 or newer is required)` }
      : { satisfied: false, detail: `PostgreSQL ${f.server.serverVersion} is older than 11, the oldest version with audit logging` };
  const role = f.callerRole !== SUPERUSER_ROLE
    ? { satisfied: false, detail: `the caller acts as role "${f.callerRole}"; audit logging is managed as ${SUPERUSER_ROLE}` }
    : f.server === null
      ? { satisfied: false, detail: unreachable }
      : f.server.avnadminSuperuser === null
        ? { satisfied: false, detail: `the service has no ${SUPERUSER_ROLE} role` }
        : f.server.avnadminSuperuser
          ? { satisfied: true, detail: `the caller acts as ${SUPERUSER_ROLE}, a superuser on the service` }
          : { satisfied: false, detail: `${SUPERUSER_ROLE} is not a superuser on the service` };
  return [
    { requirement: AuditRequirement.PRO_PLATFORM, satisfied: f.proPlatform,
      detail: f.proPlatform ? 'the organization has Pro Platform' : 'the organization does not have Pro Platform' },
    { requirement: AuditRequirement.PRO_FEATURES, satisfied: f.proFeatures,
      detail: f.proFeatures ? 'the project has Pro Features' : 'the project does not have Pro Features' },
    { requirement: AuditRequirement.POSTGRES_VERSION, ...version },
    { requirement: AuditRequirement.AVNADMIN_ROLE, ...role },
  ];
}
