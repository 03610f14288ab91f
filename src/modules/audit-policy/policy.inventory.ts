/**
 * What is configured, seen from the gateway (README: "What is configured"):
 *  - services: one page of the caller's project's services with every policy of each, from ONE gateway-database
 *    query (TenancyRepository.servicePage bringing SERVICE_POLICIES), and the audit status computed from those
 *    rows (inventory.status.ts); no target connection. Eligibility is read from the live server only when
 *    asked, through the request's TargetLease (at most one connection per service per request).
 *  - scopes: every scope of ONE live server holding pgaudit settings, set through the gateway or by hand
 *    (inventory.scopes.ts), each marked managed when an enabled gateway policy has exactly that scope.
 */
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { TenancyService } from '../tenancy/tenancy.service';
import { buildScopes, MAX_SCOPES, ScopeView } from './inventory.scopes';
import { auditStatus, AuditStatus } from './inventory.status';
import type { Eligibility } from './policy.change';
import { liveEligibility } from './policy.eligibility';
import { policySummariesOf, PolicyRepository, PolicySummaryRow, SERVICE_POLICIES } from './policy.repository';
import { pgauditDefaultsFor } from './settings/settings.model';
import type { TargetLease } from './target/target.lease';

/** One service as the inventory lists it; `service` is for the live fields (eligibility) and never shown. */
export interface InventoryService {
  id: string;
  name: string;
  audit: AuditStatus;
  policies: PolicySummaryRow[];
  service: ServiceRecord;
}

export interface InventoryPage { services: InventoryService[]; hasNextPage: boolean; totalCount: number }

export class PolicyInventory {
  constructor(private readonly tenancy: TenancyService, private readonly policies: PolicyRepository) {}

  /** A page of the caller's services in (name, id) order after the service `afterId`; `first` 1 to 100. */
  async services(principal: Principal, first: number, afterId: string | null): Promise<InventoryPage> {
    const page = await this.tenancy.servicePage(principal, first, afterId, SERVICE_POLICIES);
    return {
      services: page.rows.map(({ service, related }) => {
        const policies = policySummariesOf(related);
        return { id: service.id, name: service.name, audit: auditStatus(policies), policies, service };
      }),
      hasNextPage: page.hasNextPage,
      totalCount: page.totalCount,
    };
  }

  /** The four checks on the live server, for a service of a page the caller was given. */
  eligibility(principal: Principal, service: ServiceRecord, targets: TargetLease): Promise<Eligibility> {
    return liveEligibility(principal, service, targets, true);
  }

  /**
   * Every scope of the service's live server holding pgaudit settings (at most MAX_SCOPES). NOT_FOUND for a
   * service the caller cannot see; an unreachable or busy server is refused as auditPolicy's reads are (the
   * coded SERVICE_UNREACHABLE / SERVICE_BUSY / SERVICE_TLS_FAILED, mapped by the API layer).
   */
  async scopes(principal: Principal, serviceId: string, targets: TargetLease): Promise<ScopeView[]> {
    const service = await this.tenancy.serviceFor(principal, serviceId);
    const [live, policies] = await Promise.all([
      targets.with(service, async (s) => {
        const facts = await s.facts();
        return { facts, serviceValues: await s.serviceSettings(), settings: await s.roleDatabaseSettings(MAX_SCOPES) };
      }),
      this.policies.policySummaries(service.id),
    ]);
    return buildScopes({ serviceValues: live.serviceValues, defaults: pgauditDefaultsFor(live.facts),
      settings: live.settings, policies });
  }
}
