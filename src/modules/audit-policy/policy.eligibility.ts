/**
 * A service's eligibility as the live server and the caller's plan show it: the four entitlement checks, read
 * through the request's TargetLease (one connection per service per request, shared with every other field).
 * An unreachable server is not an error here: its two server checks then fail with their reasons.
 */
import { evaluateEntitlements } from '../entitlements/entitlement.checks';
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { isUnreachable } from './audit-policy.errors';
import type { Eligibility } from './policy.change';
import type { TargetLease } from './target/target.lease';
import type { ServerFacts } from './target/target.session';

/** `service` must be one the caller may see (TenancyService.serviceFor, or a page of the caller's services). */
export async function liveEligibility(principal: Principal, service: ServiceRecord, targets: TargetLease): Promise<Eligibility> {
  let facts: ServerFacts | null = null;
  try {
    facts = await targets.with(service, (s) => s.facts());
  } catch (err) {
    if (!isUnreachable(err)) throw err;
  }
  const checks = evaluateEntitlements({ proPlatform: service.proPlatform, proFeatures: service.proFeatures,
    callerRole: principal.databaseRole, server: facts });
  return { eligible: checks.every((c) => c.satisfied), checks };
}
