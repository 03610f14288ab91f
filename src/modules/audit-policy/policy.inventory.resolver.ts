/** Translates between GraphQL and PolicyInventory; no logic of its own. */
import { Arg, Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { decodeIdCursor, encodeIdCursor, PageArgs } from '../../base/relay';
import type { AuditPolicyContext } from './audit-policy.resolver';
import { AuditEligibility, AuditSettingDrift } from './audit-policy.types';
import { MAX_SCOPES } from './inventory.scopes';
import type { InventoryService } from './policy.inventory';
import { AuditPolicySummary, AuditScope, AuditService, AuditServiceConnection } from './policy.inventory.types';

const CURSOR = 'svc';


const summary = (serviceId: string, p: InventoryService['policies'][number]): AuditPolicySummary => ({ id: p.id, database: p.database || null,
  role: p.role || null, enabled: p.enabled, version: p.version, updatedAt: p.updatedAt, updatedBy: p.updatedBy, serviceId });

@Resolver(() => AuditService)
export class PolicyInventoryResolver {
  @Query(() => AuditServiceConnection, { description: 'The services of the caller\'s project, by name (then id), each with the audit status and policies the gateway records (from the gateway database alone; `eligibility` and the policies\' `drift` ask the live server).' })
  async services(@Args() { first, after }: PageArgs,   // the same first (1 to 100) and after as every paged field
    @Ctx() ctx: AuditPolicyContext): Promise<AuditServiceConnection> {
    const page = await ctx.policies.inventory.services(ctx.principal, first, after ? decodeIdCursor(CURSOR, after) : null);
    const edges = page.services.map((s) => ({ cursor: encodeIdCursor(CURSOR, s.id),
      node: { id: s.id, name: s.name, audit: s.audit, policies: s.policies.map((p) => summary(s.id, p)), service: s.service } }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @FieldResolver(() => AuditEligibility, { description: 'Whether audit logging can be managed on this service by the caller: the four checks on the live server (one connection per service per request, shared with every other field).' })
  eligibility(@Root() node: AuditService, @Ctx() ctx: AuditPolicyContext): Promise<AuditEligibility> {
    return ctx.policies.inventory.eligibility(ctx.principal, node.service, ctx.targets);
  }

  @Query(() => [AuditScope], { description: `Every scope of the service's live server that holds pgaudit settings, set through the gateway or by hand: the service (values differing from pgaudit's defaults), each database, each role, each role in a database; in that order, each by name; at most ${MAX_SCOPES} (a list of ${MAX_SCOPES} may have been cut).` })
  auditScopes(@Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string, @Ctx() ctx: AuditPolicyContext): Promise<AuditScope[]> {
    return ctx.policies.inventory.scopes(ctx.principal, serviceId, ctx.targets);
  }
}

/** A policy summary's live drift: the same read as AuditPolicy.drift, on the request's one connection to the service. */
@Resolver(() => AuditPolicySummary)
export class PolicySummaryDriftResolver {
  @FieldResolver(() => [AuditSettingDrift], { description: 'As AuditPolicy.drift: the settings whose value on the server now differs from what the gateway applied; empty when they agree and when the server could not be read (driftChecked false). Read from the live server, on the request\'s one connection to the service.' })
  async drift(@Root() policy: AuditPolicySummary, @Ctx() ctx: AuditPolicyContext): Promise<AuditSettingDrift[]> {
    return (await ctx.policies.drift.forRequest(ctx.principal, policy, ctx.targets)).drift;
  }

  @FieldResolver(() => Boolean, { description: 'As AuditPolicy.driftChecked: whether `drift` was read from the live server just now (false: the server could not be reached, drift unknown).' })
  async driftChecked(@Root() policy: AuditPolicySummary, @Ctx() ctx: AuditPolicyContext): Promise<boolean> {
    return (await ctx.policies.drift.forRequest(ctx.principal, policy, ctx.targets)).checked;
  }
}
