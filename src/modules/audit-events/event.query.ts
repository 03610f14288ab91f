/**
 * Builds every OpenSearch request the query path sends. Pure: no I/O. Two rules hold for all of them:
 * - the caller's service is a `term` filter INSIDE the query (never a post-filter), so no request this
 *   code builds can return another tenant's events;
 * - user text is only ever a value: the text filter is parsed by our own grammar (event.text-query.ts) into
 *   `match`/`match_phrase`/`term`/`prefix` clauses with the text as their values, names go into
 *   `term`/`terms`. Nothing a user types is parsed as query syntax.
 */
import { invalidArgument } from './audit-events.errors';
import type { AuditEventFilter } from './audit-events.types';
import { EventGroupBy, GROUP_BY_FIELDS } from './event.document';
import { EventCursor } from './event.cursor';
import { INDEX_PATTERN, tiebreakOf } from './event.index';
import { textFilter } from './event.text-query';

export const MAX_PAGE = 100;
/** A list filter has at most this many values, each (and a session id) at most MAX_TERM_LENGTH characters. */
export const MAX_TERMS = 100;
export const MAX_TERM_LENGTH = 256;
const MAX_BUCKETS = 2000;

type Clause = Record<string, unknown>;

/** A `terms` clause for a list filter (none when empty), its bounds checked. */
export function terms(field: string, values: readonly string[] | null | undefined, argument: string): Clause[] {
  if (!values || values.length === 0) return [];
  if (values.length > MAX_TERMS) throw invalidArgument(`${argument}: at most ${MAX_TERMS} values`, argument);
  if (values.some((v) => typeof v !== 'string' || v.length > MAX_TERM_LENGTH)) {
    throw invalidArgument(`${argument}: values are at most ${MAX_TERM_LENGTH} characters`, argument);
  }
  return [{ terms: { [field]: [...new Set(values)] } }];
}

/**
 * What every filter of an event kind shares: the service `term`, the time range on `timestamp` (checked:
 * valid times, from <= to) and the session id. The start of the filter list of every query.
 */
export function serviceTimeSessionClauses(serviceId: string, f: { from?: Date | null; to?: Date | null; sessionId?: string | null }): Clause[] {
  const filter: Clause[] = [{ term: { serviceId } }];
  const from = f.from ?? null;
  const to = f.to ?? null;
  for (const [d, arg] of [[from, 'filter.from'], [to, 'filter.to']] as const) {
    if (d && Number.isNaN(d.getTime())) throw invalidArgument(`${arg} is not a valid time`, arg);
  }
  if (from && to && from.getTime() > to.getTime()) throw invalidArgument('filter.from is after filter.to', 'filter.from');
  if (from || to) {
    filter.push({ range: { timestamp: { ...(from ? { gte: from.toISOString() } : {}), ...(to ? { lte: to.toISOString() } : {}) } } });
  }
  if (f.sessionId) {
    if (f.sessionId.length > MAX_TERM_LENGTH) throw invalidArgument('filter.sessionId is too long', 'filter.sessionId');
    filter.push({ term: { sessionId: f.sessionId } });
  }
  return filter;
}

/** The bool query for one service and one filter. */
export function eventQuery(serviceId: string, f: AuditEventFilter = {}): Clause {
  const filter = serviceTimeSessionClauses(serviceId, f);
  filter.push(...terms('database', f.databases, 'filter.databases'), ...terms('user', f.users, 'filter.users'),
    ...terms('class', f.classes, 'filter.classes'), ...terms('command', f.commands, 'filter.commands'),
    ...terms('objectName', f.objectNames, 'filter.objectNames'), ...terms('auditType', f.auditTypes, 'filter.auditTypes'));
  const text = f.text?.trim();
  if (text) filter.push(...textFilter(text));
  return { bool: { filter } };
}

/**
 * One page, newest first (time, then tiebreakOf(id)); one event more than asked tells whether a next
 * page exists. It does not count: with an exact total, OpenSearch must visit every match in sort order,
 * without one it skips whole blocks of older events (figures: bench/README.md).
 */
export function buildEventSearch(serviceId: string, filter: AuditEventFilter | null | undefined, first: number, after: EventCursor | null) {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalidArgument(`first must be 1 to ${MAX_PAGE}`, 'first');
  return {
    index: INDEX_PATTERN,
    body: {
      size: first + 1,
      track_total_hits: false,
      // As the indices are sorted. Documents written before the tiebreak field existed have none:
      // unmapped_type keeps their indices searchable, and `_first` puts them before any cursor of their
      // millisecond, so a page boundary never repeats them (only events of one millisecond, all written
      // before the field, can be skipped at a boundary).
      sort: [{ timestamp: { order: 'desc' } }, { tiebreak: { order: 'desc', unmapped_type: 'long', missing: '_first' } }],
      ...(after ? { search_after: [after.timestampMs, tiebreakOf(after.id)] } : {}),
      query: eventQuery(serviceId, filter ?? {}),
    },
  };
}

/**
 * The exact number of events matching the filter: no hits, so OpenSearch counts without sorting (a
 * service-only filter is answered from the term's document frequency) and may serve it from its
 * request cache until the next refresh.
 */
export function buildEventCount(serviceId: string, filter: AuditEventFilter | null | undefined) {
  return { index: INDEX_PATTERN, body: { size: 0, track_total_hits: true, query: eventQuery(serviceId, filter ?? {}) } };
}

/**
 * The path of a page + count `_msearch` (events and session events): only what the store reads comes back,
 * each answer's status and error type, the hits' sources without the fields written beside the document
 * (tiebreak, searchTerms) and the count. OpenSearch leaves out each hit's index, id, score and sort values and
 * the shard and timing headers, and the gateway parses the rest only. Every answer keeps its status, so the
 * two stay in order; a page without hits comes back as its status alone.
 */
export const PAGE_SEARCH_PATH = `/_msearch?${new URLSearchParams({ filter_path: ['responses.status', 'responses.error.type', 'responses.hits.total.value',
  'responses.hits.hits._source', '-responses.hits.hits._source.tiebreak', '-responses.hits.hits._source.searchTerms'].join(',') }).toString()}`;

/**
 * What auditEvents sends: the page and the count as one `_msearch` request (NDJSON lines), which
 * OpenSearch runs in parallel. The benchmark sends this same request straight to OpenSearch.
 */
export function buildEventPageRequest(serviceId: string, filter: AuditEventFilter | null | undefined, first: number, after: EventCursor | null) {
  const header = { index: INDEX_PATTERN, ignore_unavailable: true, allow_no_indices: true };
  return { path: PAGE_SEARCH_PATH, lines: [header, buildEventSearch(serviceId, filter, first, after).body, header, buildEventCount(serviceId, filter).body] };
}

/**
 * One event by id, for one service: the service `term` filter is in the query like everywhere else, so an
 * id of another service's event finds nothing (the same answer as an unknown id). The id is looked up as `_id`
 * (every event is written under its id; the `id` field has no index of its own in indices made since issue 15).
 */
export function buildEventGet(serviceId: string, id: string) {
  if (id.length === 0 || id.length > MAX_TERM_LENGTH) throw invalidArgument(`id must be 1 to ${MAX_TERM_LENGTH} characters`, 'id');
  return {
    index: INDEX_PATTERN,
    body: { size: 1, track_total_hits: false, query: { bool: { filter: [{ term: { serviceId } }, { ids: { values: [id] } }] } } },
  };
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The default of STATS_DEFAULT_WINDOW_HOURS: a histogram without filter.from covers the last 24 hours. */
export const DEFAULT_STATS_WINDOW_MS = 24 * 3_600_000;

/**
 * The time range auditEventStats counts: always bounded. filter.to, else now (or filter.from when later);
 * filter.from, else `defaultWindowMs` before that end.
 */
export function statsWindow(filter: AuditEventFilter, defaultWindowMs: number, now: Date): { from: Date; to: Date } {
  for (const [d, arg] of [[filter.from, 'filter.from'], [filter.to, 'filter.to']] as const) {
    if (d && Number.isNaN(d.getTime())) throw invalidArgument(`${arg} is not a valid time`, arg);
  }
  const from = filter.from ?? null;
  const to = filter.to ?? (from && from.getTime() > now.getTime() ? from : now);
  return { from: from ?? new Date(to.getTime() - defaultWindowMs), to };
}

/**
 * `30m`, `1h`, `1d`, ...: a fixed interval, validated; at most MAX_BUCKETS buckets over the range. Buckets
 * are aligned on the epoch, so a range gives floor(to/ms) - floor(from/ms) + 1 of them.
 */
export function parseInterval(interval: string, range: { from?: Date | null; to?: Date | null }): { fixedInterval: string; ms: number } {
  const m = /^([1-9]\d{0,3})([mhd])$/.exec(interval);
  if (!m) throw invalidArgument('interval must look like 5m, 1h or 1d (minutes, hours, days)', 'interval');
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (range.from && range.to && Math.floor(range.to.getTime() / ms) - Math.floor(range.from.getTime() / ms) + 1 > MAX_BUCKETS) {
    throw invalidArgument(`interval too small for the time range: more than ${MAX_BUCKETS} buckets`, 'interval');
  }
  return { fixedInterval: interval, ms };
}

/**
 * The stats' query string: missing indices are no error, and only what the answer is read for comes back: the
 * groups' keys and counts, and the histogram's counts without their keys (histogramShape gives them: the buckets
 * are consecutive from the aligned start). OpenSearch writes, and the gateway parses, about a quarter of the
 * bytes of an 840-bucket histogram with keys, key_as_string and the terms error bounds. Aggregations with no
 * bucket may then come back without `buckets`.
 */
export const STATS_QUERYSTRING: Readonly<Record<string, string>> = {
  ignore_unavailable: 'true', allow_no_indices: 'true',
  filter_path: 'hits.total.value,aggregations.groups.buckets.key,aggregations.groups.buckets.doc_count,aggregations.overTime.buckets.doc_count',
};

/**
 * Where a stats histogram's buckets start and how many there are, for a range and fixed interval: OpenSearch
 * aligns fixed intervals on the epoch (UTC), and `extended_bounds` over the range gives every bucket from the
 * one holding `from` to the one holding `to`, empty ones included (parseInterval bounds their number).
 */
export interface HistogramShape { startMs: number; intervalMs: number; buckets: number }

export function histogramShape(from: Date, to: Date, intervalMs: number): HistogramShape {
  const first = Math.floor(from.getTime() / intervalMs);
  return { startMs: first * intervalMs, intervalMs, buckets: Math.floor(to.getTime() / intervalMs) - first + 1 };
}

/** Counts per interval: counts[i] is of the interval starting at start + i x intervalMs; no start and no counts when nothing is stored at all. */
export interface Histogram { start: Date | null; intervalMs: number; counts: number[] }

/** A histogram as one object per bucket (auditEventStats.overTime, deprecated; sessionEventStats.overTime). */
export function histogramBuckets(h: Histogram): { start: Date; count: number }[] {
  const startMs = h.start?.getTime() ?? 0;
  return h.counts.map((count, i) => ({ start: new Date(startMs + i * h.intervalMs), count }));
}

/**
 * Counts per value of one dimension and a time histogram, for one service and filter, over the range of
 * statsWindow (returned as `from`/`to`): the groups, the total and the histogram all cover that range. The
 * range filter keeps every bucket inside it (only the first one starts up to one interval before `from`, as
 * buckets are aligned) and `extended_bounds` fills it without gaps. No `hard_bounds`: on OpenSearch 2.19 it
 * dropped the counts of events of the last minute (test/bounded-answers.test.ts), and the range filter
 * bounds the buckets already.
 */
export function buildEventStats(serviceId: string, filter: AuditEventFilter | null | undefined, groupBy: EventGroupBy, interval: string,
  opts: { defaultWindowMs?: number; now?: Date } = {}) {
  const { from, to } = statsWindow(filter ?? {}, opts.defaultWindowMs ?? DEFAULT_STATS_WINDOW_MS, opts.now ?? new Date());
  const f: AuditEventFilter = { ...filter, from, to };
  const { fixedInterval, ms } = parseInterval(interval, f);
  const bounds = { min: from.toISOString(), max: to.toISOString() };
  return {
    index: INDEX_PATTERN,
    querystring: STATS_QUERYSTRING,
    from, to,
    histogram: histogramShape(from, to, ms),
    body: {
      size: 0,
      track_total_hits: true,
      query: eventQuery(serviceId, f),
      aggs: {
        groups: { terms: { field: GROUP_BY_FIELDS[groupBy], size: 50, missing: '(none)' } },
        overTime: { date_histogram: { field: 'timestamp', fixed_interval: fixedInterval, min_doc_count: 0, extended_bounds: bounds } },
      },
    },
  };
}
