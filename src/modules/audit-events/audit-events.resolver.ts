/** Translates between GraphQL and AuditEventsService; no logic of its own. */
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { GatewayContext } from '../../api/context';
import { AuditEventConnection, AuditEventFilter, AuditEventGroupBy, AuditEventsArgs, AuditEventStats } from './audit-events.types';
import type { EventGroupBy } from './event.query';

@Resolver()
export class AuditEventsResolver {
  @Query(() => AuditEventConnection, { description: 'Audit events of one service, newest first, with an exact totalCount.' })
  async auditEvents(@Args() { serviceId, filter, first, after }: AuditEventsArgs, @Ctx() ctx: GatewayContext): Promise<AuditEventConnection> {
    return await ctx.events.events(ctx.principal, serviceId, filter, first, after) as unknown as AuditEventConnection;
  }

  @Query(() => AuditEventStats, { description: 'Counts of one service\'s audit events per value of a dimension, and over time.' })
  async auditEventStats(
    @Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Which events.' }) filter: AuditEventFilter | null | undefined,
    @Arg('groupBy', () => AuditEventGroupBy, { defaultValue: 'CLASS', description: 'The dimension to count by.' }) groupBy: EventGroupBy,
    @Arg('interval', () => String, { defaultValue: '1h', description: 'Histogram interval: 5m, 1h, 1d, ... (at most 2000 buckets over the filter\'s range).' }) interval: string,
    @Ctx() ctx: GatewayContext): Promise<AuditEventStats> {
    const stats = await ctx.events.stats(ctx.principal, serviceId, filter, groupBy, interval);
    return { ...stats, groupBy, interval };
  }
}
