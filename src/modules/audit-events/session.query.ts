/**
 * Every OpenSearch request of the session-event query path (sessionEvents, sessionEventStats). Pure: no
 * I/O. The rules of event.query.ts hold here too: the caller's service is a `term` filter inside the query
 * (never a post-filter), user text is only ever a `terms` value, and every argument is bounded.
 */
import { invalidArgument } from './audit-events.errors';
import type { EventCursor } from './event.cursor';
import { tiebreakOf } from './event.index';
import { DEFAULT_STATS_WINDOW_MS, histogramShape, MAX_PAGE, MAX_TERM_LENGTH, MAX_TERMS, PAGE_SEARCH_PATH, parseInterval, serviceTimeSessionClauses, STATS_QUERYSTRING, statsWindow,
  terms } from './event.query';
import { SESSION_GROUP_BY_FIELDS, SessionEventKind, SessionGroupBy, LoginFailureReason } from './session.document';
import { SESSION_INDEX_PATTERN } from './session.index';

/** A list filter has at most this many values, each at most SESSION_MAX_TERM_LENGTH characters (as auditEvents). */
export const SESSION_MAX_TERMS = MAX_TERMS;
export const SESSION_MAX_TERM_LENGTH = MAX_TERM_LENGTH;

/** Which session events (the GraphQL SessionEventFilter has this shape). Every list matches any of its values. */
export interface SessionFilter {
  from?: Date | null;
  to?: Date | null;
  kinds?: SessionEventKind[] | null;
  users?: string[] | null;
  databases?: string[] | null;
  remoteHosts?: string[] | null;
  applicationNames?: string[] | null;
  failureReasons?: LoginFailureReason[] | null;
  sessionId?: string | null;
}

type Clause = Record<string, unknown>;

/** The bool query for one service and one filter. */
export function sessionQuery(serviceId: string, f: SessionFilter = {}): Clause {
  const filter = serviceTimeSessionClauses(serviceId, f);
  filter.push(...terms('kind', f.kinds, 'filter.kinds'), ...terms('user', f.users, 'filter.users'),
    ...terms('database', f.databases, 'filter.databases'), ...terms('remoteHost', f.remoteHosts, 'filter.remoteHosts'),
    ...terms('applicationName', f.applicationNames, 'filter.applicationNames'), ...terms('failureReason', f.failureReasons, 'filter.failureReasons'));
  return { bool: { filter } };
}

/**
 * sessionEvents' request: one page newest first (time, then tiebreak; one more than asked tells whether a
 * next page exists) and the exact count, as one `_msearch`.
 */
export function buildSessionPageRequest(serviceId: string, filter: SessionFilter | null | undefined, first: number, after: EventCursor | null) {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalidArgument(`first must be 1 to ${MAX_PAGE}`, 'first');
  const query = sessionQuery(serviceId, filter ?? {});
  const header = { index: SESSION_INDEX_PATTERN, ignore_unavailable: true, allow_no_indices: true };
  const page = {
    size: first + 1,
    track_total_hits: false,
    sort: [{ timestamp: { order: 'desc' } }, { tiebreak: { order: 'desc' } }],
    ...(after ? { search_after: [after.timestampMs, tiebreakOf(after.id)] } : {}),
    query,
  };
  return { path: PAGE_SEARCH_PATH, lines: [header, page, header, { size: 0, track_total_hits: true, query }] };
}

/**
 * Counts per value of one dimension and a histogram over time, for one service and filter, over the bounded
 * range of statsWindow (the same rules and bucket bound as auditEventStats).
 */
export function buildSessionStats(serviceId: string, filter: SessionFilter | null | undefined, groupBy: SessionGroupBy, interval: string,
  opts: { defaultWindowMs?: number; now?: Date } = {}) {
  const { from, to } = statsWindow(filter ?? {}, opts.defaultWindowMs ?? DEFAULT_STATS_WINDOW_MS, opts.now ?? new Date());
  const { fixedInterval, ms } = parseInterval(interval, { from, to });
  return {
    index: SESSION_INDEX_PATTERN,
    querystring: STATS_QUERYSTRING,
    from, to,
    histogram: histogramShape(from, to, ms),
    body: {
      size: 0,
      track_total_hits: true,
      query: sessionQuery(serviceId, { ...filter, from, to }),
      aggs: {
        groups: { terms: { field: SESSION_GROUP_BY_FIELDS[groupBy], size: 50, missing: '(none)' } },
        overTime: { date_histogram: { field: 'timestamp', fixed_interval: fixedInterval, min_doc_count: 0,
          extended_bounds: { min: from.toISOString(), max: to.toISOString() } } },
      },
    },
  };
}
