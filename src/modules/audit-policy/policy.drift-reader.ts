/**
 * Reads what a policy's scope holds now and compares it with what the gateway left there (policy.drift.ts):
 * for a request (`AuditPolicy.drift`, on the request's one connection per service) and for the drift monitor
 * (one connection per service at a time, through the connector's slots).
 */
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { TenancyService } from '../tenancy/tenancy.service';
import { isUnreachable } from './audit-policy.errors';
import type { Scope } from './apply.plan';
import { scopeOf } from './policy.change';
import { DriftReport, NOT_CHECKED, policyDrift } from './policy.drift';
import type { PolicyRepository, PolicyRow } from './policy.repository';
import type { TargetConnector } from './target/target.connector';
import type { TargetLease } from './target/target.lease';
import type { TargetSession } from './target/target.session';
import { scopeAndInheritedSettings } from './scope.settings';

/** A policy as the drift field sees it (its GraphQL root). */
export interface DriftSubject { id: string; serviceId: string; version: number }

export class PolicyDriftReader {
  /** Per request (its lease), per policy version: `drift` and `driftChecked` share one read. */
  private readonly memo = new WeakMap<TargetLease, Map<string, Promise<DriftReport>>>();

  constructor(
    private readonly tenancy: TenancyService,
    private readonly policies: PolicyRepository,
    private readonly connector: TargetConnector,
  ) {}

  /** The drift of a policy the caller may see, on the request's connection; NOT_CHECKED when the service is unreachable. */
  forRequest(principal: Principal, policy: DriftSubject, targets: TargetLease): Promise<DriftReport> {
    let perRequest = this.memo.get(targets);
    if (!perRequest) { perRequest = new Map(); this.memo.set(targets, perRequest); }
    const key = `${policy.id}@${policy.version}`;
    let report = perRequest.get(key);
    if (!report) {
      report = this.readForRequest(principal, policy, targets);
      perRequest.set(key, report);
    }
    return report;
  }

  private async readForRequest(principal: Principal, policy: DriftSubject, targets: TargetLease): Promise<DriftReport> {
    const service = await this.tenancy.serviceFor(principal, policy.serviceId);
    const row = await this.policies.findById(policy.id);
    if (!row || row.serviceId !== service.id || !row.settings) return NOT_CHECKED;
    try {
      return await targets.with(service, (s) => driftOn(s, row));
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      return NOT_CHECKED;
    }
  }

  // ---- the monitor (policy.drift-monitor.ts) ---------------------------------------------------------

  /** Every enabled policy, grouped by service id (in a stable order). */
  async enabledByService(): Promise<Map<string, PolicyRow[]>> {
    const byService = new Map<string, PolicyRow[]>();
    for (const row of await this.policies.enabledPolicies()) {
      const list = byService.get(row.serviceId) ?? [];
      list.push(row);
      byService.set(row.serviceId, list);
    }
    return byService;
  }

  /** The service's record (operator lookup, no caller), or null if it was removed. */
  service(serviceId: string): Promise<ServiceRecord | null> {
    return this.tenancy.serviceById(serviceId);
  }

  /** One connection to the service (one of its slots, waited for up to the connect timeout): each policy's drift on it. */
  checkService(service: ServiceRecord, rows: readonly PolicyRow[]): Promise<DriftReport[]> {
    return this.connector.with(service, undefined, async (s) => {
      const reports: DriftReport[] = [];
      for (const row of rows) reports.push(await driftOn(s, row));
      return reports;
    });
  }

  /** Whether the policy is still at `version` (a change that raced a check makes its drift stale). */
  async stillAt(policyId: string, version: number): Promise<boolean> {
    return (await this.policies.findById(policyId))?.version === version;
  }
}

/**
 * What the policy's scope holds now against what the gateway left there. A service-level policy with target
 * databases is read where it applies, database by database: the first one that drifted is reported.
 */
async function driftOn(session: TargetSession, row: PolicyRow): Promise<DriftReport> {
  const scope = scopeOf(row.database, row.role);
  const targets = row.enabled ? row.targetDatabases : [];
  const places: Scope[] = targets.length > 0 ? targets.map((database) => ({ kind: 'database', database })) : [scope];
  let report: DriftReport | null = null;
  for (const place of places) {
    const { settings, inherited } = await scopeAndInheritedSettings(session, place);   // one read: a layer above may move meanwhile
    report = policyDrift(row, scope, settings, inherited);
    if (report.drift.length > 0) break;
  }
  return report!;
}
