/** The session-event query path: the tenancy check of auditEvents (one visible service at a time), cursor checks, store calls. */
import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { AuditEventsError, AuditEventsErrorCode, invalidArgument } from './audit-events.errors';
import { decodeEventCursor, encodeEventCursor } from './event.cursor';
import type { EventStats, EventStore } from './event.store';
import { histogramBuckets } from './event.query';
import type { SessionGroupBy } from './session.document';
import type { SessionFilter } from './session.query';
import { toSessionEventNode } from './session-events.mapper';
import type { SessionEventConnection } from './session-events.types';

export class SessionEventsService {
  constructor(private readonly tenancy: TenancyService, private readonly store: EventStore | null, private readonly statsDefaultWindowMs: number) {}

  async events(principal: Principal, serviceId: string, filter: SessionFilter | null | undefined, first: number, after: string | null | undefined): Promise<SessionEventConnection> {
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    const cursor = after ? decodeEventCursor(after) : null;
    if (after && !cursor) throw invalidArgument('invalid cursor: pass an endCursor returned by sessionEvents', 'after');
    const page = await this.storeOrFail().searchSessions(service, filter, first, cursor);
    const edges = page.events.map((doc) => ({ cursor: encodeEventCursor({ timestampMs: Date.parse(doc.timestamp), id: doc.id }), node: toSessionEventNode(doc) }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  async stats(principal: Principal, serviceId: string, filter: SessionFilter | null | undefined, groupBy: SessionGroupBy, interval: string)
    : Promise<Omit<EventStats, 'histogram'> & { overTime: { start: Date; count: number }[] }> {
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    const { histogram, ...stats } = await this.storeOrFail().sessionStats(service, filter, groupBy, interval, { defaultWindowMs: this.statsDefaultWindowMs });
    return { ...stats, overTime: histogramBuckets(histogram) };
  }

  private storeOrFail(): EventStore {
    if (!this.store) throw new AuditEventsError(AuditEventsErrorCode.STORE_NOT_CONFIGURED, 'audit event search is not configured (OPENSEARCH_URL)');
    return this.store;
  }
}
