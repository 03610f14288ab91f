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
import { AuditErrorCode, AuditPolicyError, AuditUserError, clip, isUnreachable, refuse, REFUSAL_OF_REQUIREMENT } from './audit-policy.errors';
import { describeScope, gucsOfPatch, planReset, planSet, Scope, serviceScope } from './apply.plan';
import { explicitSettings, inheritedSettings, restorableSettings, scopeSettings } from './scope.settings';
import { ApplyPlan, planStatements, PolicyApplier, ScopeStep } from './policy.applier';
import { driftedGucs } from './policy.drift';
import { PolicyDriftReader } from './policy.drift-reader';
import { liveEligibility } from './policy.eligibility';
import { PolicyInventory } from './policy.inventory';
import { LapseDisableOutcome, PolicyLapse } from './policy.lapse';
import { ChainVerdict, verifyChain } from './policy.history-chain';
import {
  ACTION, ChangeContext, ChangeRequest, ChangeResult, Eligibility, isIdentifier, LockedChange, normalTargets, PolicyView,
  refused, scopeOf, SettingsSource, targetsText, view, viewScope,
} from './policy.change';
import { fingerprint, Idempotency } from './policy.idempotency';
import type { PolicyRepository, SettingChange } from './policy.repository';
import {
  AuditSettingsValue, diffSettings, mergeSettings, normalizeSettings, PGAUDIT_GUCS, PgauditGuc, pgauditDefaultsFor, predefinedSettingsFor, SETTING_LIST,
  validateSettings,
} from './settings/settings.model';
import { TargetConnectionRecorder, TargetConnector } from './target/target.connector';
import { TargetLease } from './target/target.lease';
import type { ServerFacts, TargetSession } from './target/target.session';
import { ObjectAuditRequest, ObjectAuditService, ObjectAuditView } from './objects/object-audit.service';
import { disableKeepingAuditor, keepAuditorRole } from './objects/object-audit.settings';

const settingsField = (field: string) => ['input', 'settings', field];

export class PolicyService {
  private readonly targets: TargetConnector;
  private readonly applier: PolicyApplier;
  private readonly idempotency: Idempotency;
  /** Drift: what a policy's scope holds now against what the gateway applied (AuditPolicy.drift, the drift monitor). */
  readonly drift: PolicyDriftReader;
  /** What is configured: services with their policies, every scope of a live server (policy.inventory.ts). */
  readonly inventory: PolicyInventory;
  private readonly objects: ObjectAuditService;
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
    this.drift = new PolicyDriftReader(tenancy, policies, this.targets);
    this.inventory = new PolicyInventory(tenancy, policies);
    this.objects = new ObjectAuditService({ tenancy, policies, config, logger, idempotency: this.idempotency,
      checkServer: (service, req, facts) => this.checkServer(service, req, facts) });
    this.lapse = new PolicyLapse(tenancy, policies, this.targets, this.applier, config, logger,
      (ctx, policy) => this.plan(ctx, { before: policy.enabled ? policy.targetDatabases : [], after: [] }, pgauditDefaultsFor(ctx.facts),
        PGAUDIT_GUCS, policy.objects));
  }

  /** What one request will hold of the targets: one connection per service, shared by its fields (close it at the end). */
  requestTargets(): TargetLease { return new TargetLease(this.targets); }

  // ---- queries ---------------------------------------------------------------------------------

  async eligibility(principal: Principal, serviceId: string, targets: TargetLease): Promise<Eligibility> {
    return liveEligibility(principal, await this.tenancy.serviceFor(principal, serviceId), targets);
  }

  /** The policy of a scope with the settings the server holds now (or the last applied ones if it is unreachable). */
  async policy(principal: Principal, serviceId: string, database: string | null | undefined, targets: TargetLease,
    role?: string | null): Promise<PolicyView | null> {
    const service = await this.tenancy.serviceFor(principal, serviceId);
    if ((database != null && !isIdentifier(database)) || (role != null && !isIdentifier(role))) return null;
    const row = await this.policies.find(service.id, database ?? '', role ?? '');
    if (!row || row.settings === null) return null;
    try {
      const scope = viewScope(scopeOf(row.database, row.role), row.enabled ? row.targetDatabases : []);
      const live = await targets.with(service, (s) => scopeSettings(s, scope));
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
  async verifyHistories(serviceId: string | null)
    : Promise<(ChainVerdict & { policyId: string; serviceId: string; database: string | null; role?: string })[]> {
    const policies = await this.policies.policiesWithHistory(serviceId);
    const verdicts = [];
    for (const p of policies) {
      verdicts.push({ policyId: p.id, serviceId: p.serviceId, database: p.database === '' ? null : p.database, ...(p.role ? { role: p.role } : {}),
        ...(await this.historyIntegrity(p.id, p.version)) });
    }
    return verdicts;
  }

  // ---- object audit (objects/object-audit.service.ts) ---------------------------------------------

  /** setObjectAudit: the auditor role's grants and pgaudit.role of one database, as one change of its policy. */
  setObjectAudit(req: ObjectAuditRequest, targets: TargetLease): Promise<ChangeResult> { return this.objects.set(req, targets); }

  /** A policy's object audit: read from the server's catalogs, or the last applied when it is unreachable; null if never configured. */
  objectAudit(principal: Principal, policyId: string, targets: TargetLease): Promise<ObjectAuditView | null> {
    return this.objects.current(principal, policyId, targets);
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
    const role = req.role ?? '';
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
        await this.checkNames(req, session);
        await session.actAs(req.principal.databaseRole);
        const ctx: ChangeContext = { req, service, session, targets, facts, database, role, scope: scopeOf(database, role), key, requestHash };
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

  /** The scope's database and role, and every target database, must exist on the server: every unknown one is reported. */
  private async checkNames(req: ChangeRequest, session: TargetSession): Promise<void> {
    const problems: AuditUserError[] = [];
    if (req.database != null && (!isIdentifier(req.database) || !(await session.databaseExists(req.database)))) {
      problems.push({ code: AuditErrorCode.DATABASE_NOT_FOUND, message: `database "${clip(req.database)}" does not exist on this service`, field: ['input', 'database'] });
    }
    if (req.role != null && (!isIdentifier(req.role) || !(await session.policyRoleExists(req.role)))) {
      problems.push({ code: AuditErrorCode.ROLE_NOT_FOUND,
        message: `role "${clip(req.role)}" does not exist on this service (or is one of PostgreSQL's predefined roles)`, field: ['input', 'role'] });
    }
    if (req.targetDatabases != null) {
      if (req.database != null || req.role != null) {
        problems.push({ code: AuditErrorCode.SCOPE_CONFLICT,
          message: 'targetDatabases belongs to the service-level policy: give it without database or role', field: ['input', 'targetDatabases'] });
      } else {
        const names = req.targetDatabases;
        const known = await session.existingDatabases(names.filter(isIdentifier));
        names.forEach((name, i) => {
          if (!known.has(name)) {
            problems.push({ code: AuditErrorCode.DATABASE_NOT_FOUND, message: `database "${clip(name)}" does not exist on this service`,
              field: ['input', 'targetDatabases', String(i)] });
          }
        });
      }
    }
    if (problems.length > 0) throw new AuditPolicyError(problems.slice(0, 20));
  }

  /** The four entitlement checks (every failing one reported), then pgaudit on the server. */
  private checkServer(service: ServiceRecord, req: Pick<ChangeRequest, 'principal'> & { operation: string }, facts: ServerFacts): void {
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
    const { req, service, session, facts, database, role, scope, tx } = ctx;
    const policy = req.dryRun
      ? (await this.policies.find(service.id, database, role, tx)) ?? null
      : await this.policies.lock(tx, service.id, database, role);
    await this.recheckPlan(ctx);
    const version = policy?.version ?? 0;
    if (req.expectedVersion != null && req.expectedVersion !== version) {
      throw refuse(AuditErrorCode.VERSION_CONFLICT,
        `the policy is at version ${version}, not ${req.expectedVersion}: read it again and retry`, ['input', 'expectedVersion']);
    }
    const enabled = policy?.enabled ?? false;
    if (req.operation !== 'enable' && !enabled) {
      throw refuse(AuditErrorCode.NOT_ENABLED, `audit logging is not enabled for ${describeScope(scope)}`);
    }
    if (req.targetDatabases === null && req.operation !== 'disable' && scope.kind !== 'service') {
      throw refuse(AuditErrorCode.SCOPE_CONFLICT, 'targetDatabases belongs to the service-level policy', ['input', 'targetDatabases']);
    }
    const targetsBefore = enabled ? policy!.targetDatabases : [];
    const targetsAfter = req.operation === 'disable' || scope.kind !== 'service' ? []
      : req.targetDatabases === undefined ? (req.operation === 'enable' ? [] : targetsBefore) : normalTargets(req.targetDatabases);
    await this.checkScopeConflicts(ctx, targetsAfter);

    // what the policy's sessions get now: for a target list, its first database's (each holds the same)
    const before = await scopeSettings(session, viewScope(scope, targetsBefore));
    // object audit configured on this database keeps pgaudit.role at its auditor (objects/object-audit.settings.ts)
    const desired = keepAuditorRole(scope, req.settings, desiredSettings(req, before, facts, policy?.settings ?? null), policy?.objects);
    await this.validate(ctx, desired, targetsAfter);

    // configure touches the settings it names (and pgaudit.role when the auditor is kept); the others every one
    const patched = req.operation === 'configure' ? gucsOfPatch(req.settings ?? {}) : [...PGAUDIT_GUCS];
    if (desired.role !== before.role && !patched.includes('pgaudit.role')) patched.push('pgaudit.role');
    // adopt runs nothing on the server: it records what drifted (the applied settings against the live ones)
    const drifted = req.operation === 'adopt' ? driftedGucs(policy!.settings!, before) : [];
    const plan: ApplyPlan = req.operation === 'adopt' ? { extensionIn: [], steps: [], expected: [] }
      : await this.plan(ctx, { before: targetsBefore, after: targetsAfter }, desired, patched, policy?.objects ?? null);
    const statements = planStatements(plan);
    const current = policy && policy.settings ? view(policy, before, SettingsSource.SERVER) : null;
    const targetsChanged = targetsBefore.join('\u0000') !== targetsAfter.join('\u0000');

    if (req.dryRun) {
      // what the revision would record: adopt takes the live settings as applied; disable leaves what the scope
      // inherits (pgaudit's defaults at the service level); the others leave what they SET
      const from = req.operation === 'adopt' ? policy!.settings! : before;
      const to = req.operation === 'disable' && scope.kind !== 'service' ? await inheritedSettings(session, viewScope(scope, targetsBefore)) : desired;
      const plannedChanges: SettingChange[] = diffSettings(from, to);
      if (targetsChanged) plannedChanges.push({ setting: 'pgaudit.targetDatabases', from: targetsText(targetsBefore), to: targetsText(targetsAfter) });
      return { policy: current, revision: null, statements, userErrors: [], plannedChanges };
    }
    const idle = req.operation === 'adopt' ? drifted.length === 0 : statements.length === 0 && !targetsChanged;
    if (idle && enabled && req.operation !== 'disable') {   // nothing to change: no revision, but the key is spent
      if (ctx.key) await this.idempotency.save(tx, req, ctx.key, ctx.requestHash, { policyId: policy?.id ?? null, revisionId: null, statements: [] });
      return { policy: current, revision: null, statements: [], userErrors: [], plannedChanges: [] };
    }

    const readBack = req.operation === 'adopt' ? [before]   // the live settings, read in this transaction: nothing to apply
      : await this.applier.apply(ctx, plan);
    const after = req.operation === 'disable' && scope.kind === 'service' ? readBack[0]! : readBack[readBack.length - 1]!;
    const changes: SettingChange[] = diffSettings(req.operation === 'adopt' ? policy!.settings! : before, after);
    if (targetsChanged) changes.push({ setting: 'pgaudit.targetDatabases', from: targetsText(targetsBefore), to: targetsText(targetsAfter) });
    const { policy: updated, revision } = await this.policies.appendRevision(tx, policy!, {
      action: ACTION[req.operation], actor: actorName(req.principal), actorTokenId: req.principal.tokenId,
      reason: req.reason ?? null, enabled: req.operation !== 'disable', settings: after,
      changes, statements, targetDatabases: targetsAfter,
    });
    if (ctx.key) await this.idempotency.save(tx, req, ctx.key, ctx.requestHash, { policyId: updated.id, revisionId: revision.id, statements });
    (req.logger ?? this.logger).info('audit policy changed', { serviceId: service.id, database: database || null, role: role || null,
      action: revision.action, version: revision.version, actor: revision.actor });
    return { policy: view(updated, after, SettingsSource.SERVER), revision, statements, userErrors: [], plannedChanges: [] };
  }

  /**
   * The plan again, inside the transaction (its rows FOR SHARE): a lapse that committed since the entitlement check
   * refuses the change, and one that comes later waits for it and then finds the policy to disable (README: Plan lapse).
   */
  private async recheckPlan(ctx: LockedChange): Promise<void> {
    const plan = await this.policies.planFlags(ctx.tx, ctx.service.id);
    const failing = evaluateEntitlements({ proPlatform: plan?.proPlatform ?? false, proFeatures: plan?.proFeatures ?? false,
      callerRole: ctx.req.principal.databaseRole, server: ctx.facts }).filter((c) => !c.satisfied);
    if (failing.length > 0) {
      throw new AuditPolicyError(failing.map((c) => ({ code: REFUSAL_OF_REQUIREMENT[c.requirement], message: c.detail, field: null })));
    }
  }

  /**
   * A database is governed by one policy at a time: a service-level target list may not name a database that
   * has an enabled policy of its own, and a database policy may not be enabled on a database a target list names.
   */
  private async checkScopeConflicts(ctx: LockedChange, targetsAfter: readonly string[]): Promise<void> {
    if (ctx.req.operation === 'disable') return;
    if (targetsAfter.length > 0) {
      const owned = await this.policies.databasesWithOwnPolicy(ctx.tx, ctx.service.id, targetsAfter);
      if (owned.length > 0) {
        throw refuse(AuditErrorCode.SCOPE_CONFLICT, `database${owned.length > 1 ? 's' : ''} ${owned.slice(0, 5).map((d) => `"${clip(d)}"`).join(', ')}`
          + ' already ha' + (owned.length > 1 ? 've' : 's') + ' an enabled policy of its own: disable it first, or leave it out of targetDatabases', ['input', 'targetDatabases']);
      }
    }
    if (ctx.scope.kind === 'database' && ctx.req.operation === 'enable') {
      const servicePolicy = await this.policies.find(ctx.service.id, '', '', ctx.tx);
      if (servicePolicy?.enabled && servicePolicy.targetDatabases.includes(ctx.scope.database)) {
        throw refuse(AuditErrorCode.SCOPE_CONFLICT, `database "${clip(ctx.scope.database)}" is one of the service-level policy's targetDatabases:`
          + ' configure that policy, or take the database out of its list first', ['input', 'database']);
      }
    }
  }

  /**
   * The statements of a change, per scope, and what each scope must read back. The policy's own scope, or for a
   * service-level policy with target databases: the service level held at pgaudit's defaults, each target database
   * set, each database leaving the list reset. The expected settings of the policy's scope come last.
   */
  private async plan(ctx: LockedChange, targets: { before: readonly string[]; after: readonly string[] }, desired: AuditSettingsValue,
    patched: readonly PgauditGuc[], objects: unknown): Promise<ApplyPlan> {
    const { req, session, facts, scope } = ctx;
    const op = req.operation;
    const step = async (s: Scope, statements: (explicit: Map<string, string>) => string[]): Promise<ScopeStep> => {
      const explicit = await explicitSettings(session, s);
      const explicitBefore = s.kind === 'service' ? await restorableSettings(session, s) : explicit;
      return { scope: s, statements: statements(explicit), explicitBefore, gucs: PGAUDIT_GUCS };
    };
    const extensionIn = op === 'enable' && scope.kind !== 'role' ? [scope.kind === 'service' ? '' : scope.database] : [];

    if (scope.kind !== 'service') {
      if (op !== 'disable') {
        const own = await step(scope, (explicit) => planSet(scope, explicit, desired, patched, facts.gucs));
        return { extensionIn: await this.missingExtension(ctx, extensionIn), steps: [own], expected: [{ scope, settings: desired, only: patched }] };
      }
      // disable: RESET the scope, but a database with object audit keeps pgaudit.role at its auditor
      const inherited = await inheritedSettings(session, scope);
      let expected = inherited;
      let kept: Partial<AuditSettingsValue> = {};
      const own = await step(scope, (explicit) => {
        const keeping = disableKeepingAuditor(scope, explicit, inherited, facts.gucs, objects);
        if (keeping) { expected = keeping.expected; kept = { role: keeping.expected.role }; }
        return [...planReset(scope, keeping?.resetGucs ?? facts.gucs), ...(keeping?.keep ?? [])];
      });
      return { extensionIn: [], steps: [own], expected: [{ scope, settings: expected, inherits: kept }] };
    }

    const removed = targets.before.filter((d) => !targets.after.includes(d));
    const steps: ScopeStep[] = [];
    const expected: ApplyPlan['expected'] = [];
    if (op === 'disable' || targets.after.length > 0) {
      // the service level back to pgaudit's defaults: RESET what ALTER SYSTEM wrote (postgresql.conf is not the gateway's)
      const held = op === 'disable' || (await session.systemSettings()).size > 0;
      const serviceAfter = held ? pgauditDefaultsFor(facts) : await scopeSettings(session, serviceScope);
      steps.push(await step(serviceScope, () => (held ? planReset(serviceScope, facts.gucs) : [])));
      if (held) expected.push({ scope: serviceScope, settings: serviceAfter });
      for (const d of removed) {
        const db: Scope = { kind: 'database', database: d };
        steps.push(await step(db, () => planReset(db, facts.gucs)));
        expected.push({ scope: db, settings: serviceAfter, inherits: {} });
      }
      for (const d of targets.after) {
        const db: Scope = { kind: 'database', database: d };
        const gucs = op === 'configure' && targets.before.includes(d) ? [...patched] : [...PGAUDIT_GUCS];
        steps.push(await step(db, (explicit) => planSet(db, explicit, desired, gucs, facts.gucs)));
        expected.push({ scope: db, settings: desired, only: gucs });
      }
      const newDatabases = targets.after.filter((d) => !targets.before.includes(d));
      return { extensionIn: op === 'disable' ? [] : await this.missingExtension(ctx, newDatabases), steps, expected };
    }

    // the whole service: ALTER SYSTEM; databases leaving a target list are reset and inherit it
    const gucs = targets.before.length > 0 ? [...PGAUDIT_GUCS] : patched;
    steps.push(await step(serviceScope, (explicit) => planSet(serviceScope, explicit, desired, gucs, facts.gucs)));
    for (const d of removed) {
      const db: Scope = { kind: 'database', database: d };
      steps.push(await step(db, () => planReset(db, facts.gucs)));
      expected.push({ scope: db, settings: desired, inherits: {} });
    }
    expected.push({ scope: serviceScope, settings: desired });
    return { extensionIn: await this.missingExtension(ctx, extensionIn), steps, expected };
  }

  /** Of `databases` ('' = the request's connection's), those where pgaudit's extension is not installed yet. */
  private async missingExtension(ctx: ChangeContext, databases: readonly string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const d of databases) if (!(await this.applier.extensionInstalled(ctx, d))) missing.push(d);
    return missing;
  }

  /** pgaudit's rules and the server's capabilities (settings.validate.ts), and the role must exist. */
  private async validate(ctx: ChangeContext, desired: AuditSettingsValue, targets: readonly string[]): Promise<void> {
    const problems = validateSettings(desired, { serverVersionNum: ctx.facts.serverVersionNum, gucs: ctx.facts.gucs });
    // the session-logging switches are server-wide (ALTER SYSTEM): the policy of the whole service holds them
    for (const d of SETTING_LIST) {
      if (d.kind !== 'sessionLog' || !desired[d.field]) continue;
      if (ctx.scope.kind !== 'service') {
        problems.push({ code: 'INVALID_SETTING', field: d.field, message: `${d.guc} is server-wide: only the service-level policy can turn it on, not ${describeScope(ctx.scope)}'s` });
      } else if (targets.length > 0) {
        problems.push({ code: 'INVALID_SETTING', field: d.field, message: `${d.guc} is server-wide: a policy with targetDatabases cannot turn it on (its settings are set per database)` });
      }
    }
    if (desired.role && !problems.some((p) => p.field === 'role') && !(await ctx.session.roleExists(desired.role))) {
      problems.push({ code: 'INVALID_SETTING', field: 'role', message: `pgaudit.role: role "${clip(desired.role)}" does not exist on this service` });
    }
    if (problems.length > 0) {
      throw new AuditPolicyError(problems.map((p) => ({ code: AuditErrorCode[p.code], message: p.message, field: settingsField(p.field) })));
    }
  }
}

/** The settings a change asks for, from what the scope has now (`before`). */
function desiredSettings(req: ChangeRequest, before: AuditSettingsValue, facts: ServerFacts, applied: AuditSettingsValue | null): AuditSettingsValue {
  const base = pgauditDefaultsFor(facts);
  switch (req.operation) {
    case 'enable':
      return normalizeSettings(req.settings ? mergeSettings(base, req.settings) : predefinedSettingsFor(facts));
    case 'configure':
      return normalizeSettings(mergeSettings(before, req.settings ?? {}));
    case 'disable':
      return base;
    case 'reconcile':   // the settings the gateway applied last
      return normalizeSettings(applied ?? before);
    case 'adopt':       // the settings the server holds now
      return before;
  }
}
