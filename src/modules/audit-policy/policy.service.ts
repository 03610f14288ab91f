/**
 * The control path. One change (enable, configure, disable) runs in this order:
 *   1. the service, visible to the caller's project only (else NOT_FOUND);
 *   2. an idempotency replay, if the key was used before;
 *   3. the live server: facts -> the four entitlement checks -> pgaudit loaded -> database exists;
 *   4. in ONE gateway transaction, holding the policy row FOR UPDATE (and the idempotency key):
 *      version check -> current settings read from the server -> desired settings -> validation ->
 *      plan -> apply on the server -> read back -> revision + policy + idempotency record -> commit.
 * Any refusal throws an AuditPolicyError inside the transaction, so it rolls back and the server is untouched.
 * A failure during apply or read-back restores the server's previous values before refusing with
 * APPLY_FAILED, so the history never claims a change the server does not have.
 */
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import { evaluateEntitlements, EntitlementCheckResult } from '../entitlements/entitlement.checks';
import { actorName, Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { TenancyService } from '../tenancy/tenancy.service';
import { AuditErrorCode, AuditPolicyError, AuditUserError, isUnreachable, refuse, REFUSAL_OF_REQUIREMENT } from './audit-policy.errors';
import { gucsOfPatch, planReset, planRestore, planSet, Scope } from './apply.plan';
import { PolicyRepository, PolicyRow, RevisionRow, StoredResult, Tx } from './policy.repository';
import {
  AuditSettingsPatch, AuditSettingsValue, changedGucs, diffSettings, formatGuc, mergeSettings, normalizeSettings, PgauditGuc,
  PGAUDIT_GUCS, pgauditDefaultsFor, predefinedSettingsFor, settingsFromGucs, validateSettings,
} from './settings/settings.model';
import { ServerFacts, TargetSession } from './target/target.session';

export type Operation = 'enable' | 'configure' | 'disable';
const ACTION: Record<Operation, 'ENABLED' | 'CONFIGURED' | 'DISABLED'> = { enable: 'ENABLED', configure: 'CONFIGURED', disable: 'DISABLED' };

export interface ChangeRequest {
  operation: Operation;
  principal: Principal;
  serviceId: string;
  database?: string | null;
  /** enable: absent = PREDEFINED_SETTINGS, present = pgaudit defaults + these; configure: the fields to change. */
  settings?: AuditSettingsPatch | null;
  expectedVersion?: number | null;
  reason?: string | null;
  idempotencyKey?: string | null;
  dryRun?: boolean | null;
}

export enum SettingsSource { SERVER = 'SERVER', LAST_APPLIED = 'LAST_APPLIED' }

export interface PolicyView {
  id: string; serviceId: string; database: string | null; enabled: boolean; version: number;
  settings: AuditSettingsValue; settingsSource: SettingsSource; updatedAt: Date; updatedBy: string;
}

export interface ChangeResult {
  policy: PolicyView | null;
  revision: RevisionRow | null;
  statements: string[];
  userErrors: AuditUserError[];
}

export interface Eligibility { eligible: boolean; checks: EntitlementCheckResult[] }

const settingsField = (field: string) => ['input', 'settings', field];

export class PolicyService {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly policies: PolicyRepository,
    private readonly config: Pick<GatewayConfig, 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs' | 'applyReadbackTimeoutMs'>,
    private readonly logger: Logger,
  ) {}

  // ---- queries ---------------------------------------------------------------------------------

  async eligibility(principal: Principal, serviceId: string): Promise<Eligibility> {
    const service = await this.visibleService(principal, serviceId);
    let facts: ServerFacts | null = null;
    try {
      facts = await this.withSession(service, undefined, (s) => s.facts());
    } catch (err) {
      if (!isUnreachable(err)) throw err;
    }
    const checks = evaluateEntitlements({ proPlatform: service.proPlatform, proFeatures: service.proFeatures,
      callerRole: principal.databaseRole, server: facts });
    return { eligible: checks.every((c) => c.satisfied), checks };
  }

  /** The policy of a scope with the settings the server holds now (or the last applied ones if it is unreachable). */
  async policy(principal: Principal, serviceId: string, database: string | null | undefined): Promise<PolicyView | null> {
    const service = await this.visibleService(principal, serviceId);
    if (database != null && !isDatabaseName(database)) return null;
    const row = await this.policies.find(service.id, database ?? '');
    if (!row || row.settings === null) return null;
    try {
      const live = await this.withSession(service, undefined, async (s) =>
        this.effectiveSettings(s, scopeOf(row.database)));
      return view(row, live, SettingsSource.SERVER);
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      return view(row, row.settings, SettingsSource.LAST_APPLIED);
    }
  }

  async history(policyId: string, first: number, beforeVersion: number | null) {
    return this.policies.revisions(policyId, first, beforeVersion);
  }

  // ---- the change --------------------------------------------------------------------------------

  async change(req: ChangeRequest): Promise<ChangeResult> {
    const service = await this.visibleService(req.principal, req.serviceId);
    const database = req.database ?? '';
    const key = req.dryRun ? null : (req.idempotencyKey ?? null);
    const requestHash = fingerprint(req);
    if (key) {
      const replay = await this.replay(req.principal.projectId, key, req.operation, requestHash);
      if (replay) return replay;
    }
    try {
      return await this.withSession(service, undefined, async (session) => {
        const facts = await session.facts();
        this.checkEntitlements(service, req.principal, facts);
        if (!facts.pgauditLoaded) {
          throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE,
            'pgaudit is not loaded on this service (shared_preload_libraries does not include pgaudit)');
        }
        if (req.operation === 'enable' && !facts.pgauditAvailable) {
          throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, 'the pgaudit extension is not installed on this service');
        }
        if (req.database != null && (!isDatabaseName(req.database) || !(await session.databaseExists(req.database)))) {
          throw refuse(AuditErrorCode.DATABASE_NOT_FOUND, `database "${clip(database)}" does not exist on this service`, ['input', 'database']);
        }
        await session.actAs(req.principal.databaseRole);
        return this.policies.transaction(async (tx) => {
          if (key) {
            await this.policies.lockIdempotencyKey(tx, req.principal.projectId, key);
            const replay = await this.replay(req.principal.projectId, key, req.operation, requestHash, tx);
            if (replay) return replay;
          }
          return this.changeLocked(tx, req, service, session, facts, database, key, requestHash);
        }, this.config.targetStatementTimeoutMs * 4 + this.config.applyReadbackTimeoutMs);
      });
    } catch (err) {
      if (err instanceof AuditPolicyError) return { policy: null, revision: null, statements: [], userErrors: err.userErrors };
      throw err;
    }
  }

  private async changeLocked(tx: Tx, req: ChangeRequest, service: ServiceRecord, session: TargetSession,
    facts: ServerFacts, database: string, key: string | null, requestHash: string): Promise<ChangeResult> {
    const scope = scopeOf(database);
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
    const before = this.effective(serviceValues, scope.kind === 'service' ? new Map() : explicit);
    const desired = this.desiredSettings(req, before, facts);
    const problems = validateSettings(desired, { serverVersionNum: facts.serverVersionNum, gucs: facts.gucs });
    if (desired.role && !problems.some((p) => p.field === 'role') && !(await session.roleExists(desired.role))) {
      problems.push({ code: 'INVALID_SETTING', field: 'role', message: `pgaudit.role: role "${clip(desired.role)}" does not exist on this service` });
    }
    if (problems.length > 0) {
      throw new AuditPolicyError(problems.map((p) => ({ code: AuditErrorCode[p.code], message: p.message, field: settingsField(p.field) })));
    }

    const gucs = req.operation === 'enable' ? [...PGAUDIT_GUCS] : gucsOfPatch(req.settings ?? {});
    const statements = req.operation === 'disable'
      ? planReset(scope, facts.gucs)
      : planSet(scope, explicit, desired, gucs, facts.gucs);
    const extension = req.operation === 'enable' && !(await this.extensionInstalled(session, service, database))
      ? ['CREATE EXTENSION IF NOT EXISTS pgaudit'] : [];
    const all = [...extension, ...statements];
    const current = policy && policy.settings ? view(policy, before, SettingsSource.SERVER) : null;

    if (req.dryRun) return { policy: current, revision: null, statements: all, userErrors: [] };
    if (all.length === 0 && enabled && req.operation !== 'disable') {
      return { policy: current, revision: null, statements: [], userErrors: [] };   // nothing to change
    }

    const expected = req.operation === 'disable'
      ? (scope.kind === 'service' ? pgauditDefaultsFor(facts) : this.effective(serviceValues, new Map()))
      : desired;
    const after = await this.apply({ service, session, scope, database, role: req.principal.databaseRole, extension,
      statements, expected, explicitBefore: restorable, gucs: req.operation === 'disable' ? PGAUDIT_GUCS : gucs, facts });

    const { policy: updated, revision } = await this.policies.appendRevision(tx, policy!, {
      action: ACTION[req.operation], actor: actorName(req.principal), actorTokenId: req.principal.tokenId,
      reason: req.reason ?? null, enabled: req.operation !== 'disable', settings: after,
      changes: diffSettings(before, after), statements: all,
    });
    if (key) {
      const stored: StoredResult = { policyId: updated.id, revisionId: revision.id, statements: all };
      await this.policies.saveIdempotency(tx, req.principal.projectId, key, req.operation, requestHash, stored);
    }
    this.logger.info('audit policy changed', { serviceId: service.id, database: database || null,
      action: revision.action, version: revision.version, actor: revision.actor });
    return { policy: view(updated, after, SettingsSource.SERVER), revision, statements: all, userErrors: [] };
  }

  /** Run the plan, read the result back, and undo everything if either fails. Returns the settings read back. */
  private async apply(a: {
    service: ServiceRecord; session: TargetSession; scope: Scope; database: string; role: string; extension: string[];
    statements: string[]; expected: AuditSettingsValue; explicitBefore: ReadonlyMap<string, string>;
    gucs: readonly PgauditGuc[]; facts: ServerFacts;
  }): Promise<AuditSettingsValue> {
    let createdExtension = false;
    let applied = 0;
    try {
      if (a.extension.length > 0) {
        await this.onScopeDatabase(a, async (s) => { for (const sql of a.extension) await s.run(sql); }).catch((err: Error) => {
          if (err instanceof AuditPolicyError) throw err;
          throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, `the pgaudit extension could not be created (${clip(err.message)})`);
        });
        createdExtension = true;
      }
      for (const sql of a.statements) { applied += 1; await a.session.run(sql); }
      const after = await this.readBack(a.service, a.session, a.scope, a.facts, a.expected);
      if (after.ok) return after.settings;
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service did not take the new settings: ${after.mismatch}; the previous settings were restored`);
    } catch (err) {
      if (applied > 0) await this.restore(a.session, a.scope, a.explicitBefore, a.gucs, a.facts);
      if (createdExtension) {
        await this.onScopeDatabase(a, (s) => s.run('DROP EXTENSION IF EXISTS pgaudit'))
          .catch((e: Error) => this.logger.error('restore failed', { error: e.message }));
      }
      if (err instanceof AuditPolicyError) throw err;
      const message = (err as { message?: string }).message ?? 'unknown error';
      this.logger.warn('apply failed', { serviceId: a.service.id, error: message });
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service refused the change (${clip(message)}); the previous settings were restored`);
    }
  }

  /** Run on the database of the scope (the extension lives per database), acting as the caller's role. */
  private async onScopeDatabase(a: { service: ServiceRecord; session: TargetSession; database: string; role: string },
    fn: (s: TargetSession) => Promise<void>): Promise<void> {
    if (!a.database) return fn(a.session);
    await this.withSession(a.service, a.database, async (s) => { await s.actAs(a.role); await fn(s); });
  }

  private async restore(session: TargetSession, scope: Scope, explicitBefore: ReadonlyMap<string, string>,
    gucs: readonly PgauditGuc[], facts: ServerFacts): Promise<void> {
    for (const sql of planRestore(scope, explicitBefore, gucs, facts.gucs)) {
      await session.run(sql).catch((e: Error) => this.logger.error('restore failed', { error: e.message }));
    }
  }

  /**
   * Database settings are visible at once (pg_db_role_setting is transactional). Service settings
   * reach new connections only after the postmaster has processed pg_reload_conf(): poll fresh
   * connections until they show the expected values or the deadline passes.
   */
  private async readBack(service: ServiceRecord, session: TargetSession, scope: Scope, facts: ServerFacts,
    expected: AuditSettingsValue): Promise<{ ok: true; settings: AuditSettingsValue } | { ok: false; mismatch: string }> {
    const deadline = Date.now() + this.config.applyReadbackTimeoutMs;
    for (;;) {
      const got = scope.kind === 'database'
        ? await this.effectiveSettings(session, scope)
        : await this.withSession(service, undefined, (fresh) => this.effectiveSettings(fresh, scope));
      const differ = changedGucs(expected, got).filter((g) => facts.gucs.has(g));
      if (differ.length === 0) return { ok: true, settings: got };
      if (scope.kind === 'database' || Date.now() > deadline) {
        return { ok: false, mismatch: differ.map((g) => `${g} is '${clip(formatGuc(got, g) ?? '')}', expected '${clip(formatGuc(expected, g) ?? '')}'`).join('; ') };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private desiredSettings(req: ChangeRequest, before: AuditSettingsValue, facts: ServerFacts): AuditSettingsValue {
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

  /** Service values overlaid with a database's own values, parsed. */
  private effective(serviceValues: ReadonlyMap<string, string>, databaseValues: ReadonlyMap<string, string>): AuditSettingsValue {
    return settingsFromGucs(new Map([...serviceValues, ...databaseValues]));
  }

  private async effectiveSettings(session: TargetSession, scope: Scope): Promise<AuditSettingsValue> {
    const serviceValues = await session.serviceSettings();
    return this.effective(serviceValues, scope.kind === 'database' ? await session.databaseSettings(scope.database) : new Map());
  }

  private async extensionInstalled(session: TargetSession, service: ServiceRecord, database: string): Promise<boolean> {
    if (!database) return session.extensionInstalled();
    return this.withSession(service, database, (s) => s.extensionInstalled());
  }

  private checkEntitlements(service: ServiceRecord, principal: Principal, facts: ServerFacts): void {
    const failing = evaluateEntitlements({ proPlatform: service.proPlatform, proFeatures: service.proFeatures,
      callerRole: principal.databaseRole, server: facts }).filter((c) => !c.satisfied);
    if (failing.length > 0) {
      throw new AuditPolicyError(failing.map((c) => ({ code: REFUSAL_OF_REQUIREMENT[c.requirement], message: c.detail, field: null })));
    }
  }

  private async replay(projectId: string, key: string, operation: Operation, requestHash: string, tx?: Tx): Promise<ChangeResult | null> {
    const record = await this.policies.findIdempotency(projectId, key, tx);
    if (!record) return null;
    if (record.operation !== operation || record.requestHash !== requestHash) {
      return { policy: null, revision: null, statements: [], userErrors: [{ code: AuditErrorCode.IDEMPOTENCY_KEY_REUSED,
        message: 'this idempotency key was already used for a different request', field: ['input', 'idempotencyKey'] }] };
    }
    const { policyId, revisionId, statements } = record.result;
    const policy = policyId ? await this.policies.findById(policyId) : null;
    const revision = revisionId ? await this.policies.revisionById(revisionId) : null;
    return { policy: policy && policy.settings ? view(policy, policy.settings, SettingsSource.LAST_APPLIED) : null, revision, statements, userErrors: [] };
  }

  private async visibleService(principal: Principal, serviceId: string): Promise<ServiceRecord> {
    return this.tenancy.serviceFor(principal, serviceId);
  }

  private async withSession<T>(service: ServiceRecord, database: string | undefined, fn: (s: TargetSession) => Promise<T>): Promise<T> {
    const session = await TargetSession.open(service.connectionUrl, {
      connectTimeoutMs: this.config.targetConnectTimeoutMs, statementTimeoutMs: this.config.targetStatementTimeoutMs }, database);
    try { return await fn(session); } finally { await session.close(); }
  }
}

/** Could name a PostgreSQL database: 1 to 63 bytes, no NUL. ("" is not "the whole service".) */
function isDatabaseName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 63 && !name.includes('\u0000');
}

function scopeOf(database: string): Scope {
  return database ? { kind: 'database', database } : { kind: 'service' };
}

function view(row: PolicyRow, settings: AuditSettingsValue, settingsSource: SettingsSource): PolicyView {
  return { id: row.id, serviceId: row.serviceId, database: row.database || null, enabled: row.enabled, version: row.version,
    settings, settingsSource, updatedAt: row.updatedAt, updatedBy: row.updatedBy };
}

/** Identifies a request for idempotency: the same key with a different request is refused. */
function fingerprint(req: ChangeRequest): string {
  const s = req.settings ?? null;
  const settings = s && Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify([req.operation, req.serviceId.toLowerCase(), req.database ?? null,
    settings, req.expectedVersion ?? null, req.reason ?? null])).digest('hex');
}

/** User text inside messages: bounded, so a 1 MB name never comes back in an error. */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
