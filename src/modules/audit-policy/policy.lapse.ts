/**
 * The disable of a plan lapse (README: "Audit logging is disabled when the plan lapses"): the apply protocol of
 * a `disable` (policy.applier.ts), run by the gateway itself for one policy, with no caller:
 *   - no principal, no entitlement check (they fail by design once the plan lapsed), no SET ROLE: the service's
 *     admin URL role does it;
 *   - under the policy row lock (FOR UPDATE), in one gateway transaction: RESET of the scope's pgaudit GUCs
 *     (planReset), read-back, the previous values restored on any failure, then a revision DISABLED by actor
 *     `system` (no token) with the lapse's reason, linked into the hash chain by appendRevision;
 *   - a policy no longer enabled (a user disabled it, or this job ran already), or changed since the lapse
 *     (`lapsedAtVersion`: a user re-enabled it after the plan came back), is left alone: no revision.
 * Failures throw (unreachable, busy, apply failed ...): the caller (lapse.service.ts) keeps the job and retries it.
 */
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import type { Scope } from './apply.plan';
import { scopeSettings } from './scope.settings';
import { ApplyPlan, planStatements, PolicyApplier } from './policy.applier';
import { ACTION, ChangeRequest, LockedChange, scopeOf, targetsText, viewScope } from './policy.change';
import type { PolicyRepository, PolicyRow, RevisionRow, SettingChange } from './policy.repository';
import { diffSettings } from './settings/settings.model';
import type { TargetConnector } from './target/target.connector';
import { TargetLease } from './target/target.lease';

/** The actor of a lapse's revision. */
export const SYSTEM_ACTOR = 'system';

export type LapseDisableOutcome =
  | { kind: 'disabled'; policy: PolicyRow; revision: RevisionRow }
  /** The policy is not enabled (disabled by a user, or by an earlier run of the same job). */
  | { kind: 'notEnabled' }
  /** The policy changed since the lapse (re-enabled by a user once the plan was back): the lapse no longer applies. */
  | { kind: 'superseded' };

/** A policy row's scope: through scopeOf, so every kind of scope a row can hold is handled alike. */
export function scopeOfRow(row: Pick<PolicyRow, 'database' | 'role'>): Scope {
  return scopeOf(row.database, row.role);
}

/** The plan of a disable of a locked policy's scope: the one PolicyService makes for a user's disable. */
export type DisablePlanner = (ctx: LockedChange, policy: PolicyRow) => Promise<ApplyPlan>;

/**
 * Stands for the gateway in the ChangeContext the applier shares with user changes. It is never checked and
 * never recorded: the revision names SYSTEM_ACTOR and no token; its role is the connection's own (the
 * service's admin role), and no SET ROLE is run for it.
 */
function gatewayItself(connectingRole: string): Principal {
  return { tokenId: '', tokenName: SYSTEM_ACTOR, projectId: '', organizationId: '', databaseRole: connectingRole, scopes: [], expiresAt: null };
}

export class PolicyLapse {
  constructor(
    private readonly tenancy: Pick<TenancyService, 'serviceById'>,
    private readonly policies: PolicyRepository,
    private readonly targets: TargetConnector,
    private readonly applier: PolicyApplier,
    private readonly config: Pick<GatewayConfig, 'targetStatementTimeoutMs' | 'applyReadbackTimeoutMs'>,
    private readonly logger: Logger,
    private readonly planDisable: DisablePlanner,
  ) {}

  async disable(policyId: string, reason: string, lapsedAtVersion: number | null): Promise<LapseDisableOutcome> {
    const row = await this.policies.findById(policyId);
    if (!row) throw new Error('the policy of a lapse job does not exist');
    const settled = this.settled(row, lapsedAtVersion);
    if (settled) return settled;   // nothing to connect for
    const service = await this.tenancy.serviceById(row.serviceId);
    if (!service) throw new Error('the service of a lapse job does not exist');
    const targets = new TargetLease(this.targets);
    try {
      return await targets.with(service, async (session) => {
        const facts = await session.facts();
        const scope = scopeOfRow(row);
        const req: ChangeRequest = { operation: 'disable', principal: gatewayItself(facts.currentUser), serviceId: service.id,
          database: row.database || null, role: row.role || null, reason, logger: this.logger };
        return this.policies.transaction(async (tx) => {
          const policy = await this.policies.lockById(tx, policyId);
          if (!policy) throw new Error('the policy of a lapse job does not exist');
          const now = this.settled(policy, lapsedAtVersion);
          if (now) return now;
          const ctx: LockedChange = { req, service, session, targets, facts, database: row.database, role: row.role, scope,
            key: null, requestHash: '', tx };
          const before = await scopeSettings(session, viewScope(scope, policy.targetDatabases));
          const plan = await this.planDisable(ctx, policy);
          const statements = planStatements(plan);
          const readBack = await this.applier.apply(ctx, plan);
          const after = scope.kind === 'service' ? readBack[0]! : readBack[readBack.length - 1]!;
          const changes: SettingChange[] = diffSettings(before, after);
          if (policy.targetDatabases.length > 0) changes.push({ setting: 'pgaudit.targetDatabases', from: targetsText(policy.targetDatabases), to: null });
          const { policy: updated, revision } = await this.policies.appendRevision(tx, policy, {
            action: ACTION.disable, actor: SYSTEM_ACTOR, actorTokenId: null, reason, enabled: false, settings: after,
            changes, statements, targetDatabases: [],
          });
          this.logger.info('audit policy changed', { serviceId: service.id, database: row.database || null,
            action: revision.action, version: revision.version, actor: revision.actor, cause: 'plan lapsed' });
          return { kind: 'disabled' as const, policy: updated, revision };
        }, this.config.targetStatementTimeoutMs * 4 + this.config.applyReadbackTimeoutMs);
      });
    } finally {
      await targets.close();
    }
  }

  /** The outcome without touching the server, when the policy is already past the lapse. */
  private settled(row: PolicyRow, lapsedAtVersion: number | null): LapseDisableOutcome | null {
    if (!row.enabled) return { kind: 'notEnabled' };
    if (lapsedAtVersion !== null && row.version !== lapsedAtVersion) return { kind: 'superseded' };
    return null;
  }
}
