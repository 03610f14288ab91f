/** Translates between GraphQL and SessionEventsService (reached through the context's AuditEventsService); no logic of its own. */
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { AuditEventsContext } from './audit-events.resolver';
import type { SessionGroupBy } from './session.document';
import { SessionEventConnection, SessionEventFilter, SessionEventGroupBy, SessionEventsArgs, SessionEventStats } from './session-events.types';

@Resolver()
export class SessionEventsResolver {
  @Query(() => SessionEventConnection, { description: 'Logins, failed logins and logouts of one service (from log_connections, log_disconnections and FATAL start-up lines), newest first, with an exact totalCount. Apart from auditEvents, which never returns them.' })
  sessionEvents(@Args() { serviceId, filter, first, after }: SessionEventsArgs, @Ctx() ctx: AuditEventsContext): Promise<SessionEventConnection> {
    return ctx.events.sessions.events(ctx.principal, serviceId, filter, first, after);
  }

  @Query(() => SessionEventStats, { description: 'Counts of one service\'s session events per value of a dimension, and over time, within a bounded time range: without `filter.from`, the last STATS_DEFAULT_WINDOW_HOURS (24 by default) before `filter.to` or now.' })
  async sessionEventStats(
    @Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string,
    @Arg('filter', () => SessionEventFilter, { nullable: true, description: 'Which session events.' }) filter: SessionEventFilter | null | undefined,
    @Arg('groupBy', () => SessionEventGroupBy, { defaultValue: 'KIND', description: 'The dimension to count by.' }) groupBy: SessionGroupBy,
    @Arg('interval', () => String, { defaultValue: '1h', description: 'Histogram interval: 5m, 1h, 1d, ... (at most 2000 buckets over the time range).' }) interval: string,
    @Ctx() ctx: AuditEventsContext): Promise<SessionEventStats> {
    const stats = await ctx.events.sessions.stats(ctx.principal, serviceId, filter, groupBy, interval);
    return { ...stats, groupBy, interval };
  }
}
