/**
 * The only code that talks to OpenSearch. Requests are built by event.query.ts / event.index.ts;
 * this file sends them, maps answers, and turns an unreachable cluster into STORE_UNAVAILABLE
 * (the API answers SERVICE_UNAVAILABLE with no internals).
 * Writes are idempotent and never overwrite: a document's _id and index both derive from the event
 * itself, and every write is a `create`, so a retried bulk request or a replay finds the document already
 * there (409, counted as `duplicates`) instead of duplicating or replacing it. Rejections with 429/503
 * are retried with backoff.
 */
import { Client, errors } from '@opensearch-project/opensearch';
import { storeUnavailable } from './audit-events.errors';
import { BulkBody } from './bulk-body';
import { EventCursor } from './event.cursor';
import {
  DEAD_LETTER_INDEX, DEAD_LETTER_PATTERN, DEAD_LETTER_TEMPLATE, DEAD_LETTER_TEMPLATE_NAME, DeadLetterDocument, deadLetterBulkOp,
  eventBulkOp, expiredDeadLetterIndices, expiredIndices, ID_LOOKUP_FILTER, INDEX_PATTERN, INDEX_TEMPLATE, missingFields, refusesUnknownSetting,
  retentionCutoffMs, TEMPLATE_NAME, withCopies, withoutSetting,
} from './event.index';
import type { AuditEventDocument, EventGroupBy } from './event.document';
import type { AuditEventFilter } from './audit-events.types';
import { buildEventGet, buildEventPageRequest, buildEventStats, Histogram, HistogramShape } from './event.query';
import { openPitRequest } from './export.query';
import { RETRYABLE_STATUS, SearchHttp } from './search.http';

/** One hit of an export page: the document and its sort values (export.query.ts EXPORT_SORT). */
export interface ExportHit { doc: AuditEventDocument; sort: unknown }
/** The point in time of an export is gone (expired, freed, or its node restarted). */
export class PitGone extends Error {}
import type { SessionEventDocument, SessionGroupBy } from './session.document';
import { expiredSessionIndices, SESSION_INDEX_PATTERN, SESSION_INDEX_TEMPLATE, SESSION_TEMPLATE_NAME } from './session.index';
import { buildSessionPageRequest, buildSessionStats, SessionFilter } from './session.query';
import { buildTailSearch, TailHit } from './event.tail';
import type { TailKey } from './tail.cursor';

/** A hit's source: the document, plus what the store writes beside it and never returns (the tiebreak, searchTerms). */
type StoredSource = AuditEventDocument & { tiebreak?: number; searchTerms?: string[] };
const documentOf = ({ tiebreak: _t, searchTerms: _s, ...doc }: StoredSource): AuditEventDocument => doc;

export interface EventPage { events: AuditEventDocument[]; hasNextPage: boolean; totalCount: number }
export interface SessionEventPage { events: SessionEventDocument[]; hasNextPage: boolean; totalCount: number }
export interface EventStats { from: Date; to: Date; totalCount: number; groups: { key: string; count: number }[]; histogram: Histogram }

/** A stats answer as STATS_QUERYSTRING leaves it: the groups with keys, the histogram's counts only. */
export type StatsAnswer = { hits: { total: { value: number } }; aggregations?: {
  groups?: { buckets?: { key: string; doc_count: number }[] }; overTime?: { buckets?: { doc_count: number }[] } } };

/**
 * The stats of an answer. The histogram's keys are not in it: they follow from `shape`. A number of buckets other
 * than the shape's would put counts under the wrong times: refused as the fault it would be, never answered.
 */
export function statsOf(res: StatsAnswer, from: Date, to: Date, shape: HistogramShape): EventStats {
  const counts = (res.aggregations?.overTime?.buckets ?? []).map((b) => b.doc_count);
  if (counts.length > 0 && counts.length !== shape.buckets) throw new Error(`OpenSearch answered ${counts.length} histogram buckets where ${shape.buckets} were asked for`);
  return {
    from, to,
    totalCount: res.hits.total.value,
    groups: (res.aggregations?.groups?.buckets ?? []).map((b) => ({ key: String(b.key), count: b.doc_count })),
    histogram: { start: counts.length > 0 ? new Date(shape.startMs) : null, intervalMs: shape.intervalMs, counts },
  };
}
export interface BulkResult {
  /** documents written now or found already written (`duplicates` of them) */
  indexed: number;
  /** documents whose id was already taken (409 to a create): a replay, or a second line claiming the same identity; the stored one stays */
  duplicates: number;
  rejected: { id: string; reason: string }[];
  /** requests sent, 1 unless some were retried */
  attempts: number;
}

const RETRYABLE = RETRYABLE_STATUS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EventStore {
  private readonly client: Client;
  /** The query path's searches (pages, counts, stats, one event): search.http.ts. */
  private readonly reads: SearchHttp;

  /**
   * `url`: one node, or several nodes of one cluster (OPENSEARCH_URL as a list): both the client and the query path
   * go round them and pass over a node that cannot be reached. `replicas`: of every index created from the
   * templates (OPENSEARCH_REPLICAS), default 0; `eventShards`: primary shards of each daily event index
   * (OPENSEARCH_EVENT_SHARDS), default 1.
   */
  constructor(url: string | readonly string[], private readonly opts: { requestTimeoutMs?: number; maxBulkAttempts?: number; backoffMs?: number;
    replicas?: number; eventShards?: number } = {}) {
    const nodes = typeof url === 'string' ? [url] : [...url];
    this.client = new Client({ ...(nodes.length === 1 ? { node: nodes[0] } : { nodes }), requestTimeout: opts.requestTimeoutMs ?? 10_000, maxRetries: 1 });
    this.reads = new SearchHttp(nodes, opts.requestTimeoutMs ?? 10_000);
  }

  /** Whether the daily indices get the `_id` lookup filter (ID_LOOKUP_FILTER): false once the cluster refused it as unknown. */
  idLookupFilter = true;

  async close(): Promise<void> { this.reads.close(); await this.client.close(); }

  /** A search of the query path: `body` to `/<index>/_search` with `querystring`, through `reads`. */
  private searchOf<T>(index: string, body: unknown, querystring: Readonly<Record<string, string>>): Promise<T> {
    return this.reads.post<T>(`/${index}/_search?${new URLSearchParams(querystring).toString()}`, JSON.stringify(body), 'application/json');
  }

  private async call<T>(method: string, path: string, body?: unknown, querystring?: Record<string, string>): Promise<T> {
    try {
      const res = await this.client.transport.request({ method, path, body: body as Record<string, unknown>, querystring });
      return res.body as T;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** An unreachable or overloaded cluster becomes STORE_UNAVAILABLE; anything else stays as it is. */
  private unavailable(err: unknown): unknown {
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError
      || (err instanceof errors.ResponseError && RETRYABLE.has(err.statusCode ?? 0))) {
      return storeUnavailable('the audit event store is unavailable');
    }
    return err;
  }

  /**
   * Create or update the index templates, and add fields new to the template to the daily indices that
   * already exist (a mapping only ever gains fields): idempotent, run at start-up.
   */
  async ensureTemplate(): Promise<void> {
    const replicas = this.opts.replicas ?? 0;
    await this.putTemplate(TEMPLATE_NAME, withCopies(INDEX_TEMPLATE, { replicas, shards: this.opts.eventShards ?? 1 }));
    await this.putTemplate(DEAD_LETTER_TEMPLATE_NAME, withCopies(DEAD_LETTER_TEMPLATE, { replicas }));
    await this.putTemplate(SESSION_TEMPLATE_NAME, withCopies(SESSION_INDEX_TEMPLATE, { replicas }));
    await this.addMissingFields(SESSION_INDEX_PATTERN, SESSION_INDEX_TEMPLATE.template.mappings.properties);
    await this.addMissingFields(INDEX_PATTERN, INDEX_TEMPLATE.template.mappings.properties);
    await this.addMissingFields(DEAD_LETTER_PATTERN, DEAD_LETTER_TEMPLATE.template.mappings.properties);
  }

  /**
   * Puts an index template; a cluster older than the `_id` lookup filter (OpenSearch < 2.12) refuses that setting
   * as unknown, and gets the template without it (`idLookupFilter` then says so: the indices work the same, only
   * their writes cost more).
   */
  private async putTemplate(name: string, template: { template: { settings: object } }): Promise<void> {
    const path = `/_index_template/${name}`;
    const filtered = ID_LOOKUP_FILTER in template.template.settings;
    if (filtered && this.idLookupFilter) {
      try {
        await this.call('PUT', path, template);
        return;
      } catch (err) {
        if (!(err instanceof errors.ResponseError && err.statusCode === 400 && refusesUnknownSetting(err.body, ID_LOOKUP_FILTER))) throw err;
        this.idLookupFilter = false;
      }
    }
    await this.call('PUT', path, filtered ? withoutSetting(template, ID_LOOKUP_FILTER) : template);
  }

  /** The fields of `properties` that existing indices of `pattern` lack, added to them (missingFields); 50 indices a request. */
  private async addMissingFields(pattern: string, properties: Record<string, unknown>): Promise<void> {
    const existing = await this.call<Parameters<typeof missingFields>[0]>('GET', `/${pattern}/_mapping`, undefined,
      { allow_no_indices: 'true', ignore_unavailable: 'true' });
    for (const group of missingFields(existing, properties)) {
      for (let i = 0; i < group.indices.length; i += 50) {
        await this.call('PUT', `/${group.indices.slice(i, i + 50).join(',')}/_mapping`, { properties: group.properties });
      }
    }
  }

  async ping(): Promise<void> { await this.call('GET', '/_cluster/health'); }

  /** Events and dead letters of one batch, each in its own index, written together; events with `ingestedAt` when given (as the ingester writes them). */
  async bulkIndex(docs: readonly AuditEventDocument[], deadLetters: readonly DeadLetterDocument[] = [], ingestedAt?: string): Promise<BulkResult> {
    const body = new BulkBody();
    for (const d of docs) body.add(eventBulkOp(d, ingestedAt));
    for (const d of deadLetters) body.add(deadLetterBulkOp(d));
    return this.bulkWrite(body);
  }

  /**
   * Resolves only when every document is acknowledged (or permanently rejected, e.g. a mapping error:
   * reported, never retried); throws STORE_UNAVAILABLE if OpenSearch stays unavailable, so the
   * caller must not checkpoint past this batch. `body` is only read.
   */
  async bulkWrite(body: BulkBody): Promise<BulkResult> {
    let pending = body;
    const rejected: BulkResult['rejected'] = [];
    let duplicates = 0;
    const attempts = this.opts.maxBulkAttempts ?? 8;
    let attempt = 1;
    for (; pending.count > 0; attempt++) {
      let retry: number[] = [];
      try {
        // only each item's status and error come back: OpenSearch serializes, and we parse, a fraction of the answer
        const res = await this.client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: pending.bytes(),
          querystring: { filter_path: 'items.*.status,items.*.error' } });
        type ItemResult = { status: number; error?: { type: string; reason?: string } };
        const items = (res.body as { items: Record<string, ItemResult>[] }).items;
        items.forEach((item, i) => {
          // one key per item, the action's name (`create`)
          const r = item.create ?? Object.values(item)[0]!;
          if (r.status < 300) return;
          if (r.status === 409) { duplicates += 1; return; }
          if (RETRYABLE.has(r.status)) retry.push(i);
          else rejected.push({ id: pending.ids[i]!, reason: `${r.error?.type ?? r.status}: ${(r.error?.reason ?? '').slice(0, 200)}` });
        });
      } catch (err) {
        const status = err instanceof errors.ResponseError ? err.statusCode ?? 0 : 0;
        const transient = err instanceof errors.ConnectionError || err instanceof errors.TimeoutError
          || err instanceof errors.NoLivingConnectionsError || RETRYABLE.has(status);
        if (!transient) throw err;
        retry = pending.ids.map((_, i) => i);
      }
      if (retry.length > 0 && attempt >= attempts) throw storeUnavailable(`OpenSearch did not accept ${retry.length} documents after ${attempts} attempts`);
      if (retry.length > 0) await sleep(Math.min(30_000, (this.opts.backoffMs ?? 250) * 2 ** (attempt - 1)));
      pending = retry.length === pending.count ? pending : pending.subset(retry);
    }
    return { indexed: body.count - rejected.length, duplicates, rejected, attempts: attempt - 1 };
  }

  /** Make what was indexed visible to search now (tests, `ingest --once`). */
  async refresh(): Promise<void> {
    await this.call('POST', `/${INDEX_PATTERN},${SESSION_INDEX_PATTERN}/_refresh`, undefined, { allow_no_indices: 'true', ignore_unavailable: 'true' });
  }

  /**
   * A page (one hit more than `first`) and its exact count, as one `_msearch` (page request of event.query.ts or
   * session.query.ts): the page's sources and the count; `what` names the search in an error.
   */
  private async pageAndCount<S>(request: { path: string; lines: unknown[] }, what: string): Promise<{ sources: S[]; total: number }> {
    type Answer = { hits?: { total?: { value: number }; hits: { _source: S }[] }; error?: { type?: string }; status?: number };
    const body = request.lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    const res = await this.reads.post<{ responses: Answer[] }>(request.path, body, 'application/x-ndjson');
    const [page, count] = res.responses;
    for (const r of [page, count]) {
      // PAGE_QUERYSTRING (filter_path): a page without hits comes back as its status alone
      if (!r || r.error || (r.status ?? 200) >= 300 || (r === count && !r.hits)) {
        if (r && RETRYABLE.has(r.status ?? 0)) throw storeUnavailable('the audit event store is unavailable');
        throw new Error(`OpenSearch refused ${what}: ${r?.error?.type ?? 'no answer'}`);
      }
    }
    return { sources: (page!.hits?.hits ?? []).map((h) => h._source), total: count!.hits!.total!.value };
  }

  async search(serviceId: string, filter: AuditEventFilter | null | undefined, first: number, after: EventCursor | null): Promise<EventPage> {
    const { sources, total } = await this.pageAndCount<StoredSource>(buildEventPageRequest(serviceId, filter, first, after), 'an event search');
    const hits = sources.map(documentOf);
    return { events: hits.slice(0, first), hasNextPage: hits.length > first, totalCount: total };
  }

  /** One poll of a live tail (event.tail.ts): up to `size` events after `after`, ingested at or before `horizonMs`, oldest key first. */
  async tailPage(serviceId: string, filter: AuditEventFilter | null | undefined, after: TailKey, horizonMs: number, size: number): Promise<TailHit[]> {
    const { index, body } = buildTailSearch(serviceId, filter, after, horizonMs, size);
    const res = await this.call<{ hits: { hits: { _source: AuditEventDocument & { tiebreak?: number }; sort: [number, number] }[] } }>(
      'POST', `/${index}/_search`, body, { ignore_unavailable: 'true', allow_no_indices: 'true' });
    return res.hits.hits.map(({ _source: { tiebreak: _, ...doc }, sort }) => ({ key: { ingestedAtMs: sort[0], tiebreak: sort[1] }, doc }));
  }

  /** One event of one service by id; null when that service has no such event (another service's id included). */
  async get(serviceId: string, id: string): Promise<AuditEventDocument | null> {
    const { index, body } = buildEventGet(serviceId, id);
    const res = await this.searchOf<{ hits: { hits: { _source: StoredSource }[] } }>(index, body, { ignore_unavailable: 'true', allow_no_indices: 'true' });
    const hit = res.hits.hits[0];
    return hit ? documentOf(hit._source) : null;
  }

  async stats(serviceId: string, filter: AuditEventFilter | null | undefined, groupBy: EventGroupBy, interval: string,
    opts: { defaultWindowMs?: number; now?: Date } = {}): Promise<EventStats> {
    const { index, querystring, body, from, to, histogram } = buildEventStats(serviceId, filter, groupBy, interval, opts);
    return statsOf(await this.searchOf<StatsAnswer>(index, body, querystring), from, to, histogram);
  }

  /**
   * The retention sweep: delete whole daily event indices older than `retentionDays`, and whole daily
   * dead-letter indices older than `deadLetterRetentionDays` (default: the same), plus the undated
   * dead-letter index of earlier versions once its newest letter is that old. Returns the names deleted.
   */
  async expire(retentionDays: number, now = new Date(), deadLetterRetentionDays = retentionDays): Promise<string[]> {
    const rows = await this.call<{ index: string }[]>('GET', `/_cat/indices/${INDEX_PATTERN},${DEAD_LETTER_PATTERN},${SESSION_INDEX_PATTERN}`, undefined,
      { format: 'json', h: 'index', expand_wildcards: 'open' });
    const names = rows.map((r) => r.index);
    // session events (session.index.ts) are kept as long as audit events
    const expired = [...expiredIndices(names, retentionDays, now), ...expiredDeadLetterIndices(names, deadLetterRetentionDays, now),
      ...expiredSessionIndices(names, retentionDays, now)];
    if (names.includes(DEAD_LETTER_INDEX)) {
      const res = await this.call<{ aggregations?: { newest?: { value: number | null } } }>('POST', `/${DEAD_LETTER_INDEX}/_search`,
        { size: 0, track_total_hits: false, aggs: { newest: { max: { field: 'seenAt' } } } });
      const newest = res.aggregations?.newest?.value ?? null;
      if (newest === null || newest < retentionCutoffMs(deadLetterRetentionDays, now)) expired.push(DEAD_LETTER_INDEX);
    }
    for (const name of expired) await this.call('DELETE', `/${name}`);
    return expired;
  }

  /** Opens a point in time over the event indices (an export reads through it): its id. */
  async openPit(keepAlive: string): Promise<string> {
    const { path, querystring } = openPitRequest(keepAlive);
    return (await this.call<{ pit_id: string }>('POST', path, undefined, querystring)).pit_id;
  }

  /** Frees a point in time; one already gone is no error (it is what was asked). */
  async closePit(pitId: string): Promise<void> {
    try {
      await this.client.transport.request({ method: 'DELETE', path: '/_search/point_in_time', body: { pit_id: [pitId] } });
    } catch (err) {
      if (err instanceof errors.ResponseError && err.statusCode === 404) return;
      throw this.unavailable(err);
    }
  }

  /** A search through a PIT (export.query.ts builds the body): the hits with their sort values; PitGone when the PIT no longer exists. */
  async pitSearch(body: Record<string, unknown>): Promise<ExportHit[]> {
    type Answer = { hits: { hits: { _source?: AuditEventDocument & { tiebreak?: number }; sort: unknown }[] } };
    let res: Answer;
    try {
      res = (await this.client.transport.request({ method: 'POST', path: '/_search', body })).body as Answer;
    } catch (err) {
      if (err instanceof errors.ResponseError && err.statusCode === 404) throw new PitGone('the point in time no longer exists');
      throw this.unavailable(err);
    }
    return res.hits.hits.map((h) => {
      const { tiebreak: _, ...doc } = h._source ?? ({} as AuditEventDocument & { tiebreak?: number });
      return { doc, sort: h.sort };
    });
  }

  /** One page of a service's session events (newest first) and their exact count, as one `_msearch` (session.query.ts). */
  async searchSessions(serviceId: string, filter: SessionFilter | null | undefined, first: number, after: EventCursor | null): Promise<SessionEventPage> {
    const { sources, total } = await this.pageAndCount<SessionEventDocument & { tiebreak?: number }>(
      buildSessionPageRequest(serviceId, filter, first, after), 'a session event search');
    const hits = sources.map(({ tiebreak: _, ...doc }) => doc);
    return { events: hits.slice(0, first), hasNextPage: hits.length > first, totalCount: total };
  }

  /** Counts of a service's session events per value of one dimension and over time, in a bounded range (session.query.ts). */
  async sessionStats(serviceId: string, filter: SessionFilter | null | undefined, groupBy: SessionGroupBy, interval: string,
    opts: { defaultWindowMs?: number; now?: Date } = {}): Promise<EventStats> {
    const { index, querystring, body, from, to, histogram } = buildSessionStats(serviceId, filter, groupBy, interval, opts);
    return statsOf(await this.searchOf<StatsAnswer>(index, body, querystring), from, to, histogram);
  }
}
