/**
 * How audit events are stored in OpenSearch: one index per UTC day (`pgaudit-events-YYYY.MM.DD`), so
 * retention deletes whole indices (the minimal distribution has no delete-by-query), and one composable
 * index template with explicit mappings: keyword fields for filters and aggregations, a text field
 * (standard analyzer) for the statement, a date for the time, and `searchTerms` (event.terms.ts): the names
 * a statement mentions and their parts, lower-cased, for the text filter. Pure: no I/O.
 */

import type { AuditEvent, AuditEventDocument } from './event.document';
import { MAX_TERM_CHARS, searchTermsJson } from './event.terms';

export const INDEX_PREFIX = 'pgaudit-events-';
export const INDEX_PATTERN = `${INDEX_PREFIX}*`;
export const TEMPLATE_NAME = 'pgaudit-events';

/**
 * The second sort key after the time: a number derived from the event id (its first 8 base64url
 * characters, 48 bits; ids are hashes). A keyword tiebreaker (the id itself) made every sorted page
 * several times slower in OpenSearch, a long costs almost nothing (figures: bench/README.md). Two events of one service in the same millisecond share it with probability 2^-48.
 */
export function tiebreakOf(id: string): number {
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const c = i < id.length ? id.charCodeAt(i) : 65;
    const v = c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 71 : c >= 48 && c <= 57 ? c + 4 : c === 45 ? 62 : 63;
    n = n * 64 + v;
  }
  return n;
}

const keyword = { type: 'keyword' } as const;

/**
 * A field kept in `_source` only: shown, never filtered, sorted or aggregated on by any query of the product, so
 * neither indexed nor given doc values. Each indexed field costs OpenSearch CPU on every document: making these
 * stored-only (the tenant's project and organization, pgaudit's numbers and status, the client's details, the
 * redaction counts) saved about a quarter of OpenSearch's CPU per event (bench/README.md, "Index levers"). A filter
 * on one of them later needs it indexed again, in the indices created from then on.
 */
const storedKeyword = { type: 'keyword', index: false, doc_values: false } as const;
const storedLong = { type: 'long', index: false, doc_values: false } as const;

/**
 * The dates' formats: the fixed pattern of the canonical UTC text the ingester writes (toISOString: milliseconds,
 * `Z`) first, any ISO-8601 form after it. OpenSearch's `strict_date_optional_time` alone parsed each date through
 * its optional sections, copying the parse state at each: about a seventh of its CPU per event (bench/README.md).
 */
export const DATE_FORMAT = "uuuu-MM-dd'T'HH:mm:ss.SSSX||strict_date_optional_time";
const date = { type: 'date', format: DATE_FORMAT } as const;

/**
 * OpenSearch's Bloom filter on `_id` (2.12 and later). Every `create` first looks its id up in each segment of the
 * shard, and with hashed ids nearly every lookup is a miss that reads the segment's terms dictionary; the filter
 * answers most misses from memory (a few bits per document). It has false positives only, never false negatives, so a
 * replayed event still finds its document and is answered 409. 0.91x of OpenSearch's CPU per event (bench/README.md,
 * "Third pass"). An older cluster refuses the setting: the templates are then put without it (withoutSetting).
 */
export const ID_LOOKUP_FILTER = 'index.optimize_doc_id_lookup.fuzzy_set.enabled';

/**
 * The settings of every daily index (events, session events). Index sorting in the order of every page (newest
 * first): a sorted page stops after `first` hits in each segment instead of visiting every match, paid for at write
 * time by slower bulk indexing (figures: bench/README.md). Applies to indices created from now on; older ones answer
 * the same, only slower. The `_id` lookup filter (ID_LOOKUP_FILTER) likewise.
 */
export const DAILY_INDEX_SETTINGS = { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '1s',
  'index.sort.field': ['timestamp', 'tiebreak'], 'index.sort.order': ['desc', 'desc'], 'index.sort.missing': ['_last', '_first'],
  [ID_LOOKUP_FILTER]: true } as const;

/** `template` without the index setting `name` (a cluster that does not know it refuses the whole template). */
export function withoutSetting<T extends { template: { settings: object } }>(template: T, name: string): T {
  const settings = Object.fromEntries(Object.entries(template.template.settings).filter(([k]) => k !== name));
  return { ...template, template: { ...template.template, settings } };
}

/** Whether OpenSearch's answer `body` (a 400) refuses the index setting `name` as unknown (a cluster older than it). */
export function refusesUnknownSetting(body: unknown, name: string): boolean {
  const reason = (body as { error?: { reason?: unknown; root_cause?: { reason?: unknown }[] } } | null)?.error;
  const texts = [reason?.reason, ...(reason?.root_cause ?? []).map((c) => c?.reason)].filter((t): t is string => typeof t === 'string');
  return texts.some((t) => t.includes(`unknown setting [${name}]`));
}

/**
 * The fields every stored document starts with: its id and sort tiebreaker, its tenant, its time. Every query is
 * of one service (serviceId); the service's project and organization are only shown. `id` and `tiebreak` have doc
 * values (the export sorts by id; every page and the index sort by tiebreak) but no index of their own: nothing
 * filters on tiebreak, and a lookup by id asks `_id` (an `ids` query), which holds the same value and is indexed
 * anyway. A second index of a unique string per document was an eighth of the bytes on disk (bench/README.md,
 * "lean-keys").
 */
export const IDENTITY_FIELDS = {
  id: { type: 'keyword', index: false }, tiebreak: { type: 'long', index: false }, serviceId: keyword, projectId: storedKeyword,
  organizationId: storedKeyword, timestamp: date,
} as const;

export const INDEX_TEMPLATE = {
  index_patterns: [INDEX_PATTERN],
  priority: 100,
  template: {
    settings: DAILY_INDEX_SETTINGS,
    mappings: {
      dynamic: 'strict',
      properties: {
        ...IDENTITY_FIELDS,
        // filtered (event.query.ts), grouped by (GROUP_BY_FIELDS) or searched: indexed
        auditType: keyword, class: keyword, command: keyword, objectName: keyword, user: keyword, database: keyword, sessionId: keyword,
        // no norms: every clause on it is a filter, nothing is scored (they cost ~3% of OpenSearch's CPU per event)
        statement: { type: 'text', analyzer: 'standard', norms: false },
        // only shown (indices created before these were stored-only have them indexed: the same answers)
        statementId: storedLong, substatementId: storedLong, objectType: storedKeyword, statementStatus: storedKeyword,
        parameters: storedKeyword, rows: storedLong, sessionLineNum: storedLong, applicationName: storedKeyword, remoteHost: storedKeyword,
        redaction: { type: 'object', enabled: false },
        // when the ingester encoded the event (the live tail's order); absent on documents of earlier versions
        ingestedAt: date,
        // derived from the statement and object name for the text filter; never aggregated (no doc values) and
        // never returned (the store drops it). Kept in _source: excluding it made the index larger, as OpenSearch
        // then keeps a recovery copy of the whole source (bytes per event: bench/README.md)
        searchTerms: { type: 'keyword', doc_values: false, ignore_above: MAX_TERM_CHARS },
      },
    },
  },
} as const;

/**
 * An index template whose indices keep `replicas` copies of each shard beside the primary (OPENSEARCH_REPLICAS;
 * the templates above say 0, for a single node) and, when given, `shards` primary shards (OPENSEARCH_EVENT_SHARDS,
 * for the event indices only; the templates say 1). A template only shapes the indices created after it: indices
 * that already exist keep their shards and replicas.
 */
export function withCopies<T extends { template: { settings: object } }>(template: T, copies: { replicas: number; shards?: number }): T {
  const settings = { ...template.template.settings, number_of_replicas: copies.replicas, ...(copies.shards === undefined ? {} : { number_of_shards: copies.shards }) };
  return { ...template, template: { ...template.template, settings } };
}

/** Existing indices that lack some wanted fields, and those fields' mappings: one group per set of missing fields. */
export interface MissingFields { indices: string[]; properties: Record<string, unknown> }

/**
 * What start-up adds to the indices that exist (`existing`: the answer of GET <pattern>/_mapping): each index gets
 * the fields of `wanted` it lacks (added by a later version: tiebreak, ingestedAt, searchTerms), and nothing else. A
 * field it has keeps its mapping: OpenSearch refuses to change one (an index made before a field became stored-only,
 * or before DATE_FORMAT, keeps them as they were, and answers the same). Indices in name order, groups too.
 */
export function missingFields(existing: Record<string, { mappings?: { properties?: Record<string, unknown> } }>,
  wanted: Record<string, unknown>): MissingFields[] {
  const groups = new Map<string, MissingFields>();
  for (const index of Object.keys(existing).sort()) {
    const has = existing[index]?.mappings?.properties ?? {};
    const lacking = Object.keys(wanted).filter((f) => !(f in has));
    if (lacking.length === 0) continue;
    const key = lacking.join(',');
    let g = groups.get(key);
    if (!g) { g = { indices: [], properties: Object.fromEntries(lacking.map((f) => [f, wanted[f]])) }; groups.set(key, g); }
    g.indices.push(index);
  }
  return [...groups.values()];
}

const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** The daily index an event belongs in: derived from its own timestamp, so a retry always hits the same index. */
export function indexFor(timestamp: string): string {
  // the ingest path writes canonical UTC (…Z): its day is in the text; anything else goes through Date
  const iso = CANONICAL_UTC.test(timestamp) ? timestamp : validDate(timestamp).toISOString();
  return `${INDEX_PREFIX}${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

function validDate(timestamp: string): Date {
  const d = new Date(timestamp);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid event timestamp: ${timestamp.slice(0, 40)}`);
  return d;
}

/** One write of a bulk request: the action and source lines (NDJSON, newline-terminated), built once. */
export interface BulkOp { id: string; ndjson: string }

/**
 * `source`: the document, or its JSON text. Always `create`, never `index`: a document, once written, is
 * never replaced. A second write of the same id (a replay after a crash, a retried request) is answered
 * 409 and counted as already indexed (event.store.ts), so replays stay idempotent, and no later line,
 * however forged, can overwrite an event that is already stored.
 */
function bulkOp(index: string, id: string, source: object | string): BulkOp {
  const json = typeof source === 'string' ? source : JSON.stringify(source);
  return { id, ndjson: `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n${json}\n` };
}

/**
 * The source of an event as written: its document plus the tiebreak, `ingestedAt` when given (the ingester's
 * clock as it encodes the event, ISO-8601 UTC: the live tail's order) and, when the statement or object name
 * holds any, its searchTerms (computed from what is written, so a statement redacted before it is indexed
 * gives the terms of the redacted text), as JSON text.
 */
export function eventSource(doc: AuditEventDocument, ingestedAt?: string): string {
  // a JSON object's text opens with "{": the tiebreak (and ingestedAt) are written as the first fields, the terms
  // as the last (a document read back from the index and written again brings its old terms: they are computed anew)
  const head = `{"tiebreak":${tiebreakOf(doc.id)},${ingestedAt === undefined ? '' : `"ingestedAt":${JSON.stringify(ingestedAt)},`}`;
  const json = JSON.stringify('searchTerms' in doc ? { ...doc, searchTerms: undefined } : doc);
  const terms = searchTermsJson(doc.statement, doc.objectName);
  return terms === '' ? `${head}${json.slice(1)}` : `${head}${json.slice(1, -1)},"searchTerms":${terms}}`;
}

/**
 * An event's bulk write: into its daily index, under its id, its source. Serialized once, as it is read;
 * the ingester encodes it straight into the batch's buffer (bulk-body.ts), so nothing is copied or
 * serialized twice (ingester CPU and GC: bench/README.md).
 */
export function eventBulkOp(doc: AuditEventDocument, ingestedAt?: string): BulkOp {
  return bulkOp(indexFor(doc.timestamp), doc.id, eventSource(doc, ingestedAt));
}

const DAY_MS = 86_400_000;

/**
 * The first instant retention keeps: midnight UTC of today minus `retentionDays` days. A daily index of
 * a day before it is deleted whole (expiredIndices), and the ingester refuses events older than it
 * (ingest/event-window.ts), so an event is never written into an index the next sweep deletes.
 */
export function retentionCutoffMs(retentionDays: number, now: Date | number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - retentionDays * DAY_MS;
}

const DAILY_SUFFIX = /-(\d{4})\.(\d{2})\.(\d{2})$/;

/** Daily indices of `prefix` entirely older than `retentionDays` before `now` (by name), to delete whole. */
export function expiredDaily(prefix: string, indices: readonly string[], retentionDays: number, now: Date): string[] {
  const cutoff = retentionCutoffMs(retentionDays, now);
  return indices.filter((name) => {
    if (!name.startsWith(prefix)) return false;
    const m = DAILY_SUFFIX.exec(name);
    return m !== null && name.length === prefix.length + 10 && Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) < cutoff;
  });
}

/** Daily event indices entirely older than `retentionDays` before `now` (by name), to delete whole. */
export function expiredIndices(indices: readonly string[], retentionDays: number, now: Date): string[] {
  return expiredDaily(INDEX_PREFIX, indices, retentionDays, now);
}

/**
 * Lines the ingester kept aside instead of indexing them as events (never shown as events): one index
 * per UTC day of the ingester's own clock when it saw the line (`seenAt`), never of a time the line
 * claims, so no line can choose which indices exist. Retention deletes whole days, as for events.
 * `pgaudit-deadletter` without a day is the single index of earlier versions: still read, and deleted
 * whole by the sweep once its newest dead letter is past the retention.
 */
export const DEAD_LETTER_INDEX = 'pgaudit-deadletter';
export const DEAD_LETTER_PREFIX = `${DEAD_LETTER_INDEX}-`;
export const DEAD_LETTER_PATTERN = `${DEAD_LETTER_INDEX}*`;
export const DEAD_LETTER_TEMPLATE_NAME = 'pgaudit-deadletter';

/**
 * Why a line is a dead letter: a fixed set, machine-readable (stored as `code`, a label of the
 * dead-letter metric). `reason` says the same for a person.
 * - malformed: not a log record of the format (bad CSV/JSON, no prefix, a bad field);
 * - record_too_large: a record over the ingester's maximum record size (not buffered, not parsed);
 * - malformed_audit: an `AUDIT: ` message that is not a well-formed pgaudit record;
 * - not_from_pgaudit: an `AUDIT: ` message pgaudit cannot have written (a CONTEXT or STATEMENT attached: RAISE LOG);
 * - timestamp_out_of_window: an event older than the retention or too far ahead of the ingester's clock;
 * - malformed_session: a `connection authorized` / `disconnection` line that does not parse (ingest/session-event.ts);
 * - not_from_server: a connection line the server cannot have written (a CONTEXT or STATEMENT attached: RAISE LOG);
 * - unauthenticated_source: a message of a shared log stream that names no service, an unknown one, or one whose
 *   signature it lacks (ingest/kafka.record.ts): kept under no tenant (`serviceId` UNAUTHENTICATED_SERVICE), with
 *   its claim and never its value.
 */
export const DEAD_LETTER_CODES = ['malformed', 'record_too_large', 'malformed_audit', 'not_from_pgaudit', 'timestamp_out_of_window',
  'malformed_session', 'not_from_server', 'unauthenticated_source'] as const;
/** The serviceId of unauthenticated_source dead letters: no service's (service ids are UUIDs). */
export const UNAUTHENTICATED_SERVICE = 'unauthenticated';
export type DeadLetterCode = typeof DEAD_LETTER_CODES[number];

/** A dead letter keeps at most this many UTF-8 bytes of its line (`excerpt`; `excerptTruncated` when cut) and of its reason. */
export const DEAD_LETTER_EXCERPT_BYTES = 512;
export const DEAD_LETTER_REASON_BYTES = 1024;

export interface DeadLetterDocument {
  id: string; serviceId: string; source: string; endOffset: number;
  /** One of DEAD_LETTER_CODES (absent on dead letters of earlier versions). */
  code?: DeadLetterCode;
  reason: string; excerpt: string;
  /** The line was longer than `excerpt` (absent on dead letters of earlier versions). */
  excerptTruncated?: boolean;
  /** ISO-8601 UTC, the ingester's clock: also the day of the index. */
  seenAt: string;
}

export const DEAD_LETTER_TEMPLATE = {
  index_patterns: [DEAD_LETTER_PATTERN],
  priority: 100,
  template: {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: { dynamic: 'strict', properties: {
      id: keyword, serviceId: keyword, source: keyword, endOffset: { type: 'long' }, code: keyword, reason: { type: 'text' },
      excerpt: { type: 'keyword', index: false, doc_values: false }, excerptTruncated: { type: 'boolean' }, seenAt: { type: 'date' } } },
  },
} as const;

/** The dead-letter index of the day of `seenAt` (the ingester's clock). */
export function deadLetterIndexFor(seenAt: string): string {
  const iso = CANONICAL_UTC.test(seenAt) ? seenAt : validDate(seenAt).toISOString();
  return `${DEAD_LETTER_PREFIX}${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

/** Daily dead-letter indices entirely older than `retentionDays` before `now`, to delete whole. */
export function expiredDeadLetterIndices(indices: readonly string[], retentionDays: number, now: Date): string[] {
  return expiredDaily(DEAD_LETTER_PREFIX, indices, retentionDays, now);
}

export function deadLetterBulkOp(d: DeadLetterDocument): BulkOp {
  return bulkOp(deadLetterIndexFor(d.seenAt), d.id, d);
}
