/**
 * A service's eligibility as the live server and the caller's plan show it: the four entitlement checks, read
 * through the request's TargetLease (one connection per service per request, shared with every other field).
 * An unreachable server is not an error here: its two server checks then fail with their reasons.
 */
import { evaluateEntitlements } from '../entitlements/entitlement.checks';
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { AuditErrorCode, AuditPolicyError, isUnreachable } from './audit-policy.errors';
import type { Eligibility } from './policy.change';
import type { TargetLease } from './target/target.lease';
import type { ServerFacts } from './target/target.session';

/** What a page of services tolerates of one of them: busy or failing the TLS policy reads like unreachable, so one service never fails the page. */
const NOT_READ_IN_A_LIST: readonly AuditErrorCode[] = [AuditErrorCode.SERVICE_UNREACHABLE, AuditErrorCode.SERVICE_BUSY, AuditErrorCode.SERVICE_TLS_FAILED];

/**
 * `service` must be one the caller may see (TenancyService.serviceFor, or a page of the caller's services).
 * `inList`: one service of a page (`services`): a server that could not be read for any reason shows as not
 * reachable in its checks rather than failing the whole page; alone (`auditEligibility`) busy and TLS stay errors.
 */
export async function liveEligibility(principal: Principal, service: ServiceRecord, targets: TargetLease, inList = false): Promise<Eligibility> {
  let facts: Pick<ServerFacts, 'serverVersionNum' | 'serverVersion' | 'avnadminSuperuser'> | null = null;
  try {
    facts = await targets.with(service, (s) => s.entitlementFacts());
  } catch (err) {
    const tolerated = inList ? err instanceof AuditPolicyError && NOT_READ_IN_A_LIST.includes(err.code) : isUnreachable(err);
    if (!tolerated) throw err;
  }
  const checks = evaluateEntitlements({ proPlatform: service.proPlatform, proFeatures: service.proFeatures,
    callerRole: principal.databaseRole, server: facts });
  return { eligible: checks.every((c) => c.satisfied), checks };
}
