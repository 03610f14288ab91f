/** The query path: one visible service at a time; errors become API errors without internals. */
import { ApiError, ApiErrorCode } from '../../api/error-map';
import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { decodeEventCursor, encodeEventCursor } from './event.cursor';
import type { AuditEventDocument } from './event.index';
import { EventFilter, EventGroupBy, EventQueryError } from './event.query';
import { EventStats, EventStore, EventStoreUnavailable } from './event.store';

/** The GraphQL shape: STABLE non-null fields get "" / 0 where the log format did not carry them. */
export type EventNode = Omit<AuditEventDocument, 'timestamp' | 'user' | 'database' | 'sessionId' | 'sessionLineNum'>
  & { timestamp: Date; user: string; database: string; sessionId: string; sessionLineNum: number };

function toNode(d: AuditEventDocument): EventNode {
  return { ...d, timestamp: new Date(d.timestamp), user: d.user ?? '', database: d.database ?? '', sessionId: d.sessionId ?? '',
    sessionLineNum: d.sessionLineNum ?? 0 };
}

export interface EventConnection {
  edges: { cursor: string; node: EventNode }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export class AuditEventsService {
  constructor(private readonly tenancy: TenancyService, private readonly store: EventStore | null) {}

  async events(principal: Principal, serviceId: string, filter: EventFilter | null | undefined, first: number, after: string | null | undefined): Promise<EventConnection> {
    const service = await this.service(principal, serviceId);
    const cursor = after ? decodeEventCursor(after) : null;
    if (after && !cursor) throw new ApiError(ApiErrorCode.BAD_USER_INPUT, 'invalid cursor: pass an endCursor returned by auditEvents', { argument: 'after' });
    const page = await this.guard((store) => store.search(service, filter, first, cursor));
    const edges = page.events.map((doc) => ({ cursor: encodeEventCursor({ timestampMs: Date.parse(doc.timestamp), id: doc.id }), node: toNode(doc) }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  async stats(principal: Principal, serviceId: string, filter: EventFilter | null | undefined, groupBy: EventGroupBy, interval: string): Promise<EventStats> {
    const service = await this.service(principal, serviceId);
    return this.guard((store) => store.stats(service, filter, groupBy, interval));
  }

  private async service(principal: Principal, serviceId: string): Promise<string> {
    const id = await this.tenancy.visibleServiceId(principal, serviceId);
    if (!id) throw new ApiError(ApiErrorCode.NOT_FOUND, 'no such service in this project');
    return id;
  }

  private async guard<T>(fn: (store: EventStore) => Promise<T>): Promise<T> {
    if (!this.store) throw new ApiError(ApiErrorCode.SERVICE_UNAVAILABLE, 'audit event search is not configured (OPENSEARCH_URL)');
    try {
      return await fn(this.store);
    } catch (err) {
      if (err instanceof EventQueryError) throw new ApiError(ApiErrorCode.BAD_USER_INPUT, err.message, { argument: err.argument });
      if (err instanceof EventStoreUnavailable) throw new ApiError(ApiErrorCode.SERVICE_UNAVAILABLE, 'audit event search is unavailable; try again later');
      throw err;
    }
  }
}
