/** Translates between GraphQL and PolicyService; no logic of its own. */
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Logger } from '../../base/logger';
import { decodeCursor, encodeCursor, PageArgs } from '../../base/relay';
import type { Principal } from '../tenancy/principal';
import { ConfigureAuditLoggingInput, DisableAuditLoggingInput, EnableAuditLoggingInput, AuditSettingsInput } from './audit-policy.inputs';
import { AdoptAuditPolicyInput, ReconcileAuditPolicyInput } from './audit-policy.inputs';
import { AuditEligibility, AuditHistoryIntegrity, AuditPolicy, AuditPolicyPayload, AuditPolicyRevisionConnection } from './audit-policy.types';
import { AuditSettingDrift } from './audit-policy.types';
import type { ChangeRequest, Operation } from './policy.change';
import type { PolicyService } from './policy.service';
import type { TargetLease } from './target/target.lease';
import type { AuditSettingsPatch } from './settings/settings.model';

const CURSOR = 'rev';

/** What this module's resolvers need from the request context (the API layer's context provides it). */
export interface AuditPolicyContext {
  principal: Principal;
  policies: PolicyService;
  /** The request's hold on the targets (policies.requestTargets()); whoever builds the context closes it when the request ends. */
  targets: TargetLease;
  /** the request's logger (with its request id) */
  logger?: Logger;
}

/** GraphQL null and absent both mean "not given". */
function patchOf(input: AuditSettingsInput | null | undefined): AuditSettingsPatch | null {
  if (!input) return null;
  const patch: AuditSettingsPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== null && value !== undefined) (patch as Record<string, unknown>)[key] = value;
  }
  return patch;
}

@Resolver(() => AuditPolicy)
export class AuditPolicyResolver {
  @Query(() => AuditEligibility, { description: 'Whether audit logging can be managed on this service by the caller: the four checks, each with a reason.' })
  auditEligibility(@Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string, @Ctx() ctx: AuditPolicyContext): Promise<AuditEligibility> {
    return ctx.policies.eligibility(ctx.principal, serviceId, ctx.targets);
  }

  @Query(() => AuditPolicy, { nullable: true, description: 'The audit policy of a service (database absent) or of one database; null until audit logging was first enabled there through the gateway.' })
  async auditPolicy(@Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string,
    @Arg('database', () => String, { nullable: true, description: 'A database of the service; absent for the service-level policy.' }) database: string | null | undefined,
    @Ctx() ctx: AuditPolicyContext,
    @Arg('role', () => String, { nullable: true, description: 'A role: the policy of that role (in the database, if given).' }) role?: string | null): Promise<AuditPolicy | null> {
    return ctx.policies.policy(ctx.principal, serviceId, database, ctx.targets, role);
  }

  @FieldResolver(() => AuditPolicyRevisionConnection, { description: 'The revisions of this policy, newest first.' })
  async history(@Root() policy: AuditPolicy, @Args() { first, after }: PageArgs, @Ctx() ctx: AuditPolicyContext): Promise<AuditPolicyRevisionConnection> {
    const before = after ? decodeCursor(CURSOR, after) : null;
    const page = await ctx.policies.history(policy.id, first, before);
    const edges = page.rows.map((node) => ({ cursor: encodeCursor(CURSOR, node.version), node }));
    return { edges, totalCount: page.totalCount,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @FieldResolver(() => AuditHistoryIntegrity, { description: 'Whether the history of this policy is as written (its hash chain holds), and the first revision that breaks it.' })
  historyIntegrity(@Root() policy: AuditPolicy, @Ctx() ctx: AuditPolicyContext): Promise<AuditHistoryIntegrity> {
    return ctx.policies.historyIntegrity(policy.id, policy.version);
  }

  @Mutation(() => AuditPolicyPayload, { description: 'Enable audit logging (predefined settings unless given). Idempotent with idempotencyKey.' })
  enableAuditLogging(@Arg('input', () => EnableAuditLoggingInput, { description: 'What to enable, where and why.' }) input: EnableAuditLoggingInput, @Ctx() ctx: AuditPolicyContext) {
    return this.change('enable', input, patchOf(input.settings), null, ctx, input.targetDatabases);
  }

  @Mutation(() => AuditPolicyPayload, { description: 'Change the given settings of an enabled policy.' })
  configureAuditLogging(@Arg('input', () => ConfigureAuditLoggingInput, { description: 'The settings to change, where and why.' }) input: ConfigureAuditLoggingInput, @Ctx() ctx: AuditPolicyContext) {
    return this.change('configure', input, patchOf(input.settings) ?? {}, input.expectedVersion, ctx, input.targetDatabases);
  }

  @Mutation(() => AuditPolicyPayload, { description: 'Disable audit logging: RESET the scope\'s pgaudit settings on the server, keeping the history.' })
  disableAuditLogging(@Arg('input', () => DisableAuditLoggingInput, { description: 'Where to disable audit logging, and why.' }) input: DisableAuditLoggingInput, @Ctx() ctx: AuditPolicyContext) {
    return this.change('disable', input, null, input.expectedVersion, ctx);
  }

  // ---- drift (policy.drift.ts) -------------------------------------------------------------------

  @FieldResolver(() => [AuditSettingDrift], { description: 'The settings whose value on the server now differs from what the gateway applied (typed comparison: order, duplicates and spellings of one value are not drift). Empty when they agree, and when the server could not be read (driftChecked false).' })
  async drift(@Root() policy: AuditPolicy, @Ctx() ctx: AuditPolicyContext): Promise<AuditSettingDrift[]> {
    return (await ctx.policies.drift.forRequest(ctx.principal, policy, ctx.targets)).drift;
  }

  @FieldResolver(() => Boolean, { description: 'Whether `drift` was read from the live server just now (false: the server could not be reached, drift unknown).' })
  async driftChecked(@Root() policy: AuditPolicy, @Ctx() ctx: AuditPolicyContext): Promise<boolean> {
    return (await ctx.policies.drift.forRequest(ctx.principal, policy, ctx.targets)).checked;
  }

  @Mutation(() => AuditPolicyPayload, { description: 'Put the settings the gateway applied last back on the server where they drifted (revision RECONCILED); nothing to do when nothing drifted.' })
  reconcileAuditPolicy(@Arg('input', () => ReconcileAuditPolicyInput, { description: 'Which policy to reconcile, and why.' }) input: ReconcileAuditPolicyInput, @Ctx() ctx: AuditPolicyContext) {
    return this.change('reconcile', input, null, input.expectedVersion, ctx);
  }

  @Mutation(() => AuditPolicyPayload, { description: 'Record the settings the server holds now as the policy\'s settings (revision ADOPTED, changes from applied to live; no statement run); nothing to do when nothing drifted.' })
  adoptAuditPolicy(@Arg('input', () => AdoptAuditPolicyInput, { description: 'Which policy takes its server\'s settings, and why.' }) input: AdoptAuditPolicyInput, @Ctx() ctx: AuditPolicyContext) {
    return this.change('adopt', input, null, input.expectedVersion, ctx);
  }

  private async change(operation: Operation,
    input: { serviceId: string; database?: string | null; role?: string | null; reason?: string | null; idempotencyKey?: string | null; dryRun?: boolean | null },
    settings: AuditSettingsPatch | null, expectedVersion: number | null | undefined, ctx: AuditPolicyContext,
    targetDatabases?: string[] | null): Promise<AuditPolicyPayload> {
    const req: ChangeRequest = { operation, principal: ctx.principal, serviceId: input.serviceId, database: input.database,
      role: input.role, targetDatabases,
      settings, expectedVersion, reason: input.reason, idempotencyKey: input.idempotencyKey, dryRun: input.dryRun, logger: ctx.logger };
    return ctx.policies.change(req, ctx.targets);
  }
}
