/** Translates between GraphQL and AuditEventsService; no logic of its own. */
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Principal } from '../tenancy/principal';
import type { AuditEventsService } from './audit-events.service';
import { AuditEventArgs, AuditEventConnection, AuditEventFilter, AuditEventGroupBy, AuditEventNode, AuditEventsArgs, AuditEventStats } from './audit-events.types';
import type { EventGroupBy } from './event.document';

/** What this module's resolvers need from the request context (the API layer's context provides it). */
export interface AuditEventsContext { principal: Principal; events: AuditEventsService }

@Resolver()
export class AuditEventsResolver {
  @Query(() => AuditEventConnection, { description: 'Audit events of one service, newest first, with an exact totalCount. Statements and parameters are cut at EVENT_TEXT_MAX_BYTES (flagged by statementTruncated / parametersTruncated); auditEvent returns one event whole.' })
  auditEvents(@Args() { serviceId, filter, first, after }: AuditEventsArgs, @Ctx() ctx: AuditEventsContext): Promise<AuditEventConnection> {
    return ctx.events.events(ctx.principal, serviceId, filter, first, after);
  }

  @Query(() => AuditEventNode, { nullable: true, description: 'One audit event of one service with its whole statement and parameters; null when the service has no event with this id.' })
  auditEvent(@Args() { serviceId, id }: AuditEventArgs, @Ctx() ctx: AuditEventsContext): Promise<AuditEventNode | null> {
    return ctx.events.event(ctx.principal, serviceId, id);
  }

  @Query(() => AuditEventStats, { description: 'Counts of one service\'s audit events per value of a dimension, and over time, within a bounded time range: without filter.from, the last STATS_DEFAULT_WINDOW_HOURS (24 by default) before filter.to or now. The range used is returned as from/to.' })
  async auditEventStats(
    @Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Which events.' }) filter: AuditEventFilter | null | undefined,
    @Arg('groupBy', () => AuditEventGroupBy, { defaultValue: 'CLASS', description: 'The dimension to count by.' }) groupBy: EventGroupBy,
    @Arg('interval', () => String, { defaultValue: '1h', description: 'Histogram interval: 5m, 1h, 1d, ... (at most 2000 buckets over the time range).' }) interval: string,
    @Ctx() ctx: AuditEventsContext): Promise<AuditEventStats> {
    const stats = await ctx.events.stats(ctx.principal, serviceId, filter, groupBy, interval);
    return { ...stats, groupBy, interval };
  }
}
