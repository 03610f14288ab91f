/**
 * The apply protocol against a target server: run the planned statements, read the result back, and put
 * everything back as it was if either fails, so that the history never claims a change the server does not
 * have. Also reads what a scope holds now (the settings a policy shows and a change starts from).
 *
 * One change may touch several scopes (a service-level policy with target databases: ALTER SYSTEM and an
 * ALTER DATABASE per database). The statements below the service level (ALTER DATABASE / ALTER ROLE, which
 * PostgreSQL keeps in pg_db_role_setting, transactionally) run in ONE transaction on the request's connection,
 * so they all take effect or none does; the ALTER SYSTEM statements (which cannot run in a transaction) run
 * after it commits. A failure after that commit restores every scope the change touched from what it held before.
 */
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import { AuditErrorCode, AuditPolicyError, clip, refuse, serverText } from './audit-policy.errors';
import { describeScope, planRestore, Scope } from './apply.plan';
import type { ChangeContext } from './policy.change';
import { scopeAndInheritedSettings, scopeSettings } from './scope.settings';
import { AuditSettingsValue, changedGucs, formatGuc, PgauditGuc } from './settings/settings.model';
import type { TargetSession } from './target/target.session';

/** The statements of one scope in a change, and what the scope held before them. */
export interface ScopeStep {
  scope: Scope;
  /** ALTER SYSTEM (+ the reload) / ALTER DATABASE / ALTER ROLE statements from apply.plan.ts. */
  statements: string[];
  /** What the scope held explicitly before (postgresql.auto.conf or pg_db_role_setting), to restore on failure. */
  explicitBefore: ReadonlyMap<string, string>;
  /** The settings the statements touch (the ones to restore). */
  gucs: readonly PgauditGuc[];
}

/** What one apply runs, what it must read back, and how to undo it. */
export interface ApplyPlan {
  /** Databases where `CREATE EXTENSION pgaudit` must run first ('' = the request's own connection's). */
  extensionIn: string[];
  steps: ScopeStep[];
  /** The settings each scope must show afterwards (a session's view of it: inherited layers included). */
  expected: ExpectedScope[];
}

/**
 * What one scope must show afterwards. Below the service level a scope's effective settings also depend on the
 * layers above it, which another change (another policy's row lock) may move at the same moment: so a scope that
 * SETs compares only the settings it set (`only`), and a scope that RESETs compares against what it inherits at
 * read-back time (`inherits`: the values it keeps of its own, e.g. object audit's pgaudit.role), read in the same
 * pass over the layers as the scope itself (scopeAndInheritedSettings).
 */
export interface ExpectedScope {
  scope: Scope;
  settings: AuditSettingsValue;
  only?: readonly PgauditGuc[];
  inherits?: Partial<AuditSettingsValue>;
}

export const CREATE_EXTENSION = 'CREATE EXTENSION IF NOT EXISTS pgaudit';

/** The statements a plan runs, in order, as the history records them. */
export function planStatements(plan: ApplyPlan): string[] {
  const below = plan.steps.filter((s) => s.scope.kind !== 'service').flatMap((s) => s.statements);
  const system = plan.steps.filter((s) => s.scope.kind === 'service').flatMap((s) => s.statements);
  return [...plan.extensionIn.map(() => CREATE_EXTENSION), ...below, ...system];
}

export class PolicyApplier {
  constructor(
    private readonly config: Pick<GatewayConfig, 'applyReadbackTimeoutMs'>,
    private readonly logger: Logger,
  ) {}

  /** Run the plan, read the result back, and undo everything if either fails. Returns the settings read back, per expected scope. */
  async apply(ctx: ChangeContext, plan: ApplyPlan): Promise<AuditSettingsValue[]> {
    const created: string[] = [];
    const touched: ScopeStep[] = [];
    const below = plan.steps.filter((s) => s.scope.kind !== 'service' && s.statements.length > 0);
    const system = plan.steps.filter((s) => s.scope.kind === 'service' && s.statements.length > 0);
    try {
      for (const database of plan.extensionIn) {
        await this.onDatabase(ctx, database, (s) => s.run(CREATE_EXTENSION)).catch((err: Error) => {
          if (err instanceof AuditPolicyError) throw err;
          throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, `the pgaudit extension could not be created (${serverText(err.message)})`);
        });
        created.push(database);
      }
      if (below.length > 0) {
        await this.inTransaction(ctx.session, below.flatMap((s) => s.statements));
        touched.push(...below);
      }
      for (const step of system) {
        touched.push(step);
        for (const sql of step.statements) await ctx.session.run(sql);
      }
      const after = await this.readBack(ctx, plan.expected);
      if (after.ok) return after.settings;
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service did not take the new settings: ${after.mismatch}; the previous settings were restored`);
    } catch (err) {
      await this.restore(ctx, touched);
      for (const database of created.reverse()) {
        await this.onDatabase(ctx, database, (s) => s.run('DROP EXTENSION IF EXISTS pgaudit'))
          .catch((e: Error) => (ctx.req.logger ?? this.logger).error('restore failed', { error: e.message }));
      }
      if (err instanceof AuditPolicyError) throw err;
      const message = (err as { message?: string }).message ?? 'unknown error';
      (ctx.req.logger ?? this.logger).warn('apply failed', { serviceId: ctx.service.id, error: message });
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service refused the change (${serverText(message)}); the previous settings were restored`);
    }
  }

  /** Whether pgaudit is installed in a database ('' = the request's connection's). */
  async extensionInstalled(ctx: ChangeContext, database: string): Promise<boolean> {
    if (!database) return ctx.session.extensionInstalled();
    return ctx.targets.withDatabase(ctx.service, database, (s) => s.extensionInstalled());
  }

  /** Run on one database ('' = the request's connection), acting as the caller's role. */
  private async onDatabase(ctx: ChangeContext, database: string, fn: (s: TargetSession) => Promise<void>): Promise<void> {
    if (!database) return fn(ctx.session);
    await ctx.targets.withDatabase(ctx.service, database, async (s) => { await s.actAs(ctx.req.principal.databaseRole); await fn(s); });
  }

  /** All or nothing: BEGIN, the statements, COMMIT; ROLLBACK on the first failure. */
  private async inTransaction(session: TargetSession, statements: readonly string[]): Promise<void> {
    await session.run('BEGIN');
    try {
      for (const sql of statements) await session.run(sql);
      await session.run('COMMIT');
    } catch (err) {
      await session.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Put back every scope whose statements took effect: those below the service in one transaction, then the service. */
  private async restore(ctx: ChangeContext, touched: readonly ScopeStep[]): Promise<void> {
    const log = (e: Error) => (ctx.req.logger ?? this.logger).error('restore failed', { error: e.message });
    const plan = (s: ScopeStep) => planRestore(s.scope, s.explicitBefore, s.gucs, ctx.facts.gucs);
    const below = touched.filter((s) => s.scope.kind !== 'service').flatMap(plan);
    if (below.length > 0) await this.inTransaction(ctx.session, below).catch(log);
    for (const sql of touched.filter((s) => s.scope.kind === 'service').flatMap(plan)) await ctx.session.run(sql).catch(log);
  }

  /**
   * Settings below the service level are visible at once (pg_db_role_setting is transactional). Service
   * settings show only once the postmaster has processed pg_reload_conf() and signalled the backends: poll the
   * request's own connection (a backend applies a pending reload before its next command, and from then on
   * new connections get the same values) until every scope shows the expected values or the deadline passes.
   */
  private async readBack(ctx: ChangeContext, expected: ApplyPlan['expected'])
    : Promise<{ ok: true; settings: AuditSettingsValue[] } | { ok: false; mismatch: string }> {
    const deadline = Date.now() + this.config.applyReadbackTimeoutMs;
    const started = Date.now();
    let pause = 2;
    for (;;) {
      const got: AuditSettingsValue[] = [];
      const problems: string[] = [];
      for (const e of expected) {
        // a RESET scope against what it inherits, both from one read of the layers above (another change may move one meanwhile)
        const read = e.inherits ? await scopeAndInheritedSettings(ctx.session, e.scope) : null;
        const settings = read?.settings ?? await scopeSettings(ctx.session, e.scope);
        got.push(settings);
        const want = read && e.inherits ? { ...read.inherited, ...e.inherits } : e.settings;
        const differ = changedGucs(want, settings).filter((g) => ctx.facts.gucs.has(g) && (!e.only || e.only.includes(g)));
        if (differ.length > 0) {
          const where = expected.length > 1 || e.scope.kind !== ctx.scope.kind ? ` (${clip(describeScope(e.scope))})` : '';
          problems.push(...differ.map((g) => `${g}${where} is '${clip(formatGuc(settings, g) ?? '')}', expected '${clip(formatGuc(want, g) ?? '')}'`));
        }
      }
      if (problems.length === 0) return { ok: true, settings: got };
      const waitsForReload = expected.some((e) => e.scope.kind === 'service') || ctx.scope.kind === 'service';
      if (!waitsForReload || Date.now() > deadline) return { ok: false, mismatch: problems.slice(0, 5).join('; ') };
      await new Promise((r) => setTimeout(r, pause));
      // a reload shows within tens of milliseconds: poll every 2 ms for the first 100 ms (one light query each, on
      // the request's own connection), so the answer follows the reload closely; then back off, a slow one is not polled hard
      pause = Date.now() - started < 100 ? 2 : Math.min(pause * 2, 250);
    }
  }
}
