/**
 * The apply protocol against a target server: run the planned statements, read the result back, and put
 * everything back as it was if either fails, so that the history never claims a change the server does not
 * have. Also reads what a scope holds now (the settings a policy shows and a change starts from).
 */
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import { AuditErrorCode, AuditPolicyError, clip, refuse, serverText } from './audit-policy.errors';
import { planRestore, Scope } from './apply.plan';
import { ChangeContext, effectiveSettings } from './policy.change';
import { AuditSettingsValue, changedGucs, formatGuc, PgauditGuc } from './settings/settings.model';
import type { TargetSession } from './target/target.session';

/** What one apply runs and how to undo it. */
export interface ApplyPlan {
  /** `CREATE EXTENSION` in the scope's database, if enable must create it. */
  extension: string[];
  /** The `ALTER SYSTEM` / `ALTER DATABASE` statements (plus the reload) on the context's session. */
  statements: string[];
  /** The settings the scope must show afterwards. */
  expected: AuditSettingsValue;
  /** What the scope held before (postgresql.auto.conf or pg_db_role_setting), to restore on failure. */
  explicitBefore: ReadonlyMap<string, string>;
  /** The settings the statements touch (the ones to restore). */
  gucs: readonly PgauditGuc[];
}

export class PolicyApplier {
  constructor(
    private readonly config: Pick<GatewayConfig, 'applyReadbackTimeoutMs'>,
    private readonly logger: Logger,
  ) {}

  /** Run the plan, read the result back, and undo everything if either fails. Returns the settings read back. */
  async apply(ctx: ChangeContext, plan: ApplyPlan): Promise<AuditSettingsValue> {
    let createdExtension = false;
    let applied = 0;
    try {
      if (plan.extension.length > 0) {
        await this.onScopeDatabase(ctx, async (s) => { for (const sql of plan.extension) await s.run(sql); }).catch((err: Error) => {
          if (err instanceof AuditPolicyError) throw err;
          throw refuse(AuditErrorCode.PGAUDIT_UNAVAILABLE, `the pgaudit extension could not be created (${serverText(err.message)})`);
        });
        createdExtension = true;
      }
      for (const sql of plan.statements) { applied += 1; await ctx.session.run(sql); }
      const after = await this.readBack(ctx, plan.expected);
      if (after.ok) return after.settings;
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service did not take the new settings: ${after.mismatch}; the previous settings were restored`);
    } catch (err) {
      if (applied > 0) await this.restore(ctx, plan);
      if (createdExtension) {
        await this.onScopeDatabase(ctx, (s) => s.run('DROP EXTENSION IF EXISTS pgaudit'))
          .catch((e: Error) => (ctx.req.logger ?? this.logger).error('restore failed', { error: e.message }));
      }
      if (err instanceof AuditPolicyError) throw err;
      const message = (err as { message?: string }).message ?? 'unknown error';
      (ctx.req.logger ?? this.logger).warn('apply failed', { serviceId: ctx.service.id, error: message });
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service refused the change (${serverText(message)}); the previous settings were restored`);
    }
  }

  /** The settings a scope has now: the service's, overlaid with the database's own for a database scope. */
  async readScope(session: TargetSession, scope: Scope): Promise<AuditSettingsValue> {
    const serviceValues = await session.serviceSettings();
    return effectiveSettings(serviceValues, scope.kind === 'database' ? await session.databaseSettings(scope.database) : new Map());
  }

  /** Whether pgaudit is installed in the scope's database (the extension lives per database). */
  async extensionInstalled(ctx: ChangeContext): Promise<boolean> {
    if (!ctx.database) return ctx.session.extensionInstalled();
    return ctx.targets.withDatabase(ctx.service, ctx.database, (s) => s.extensionInstalled());
  }

  /** Run on the database of the scope, acting as the caller's role. */
  private async onScopeDatabase(ctx: ChangeContext, fn: (s: TargetSession) => Promise<void>): Promise<void> {
    if (!ctx.database) return fn(ctx.session);
    await ctx.targets.withDatabase(ctx.service, ctx.database, async (s) => { await s.actAs(ctx.req.principal.databaseRole); await fn(s); });
  }

  private async restore(ctx: ChangeContext, plan: ApplyPlan): Promise<void> {
    for (const sql of planRestore(ctx.scope, plan.explicitBefore, plan.gucs, ctx.facts.gucs)) {
      await ctx.session.run(sql).catch((e: Error) => (ctx.req.logger ?? this.logger).error('restore failed', { error: e.message }));
    }
  }

  /**
   * Database settings are visible at once (pg_db_role_setting is transactional). Service settings
   * show only once the postmaster has processed pg_reload_conf() and signalled the backends: poll the
   * request's own connection (a backend applies a pending reload before its next command, and from then on
   * new connections get the same values) until it shows the expected values or the deadline passes.
   */
  private async readBack(ctx: ChangeContext, expected: AuditSettingsValue)
    : Promise<{ ok: true; settings: AuditSettingsValue } | { ok: false; mismatch: string }> {
    const { scope, facts } = ctx;
    const deadline = Date.now() + this.config.applyReadbackTimeoutMs;
    let pause = 5;
    for (;;) {
      const got = await this.readScope(ctx.session, scope);
      const differ = changedGucs(expected, got).filter((g) => facts.gucs.has(g));
      if (differ.length === 0) return { ok: true, settings: got };
      if (scope.kind === 'database' || Date.now() > deadline) {
        return { ok: false, mismatch: differ.map((g) => `${g} is '${clip(formatGuc(got, g) ?? '')}', expected '${clip(formatGuc(expected, g) ?? '')}'`).join('; ') };
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 250);   // a reload shows within milliseconds; a slow one is not polled hard
    }
  }
}
