/** Translates between GraphQL and AuditEventsService; no logic of its own. */
import { Arg, Args, Ctx, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Principal } from '../tenancy/principal';
import type { AuditEventsService } from './audit-events.service';
import { AuditEventArgs, AuditEventConnection, AuditEventFilter, AuditEventGroupBy, AuditEventNode, AuditEventsArgs, AuditEventStats,
  AuditEventTailArgs, AuditEventTailItem } from './audit-events.types';
import type { TailMessage } from './tail.service';
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

  @Query(() => AuditEventStats, { description: 'Counts of one service\'s audit events per value of a dimension, and over time, within a bounded time range: without `filter.from`, the last STATS_DEFAULT_WINDOW_HOURS (24 by default) before `filter.to` or now. The range used is returned as from/to.' })
  auditEventStats(
    @Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string,
    @Arg('filter', () => AuditEventFilter, { nullable: true, description: 'Which events.' }) filter: AuditEventFilter | null | undefined,
    @Arg('groupBy', () => AuditEventGroupBy, { defaultValue: 'CLASS', description: 'The dimension to count by.' }) groupBy: EventGroupBy,
    @Arg('interval', () => String, { defaultValue: '1h', description: 'Histogram interval: 5m, 1h, 1d, ... (at most 2000 buckets over the time range).' }) interval: string,
    @Ctx() ctx: AuditEventsContext): Promise<AuditEventStats> {
    return ctx.events.stats(ctx.principal, serviceId, filter, groupBy, interval);
  }

  @Subscription(() => AuditEventTailItem, {
    description: 'Live tail: the events of one service matching the filter as they are indexed, oldest first in the order they were indexed, '
      + 'each once, each with a cursor to resume right after it (after:). Served over Server-Sent Events at /graphql/stream (graphql-sse). '
      + 'An event is delivered once TAIL_SETTLE_MS (3 s by default) have passed since it was indexed; at most TAIL_MAX_EVENTS_PER_POLL per TAIL_POLL_INTERVAL_MS. '
      + 'Ends with SUBSCRIPTION_ENDED (extensions.reason, extensions.cursor) after TAIL_MAX_LIFETIME_MS or TAIL_IDLE_TIMEOUT_MS; '
      + 'refused with SUBSCRIPTION_LIMIT_REACHED past TAIL_MAX_PER_TOKEN open tails per token or TAIL_MAX_SUBSCRIPTIONS per gateway process.',
    subscribe: ({ args, context }) => {
      const a = args as AuditEventTailArgs;
      const ctx = context as AuditEventsContext;
      return ctx.events.tail(ctx.principal, a.serviceId, a.filter, a.after);
    },
  })
  auditEventTail(@Root() message: TailMessage<AuditEventNode>, @Args({ validate: false }) _args: AuditEventTailArgs): AuditEventTailItem {
    if (message instanceof Error) throw message;   // the tail's last message: why it ended
    return message;
  }
}
