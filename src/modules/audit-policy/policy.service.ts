/**
 * The control path. One change (enable, configure, disable) runs in this order:
 *   1. the service, visible to the caller's project only (else SERVICE_NOT_FOUND);
 *   2. an idempotency replay, if the key was used before (policy.idempotency.ts);
 *   3. the live server: facts -> the four entitlement checks -> pgaudit loaded -> database exists;
 *   4. in ONE gateway transaction, holding the policy row FOR UPDATE (and the idempotency key):
 *      version check -> current settings read from the server -> desired settings -> validation ->
 *      plan -> apply on the server -> read back (policy.applier.ts) -> revision + policy + idempotency record -> commit.
 * Any refusal throws an AuditPolicyError inside the transaction, so it rolls back and the server is untouched.
 * A failure during apply or read-back restores the server's previous values before refusing with
 * APPLY_FAILED, so the history never claims a change the server does not have.
 */
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import { evaluateEntitlements } from '../entitlements/entitlement.checks';
import { actorName, Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { TenancyService } from '../tenancy/tenancy.service';
import type { CredentialVault } from '../tenancy/service-credential';
import { AuditErrorCode, AuditPolicyError, clip, isUnreachable, refuse, REFUSAL_OF_REQUIREMENT } from './audit-policy.errors';
import { gucsOfPatch, planReset, planSet } from './apply.plan';
import { PolicyApplier } from './policy.applier';
import { LapseDisableOutcome, PolicyLapse } from './policy.lapse';
import { ChainVerdict, verifyChain } from './policy.history-chain';
import {
  ACTION, ChangeContext, ChangeRequest, ChangeResult, effectiveSettings, Eligibility, isDatabaseName, LockedChange, PolicyView,
  refused, scopeOf, SettingsSource, view,
} from './policy.change';
import { fingerprint, Idempotency } from './policy.idempotency';
import type { PolicyRepository } from './policy.repository';
import {
  AuditSettingsValue, diffSettings, mergeSettings, normalizeSettings, PGAUDIT_GUCS, pgauditDefaultsFor, predefinedSettingsFor,
  validateSettings,
} from './settings/settings.model';
import { TargetConnectionRecorder, TargetConnector } from './target/target.connector';
import { TargetLease } from './target/target.lease';
import type { ServerFacts } from './target/target.session';

const settingsField = (field: string) => ['input', 'settings', field];

export class PolicyService {
  private readonly targets: TargetConnector;
  private readonly applier: PolicyApplier;
  private readonly idempotency: Idempotency;
  private readonly lapse: PolicyLapse;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly policies: PolicyRepository,
    private readonly config: Pick<GatewayConfig, 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs' | 'targetLockTimeoutMs' | 'targetMaxConnectionsPerService' | 'applyReadbackTimeoutMs' | 'targetTls'>,
    private readonly logger: Logger,
    vault: Pick<CredentialVault, 'open'>,
    targetRecorder?: TargetConnectionRecorder,
  ) {
    this.targets = new TargetConnector(config, vault, targetRecorder);
    this.applier = new PolicyApplier(config, logger);
    this.idempotency = new Idempotency(policies);
    this.lapse = new PolicyLapse(tenancy, policies, this.targets, this.applier, config, logger);
  }

  /** What one request will hold of the targets: one connection per service, shared by its fields (close it at the end). */
  requestTargets(): TargetLease { return new TargetLease(this.targets); }

  // ---- queries ---------------------------------------------------------------------------------

  async eligibility(principal: Principal, serviceId: string, targets: TargetLease): Promise<Eligibility> {
    const service = await this.tenancy.serviceFor(principal, serviceId);
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

  /** The policy of a scope with the settings the server holds now (or the last applied ones if it is unreachable). */
  async policy(principal: Principal, serviceId: string, database: string | null | undefined, targets: TargetLease): Promise<PolicyView | null> {
    const service = await this.tenancy.serviceFor(principal, serviceId);
    if (database != null && !isDatabaseName(database)) return null;
    const row = await this.policies.find(service.id, database ?? '');
    if (!row || row.settings === null) return null;
    try {
      const live = await targets.with(service, (s) => this.applier.readScope(s, scopeOf(row.database)));
      return view(row, live, SettingsSource.SERVER);
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      return view(row, row.settings, SettingsSource.LAST_APPLIED);
    }
  }

  async history(policyId: string, first: number, beforeVersion: number | null) {
    return this.policies.revisions(policyId, first, beforeVersion);
  }

  /** The policy's hash chain verified against its current version (README: A history that proves it was not edited). */
  async historyIntegrity(policyId: string, currentVersion: number): Promise<ChainVerdict> {
    return verifyChain(await this.policies.chain(policyId), currentVersion);
  }

  /** Every policy with a history (of one service, or all): `admin verify-history`, no principal (operator tool). */
  async verifyHistories(serviceId: string | null): Promise<(ChainVerdict & { policyId: string; serviceId: string; database: string | null })[]> {
    const policies = await this.policies.policiesWithHistory(serviceId);
    const verdicts = [];
    for (const p of policies) {
      verdicts.push({ policyId: p.id, serviceId: p.serviceId, database: p.database === '' ? null : p.database,
        ...(await this.historyIntegrity(p.id, p.version)) });
    }
    return verdicts;
  }

  // ---- plan lapse (policy.lapse.ts) -----------------------------------------------------------------

  /**
   * Disables one policy because its plan lapsed: the apply protocol of a disable, run by the gateway itself
   * (no caller, no entitlement check, the service's admin role), recorded as actor `system` with `reason`.
   * A policy no longer enabled, or changed since `lapsedAtVersion`, is left alone. Throws when the server
   * cannot be changed now (the lapse job is retried).
   */
  disableForLapse(policyId: string, reason: string, lapsedAtVersion: number | null = null): Promise<LapseDisableOutcome> {
    return this.lapse.disable(policyId, reason, lapsedAtVersion);
  }

  // ---- the change --------------------------------------------------------------------------------

  async change(req: ChangeRequest, targets: TargetLease): Promise<ChangeResult> {
    const service = await this.tenancy.serviceFor(req.principal, req.serviceId);
    const database = req.database ?? '';
    const key = req.dryRun ? null : (req.idempotencyKey ?? null);
    const requestHash = fingerprint(req);
    if (key) {
      const replay = await this.idempotency.replay(req, key, requestHash);
      if (replay) return replay;
    }
    try {
      return await targets.with(service, async (session) => {
        const facts = await session.facts();
        this.checkServer(service, req, facts);
        if (req.database != null && (!isDatabaseName(req.database) || !(await session.databaseExists(req.database)))) {
          throw refuse(AuditErrorCode.DATABASE_NOT_FOUND, `database "${clip(database)}" does not exist on this service`, ['input', 'database']);
        }
        await session.actAs(req.principal.databaseRole);
        const ctx: ChangeContext = { req, service, session, targets, facts, database, scope: scopeOf(database), key, requestHash };
        return this.policies.transaction(async (tx) => {
          if (key) {
            await this.idempotency.lock(tx, req, key);
            const replay = await this.idempotency.replay(req, key, requestHash, tx);
            if (replay) return replay;
          }
          return this.changeLocked({ ...ctx, tx });
        }, this.config.targetStatementTimeoutMs * 4 + this.config.applyReadbackTimeoutMs);
      });
    } catch (err) {
      if (err instanceof AuditPolicyError) return refused(err.userErrors);
      throw err;
    }
  }

  /** The four entitlement checks (every failing one reported), then pgaudit on the server. */
  private checkServer(service: ServiceRecord, req: ChangeRequest, facts: ServerFacts): void {
    const failing = evaluateEntitlements({ proPlatform: service.proPlatform, proFeatures: service.proFeatures,
      callerRole: req.principal.databaseRole, server: facts }).filter((c) => !c.satisfied);
    if (failing.length > 0) {
      throw new AuditPolicyError(failing.map((c) => ({ code: REFUSAL_OF_REQUIREMENT[c.requirement], message: c.detail, field: null })));
    }
    if (!facts.pgauditLoaded) {
      throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, 'pgaudit is not loaded on this service (shared_preload_libraries does not include pgaudit)');
    }
    if (req.operation === 'enable' && !facts.pgauditAvailable) {
      throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, 'the pgaudit extension is not installed on this service');
    }
  }

  /** Inside the transaction: everything from the version check to the revision. */
  private async changeLocked(ctx: LockedChange): Promise<ChangeResult> {
    const { req, service, session, facts, database, scope, tx } = ctx;
    const policy = req.dryRun
      ? (await this.policies.find(service.id, database, tx)) ?? null
      : await this.policies.lock(tx, service.id, database);
    const version = policy?.version ?? 0;
    if (req.expectedVersion != null && req.expectedVersion !== version) {
      throw refuse(AuditErrorCode.VERSION_CONFLICT,
        `the policy is at version ${version}, not ${req.expectedVersion}: read it again and retry`, ['input', 'expectedVersion']);
    }
    const enabled = policy?.enabled ?? false;
    if (req.operation !== 'enable' && !enabled) {
      throw refuse(AuditErrorCode.NOT_ENABLED, `audit logging is not enabled for this ${database ? 'database' : 'service'}`);
    }

    const serviceValues = await session.serviceSettings();
    // what the scope holds: compared with the desired values to plan, and put back if the apply fails
    const explicit = scope.kind === 'service' ? serviceValues : await session.databaseSettings(database);
    const restorable = scope.kind === 'service' ? await session.systemSettings() : explicit;
    const before = effectiveSettings(serviceValues, scope.kind === 'service' ? new Map() : explicit);
    const desired = desiredSettings(req, before, facts);
    await this.validate(ctx, desired);

    const gucs = req.operation === 'enable' ? [...PGAUDIT_GUCS] : gucsOfPatch(req.settings ?? {});
    const statements = req.operation === 'disable'
      ? planReset(scope, facts.gucs)
      : planSet(scope, explicit, desired, gucs, facts.gucs);
    const extension = req.operation === 'enable' && !(await this.applier.extensionInstalled(ctx))
      ? ['CREATE EXTENSION IF NOT EXISTS pgaudit'] : [];
    const all = [...extension, ...statements];
    const current = policy && policy.settings ? view(policy, before, SettingsSource.SERVER) : null;

    if (req.dryRun) return { policy: current, revision: null, statements: all, userErrors: [] };
    if (all.length === 0 && enabled && req.operation !== 'disable') {   // nothing to change: no revision, but the key is spent
      if (ctx.key) await this.idempotency.save(tx, req, ctx.key, ctx.requestHash, { policyId: policy?.id ?? null, revisionId: null, statements: [] });
      return { policy: current, revision: null, statements: [], userErrors: [] };
    }

    const expected = req.operation === 'disable'
      ? (scope.kind === 'service' ? pgauditDefaultsFor(facts) : effectiveSettings(serviceValues, new Map()))
      : desired;
    const after = await this.applier.apply(ctx, { extension, statements, expected, explicitBefore: restorable,
      gucs: req.operation === 'disable' ? PGAUDIT_GUCS : gucs });

    const { policy: updated, revision } = await this.policies.appendRevision(tx, policy!, {
      action: ACTION[req.operation], actor: actorName(req.principal), actorTokenId: req.principal.tokenId,
      reason: req.reason ?? null, enabled: req.operation !== 'disable', settings: after,
      changes: diffSettings(before, after), statements: all,
    });
    if (ctx.key) await this.idempotency.save(tx, req, ctx.key, ctx.requestHash, { policyId: updated.id, revisionId: revision.id, statements: all });
    (req.logger ?? this.logger).info('audit policy changed', { serviceId: service.id, database: database || null,
      action: revision.action, version: revision.version, actor: revision.actor });
    return { policy: view(updated, after, SettingsSource.SERVER), revision, statements: all, userErrors: [] };
  }

  /** pgaudit's rules and the server's capabilities (settings.validate.ts), and the role must exist. */
  private async validate(ctx: ChangeContext, desired: AuditSettingsValue): Promise<void> {
    const problems = validateSettings(desired, { serverVersionNum: ctx.facts.serverVersionNum, gucs: ctx.facts.gucs });
    if (desired.role && !problems.some((p) => p.field === 'role') && !(await ctx.session.roleExists(desired.role))) {
      problems.push({ code: 'INVALID_SETTING', field: 'role', message: `pgaudit.role: role "${clip(desired.role)}" does not exist on this service` });
    }
    if (problems.length > 0) {
      throw new AuditPolicyError(problems.map((p) => ({ code: AuditErrorCode[p.code], message: p.message, field: settingsField(p.field) })));
    }
  }
}

/** The settings a change asks for, from what the scope has now (`before`). */
function desiredSettings(req: ChangeRequest, before: AuditSettingsValue, facts: ServerFacts): AuditSettingsValue {
  const base = pgauditDefaultsFor(facts);
  switch (req.operation) {
    case 'enable':
      return normalizeSettings(req.settings ? mergeSettings(base, req.settings) : predefinedSettingsFor(facts));
    case 'configure':
      return normalizeSettings(mergeSettings(before, req.settings ?? {}));
    case 'disable':
      return base;
  }
}
