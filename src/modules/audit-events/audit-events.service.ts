/** The query path: one visible service at a time; failures are AuditEventsError (the API layer maps them). */
import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { AuditEventsError, AuditEventsErrorCode, invalidArgument } from './audit-events.errors';
import { toAuditEventNode } from './audit-events.mapper';
import type { AuditEventConnection, AuditEventFilter, AuditEventNode, AuditEventStats } from './audit-events.types';
import { decodeEventCursor, encodeEventCursor } from './event.cursor';
import type { EventGroupBy } from './event.document';
import { DEFAULT_STATS_WINDOW_MS, histogramBuckets } from './event.query';
import type { EventStore } from './event.store';
import type { EventTextBounds } from './text-cut';
import { SessionEventsService } from './session-events.service';
import { DEFAULT_TAIL_BOUNDS, TailBounds, tailStart } from './event.tail';
import { eventQuery } from './event.query';
import { decodeTailCursor } from './tail.cursor';
import { TailMessage, TailRecorder, TailService } from './tail.service';

/** The bounds of the query path's answers (config: EVENT_TEXT_MAX_BYTES, EVENT_MAX_PARAMETERS, STATS_DEFAULT_WINDOW_HOURS). */
export interface AnswerBounds extends EventTextBounds {
  /** auditEventStats without filter.from covers this long a window, ending at filter.to or now. */
  statsDefaultWindowMs: number;
}

export const DEFAULT_ANSWER_BOUNDS: AnswerBounds = { textMaxBytes: 4096, maxParameters: 100, statsDefaultWindowMs: DEFAULT_STATS_WINDOW_MS };

export class AuditEventsService {
  /** The session events (logins, failed logins, logouts): the same tenancy check and store, indices of their own. */
  readonly sessions: SessionEventsService;

  /** The open live tails of this process (their bounds: config TAIL_*). */
  readonly tails: TailService;

  constructor(private readonly tenancy: TenancyService, private readonly store: EventStore | null,
    private readonly bounds: AnswerBounds = DEFAULT_ANSWER_BOUNDS, tailBounds: TailBounds = DEFAULT_TAIL_BOUNDS, tailRecorder?: TailRecorder) {
    this.sessions = new SessionEventsService(tenancy, store, bounds.statsDefaultWindowMs);
    this.tails = new TailService(() => this.storeOrFail(), tailBounds, Date.now, tailRecorder);
  }

  /**
   * A live tail of one visible service's newly indexed events matching `filter` (the same filter and checks
   * as auditEvents), after the tail cursor `after` or from now; events cut as in auditEvents. Refused before
   * anything opens: a bad filter or cursor (INVALID_ARGUMENT), a service not visible (SERVICE_NOT_FOUND), no
   * store, or the token's or process's limit of open tails (TAIL_LIMIT_REACHED).
   */
  async tail(principal: Principal, serviceId: string, filter: AuditEventFilter | null | undefined, after: string | null | undefined)
    : Promise<AsyncIterableIterator<TailMessage<AuditEventNode>>> {
    eventQuery(serviceId, filter ?? {});   // the filter's own checks, before anything is looked up
    const cursor = after ? decodeTailCursor(after) : null;
    if (after && !cursor) throw invalidArgument('invalid cursor: pass a cursor delivered by auditEventTail', 'after');
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    this.storeOrFail();
    const start = tailStart(cursor, Date.now(), this.tails.bounds);
    return this.tails.subscribe({ tokenId: principal.tokenId, serviceId: service, filter, start, expiresAt: principal.expiresAt,
      map: (doc) => toAuditEventNode(doc, this.bounds) });
  }

  async events(principal: Principal, serviceId: string, filter: AuditEventFilter | null | undefined, first: number, after: string | null | undefined): Promise<AuditEventConnection> {
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    const cursor = after ? decodeEventCursor(after) : null;
    if (after && !cursor) throw invalidArgument('invalid cursor: pass an endCursor returned by auditEvents', 'after');
    const page = await this.storeOrFail().search(service, filter, first, cursor);
    const edges = page.events.map((doc) => ({ cursor: encodeEventCursor({ timestampMs: Date.parse(doc.timestamp), id: doc.id }), node: toAuditEventNode(doc, this.bounds) }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  /**
   * Counts by `groupBy` and the histogram twice: one list of counts from overTimeStart, and one object per bucket
   * (overTime, deprecated), built only when the field is read (a getter: an 840-bucket histogram is 840 objects).
   */
  async stats(principal: Principal, serviceId: string, filter: AuditEventFilter | null | undefined, groupBy: EventGroupBy, interval: string)
    : Promise<AuditEventStats> {
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    const { histogram, ...stats } = await this.storeOrFail().stats(service, filter, groupBy, interval, { defaultWindowMs: this.bounds.statsDefaultWindowMs });
    return { ...stats, groupBy, interval, overTimeStart: histogram.start, overTimeCounts: histogram.counts, get overTime() { return histogramBuckets(histogram); } };
  }

  /** One event, whole (statement and parameters uncut); null when the service has no event with this id. */
  async event(principal: Principal, serviceId: string, id: string): Promise<AuditEventNode | null> {
    const service = await this.tenancy.visibleServiceId(principal, serviceId);
    const doc = await this.storeOrFail().get(service, id);
    return doc ? toAuditEventNode(doc) : null;
  }

  private storeOrFail(): EventStore {
    if (!this.store) throw new AuditEventsError(AuditEventsErrorCode.STORE_NOT_CONFIGURED, 'audit event search is not configured (OPENSEARCH_URL)');
    return this.store;
  }
}
