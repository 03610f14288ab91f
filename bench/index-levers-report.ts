/**
 * The pure parts of bench/index-levers.ts (issue 15: what each mapping choice costs OpenSearch per document):
 * the variants of the event index template, each ONE change from the product's (event.index.ts INDEX_TEMPLATE,
 * DAILY_INDEX_SETTINGS), the bulk bodies, the options and the report. Unit-tested (index-levers.test.ts).
 */
import { DAILY_INDEX_SETTINGS, ID_LOOKUP_FILTER, INDEX_TEMPLATE } from '../src/modules/audit-events/event.index';
import { GROUP_BY_FIELDS } from '../src/modules/audit-events/event.document';
import { EXPORT_SORT } from '../src/modules/audit-events/export.query';
import { PEER_INDEX_TEMPLATE } from './rsyslog-report';
import { median, parseCount, percentile } from './stats';

/** What a variant writes as each document's source. */
export type SourceForm =
  /** eventSource(doc, ingestedAt): exactly what the ingester writes */
  | 'event'
  /** the same without searchTerms */
  | 'event-without-terms'
  /** the same as `event` without the fields whose value is null */
  | 'event-without-nulls'
  /** one csvlog physical line as `{ MESSAGE, timestamp }` (the raw shipper peer's document) */
  | 'raw-line';

export interface LeverVariant {
  /** Short name: the index name's part, `--only`'s subject. */
  name: string;
  /** The one change from the baseline, for the table. */
  lever: string;
  settings: Record<string, unknown>;
  mappings: { dynamic?: string; properties: Record<string, Record<string, unknown>> };
  source: SourceForm;
  /** The event id as `_id` (the ingester's `create` with a deterministic id), or none (OpenSearch generates one). */
  ids: boolean;
  /** `time-ordered`: each id led by its event's time (timeOrderedId), so ids grow with time as OpenSearch's own do. */
  idForm?: 'time-ordered';
  /** Documents per bulk request, and requests in flight at once. */
  batch: number;
  inFlight: number;
  /** refresh_interval while the documents are sent; the settings' own is put back afterwards (inside the measured window). */
  loadRefresh?: string;
}

/** The ingester's bulk (src/modules/ingest/bulk.pipeline.ts): 2,000 documents per request, 3 requests in flight. */
export const INGESTER_BULK = { batch: 2000, inFlight: 3 } as const;

type Mappings = LeverVariant['mappings'];
const BASE_SETTINGS: Record<string, unknown> = { ...DAILY_INDEX_SETTINGS };
const baseMappings = (): Mappings => JSON.parse(JSON.stringify(INDEX_TEMPLATE.template.mappings)) as Mappings;

/** The settings without the index sort (every `index.sort.*`). */
export function withoutSort(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([k]) => !k.startsWith('index.sort.')));
}

export function withoutSearchTerms(m: Mappings): Mappings {
  const { searchTerms: _, ...properties } = m.properties;
  return { ...m, properties };
}

/** `statement` without norms (every query filters, nothing is scored), and with `indexOptions` when given (positions dropped: no phrase). */
export function leanStatement(m: Mappings, indexOptions?: 'freqs' | 'docs'): Mappings {
  return { ...m, properties: { ...m.properties, statement: { ...m.properties.statement, norms: false, ...(indexOptions ? { index_options: indexOptions } : {}) } } };
}

/**
 * Fields some query of the product sorts or aggregates on (they need doc values): the export's total order
 * (EXPORT_SORT: timestamp, tiebreak, id; the page sorts by its first two, the index sort too), the live tail's
 * order (event.tail.ts: ingestedAt, tiebreak) and auditEventStats' groups (GROUP_BY_FIELDS) and histogram (timestamp).
 */
export const SORTED_OR_AGGREGATED: readonly string[] = [...new Set([
  ...EXPORT_SORT.map((s) => Object.keys(s)[0]!), 'ingestedAt', ...Object.values(GROUP_BY_FIELDS),
])];

/** The keyword fields of the mapping with doc values that no query sorts or aggregates on. */
export function docValuesCandidates(m: Mappings): string[] {
  return Object.entries(m.properties)
    .filter(([name, p]) => p.type === 'keyword' && p.doc_values !== false && !SORTED_OR_AGGREGATED.includes(name))
    .map(([name]) => name);
}

export function withoutDocValues(m: Mappings, fields: readonly string[]): Mappings {
  const properties = { ...m.properties };
  for (const f of fields) properties[f] = { ...properties[f], doc_values: false };
  return { ...m, properties };
}

/**
 * The fields the product keeps in _source only (event.index.ts storedKeyword, storedLong, redaction disabled), except
 * `parameters` (never indexed): until issue 15 they were indexed with doc values, as `all-indexed` puts them back.
 */
export function storedOnlyFields(m: Mappings): string[] {
  return Object.entries(m.properties)
    .filter(([name, p]) => name !== 'parameters' && ((p.index === false && p.doc_values === false) || p.enabled === false)).map(([name]) => name);
}

/** The mapping before issue 15: every stored-only field (storedOnlyFields) indexed, with doc values; redaction's numbers and flag mapped. */
export function withEveryFieldIndexed(m: Mappings): Mappings {
  const properties = { ...m.properties };
  for (const f of storedOnlyFields(m)) {
    const { index: _i, doc_values: _d, ...rest } = properties[f]!;
    properties[f] = f === 'redaction'
      ? { properties: { rulesVersion: { type: 'long' }, parametersDropped: { type: 'boolean' }, literalsMasked: { type: 'long' }, patternsMasked: { type: 'long' } } }
      : rest;
  }
  return { ...m, properties };
}

/** The dates' format before issue 15 (event.index.ts DATE_FORMAT now puts a fixed pattern first). */
export const ISO_DATE_FORMAT = 'strict_date_optional_time';
export function withIsoDates(m: Mappings): Mappings {
  const properties = { ...m.properties };
  for (const [f, p] of Object.entries(properties)) if (p.type === 'date') properties[f] = { ...p, format: ISO_DATE_FORMAT };
  return { ...m, properties };
}

/**
 * An id led by its event's time: 12 hex digits of the millisecond (hex sorts as the number does, base64url does not),
 * then the first 20 characters of the hashed id. Ids then grow with time, as OpenSearch's generated ones do.
 */
export function timeOrderedId(timestamp: string, id: string): string {
  return Date.parse(timestamp).toString(16).padStart(12, '0') + id.slice(0, 20);
}

/** `statement` with norms again (the product's has none: nothing is scored). */
export function withNorms(m: Mappings): Mappings {
  const { norms: _, ...statement } = m.properties.statement!;
  return { ...m, properties: { ...m.properties, statement } };
}

/** `id` and `tiebreak` indexed again, as before issue 15's second part (the product keeps doc values only: IDENTITY_FIELDS). */
export function withIndexedKeys(m: Mappings): Mappings {
  return { ...m, properties: { ...m.properties, id: { type: 'keyword' }, tiebreak: { type: 'long' } } };
}

/** The settings without the `_id` lookup filter (event.index.ts ID_LOOKUP_FILTER). */
export function withoutIdFilter(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([k]) => k !== ID_LOOKUP_FILTER));
}

/** The index sort ascending (the order events arrive in), where the product's is newest first. */
export function withAscendingSort(settings: Record<string, unknown>): Record<string, unknown> {
  return { ...settings, 'index.sort.order': ['asc', 'asc'], 'index.sort.missing': ['_first', '_last'] };
}

/** The variants, baseline first; the raw-line peer last. */
export function leverVariants(): LeverVariant[] {
  const base: LeverVariant = { name: 'baseline', lever: 'the current template (INDEX_TEMPLATE), the ingester\'s documents, ids and bulk',
    settings: BASE_SETTINGS, mappings: baseMappings(), source: 'event', ids: true, ...INGESTER_BULK };
  const dv = docValuesCandidates(base.mappings);
  const one = (name: string, lever: string, change: Partial<LeverVariant>): LeverVariant => ({ ...base, name, lever, ...change });
  return [
    base,
    one('no-sort', 'no index sort (index.sort.* dropped)', { settings: withoutSort(BASE_SETTINGS) }),
    one('no-terms', 'no searchTerms (not in the documents, not in the mapping)', { mappings: withoutSearchTerms(base.mappings), source: 'event-without-terms' }),
    one('statement-norms', 'statement: with norms (before issue 15)', { mappings: withNorms(base.mappings) }),
    one('statement-freqs', 'statement: norms false, index_options freqs (no positions)', { mappings: leanStatement(base.mappings, 'freqs') }),
    one('no-doc-values', `doc_values false on ${dv.join(', ')}`, { mappings: withoutDocValues(base.mappings, dv) }),
    one('refresh-30s', 'refresh_interval 30s', { settings: { ...BASE_SETTINGS, refresh_interval: '30s' } }),
    one('refresh-off-load', 'refresh_interval -1 during the load, 1s put back after it', { loadRefresh: '-1' }),
    one('source-no-nulls', 'documents without their null fields (smaller _source)', { source: 'event-without-nulls' }),
    one('bulk-5000x3', 'bulk of 5,000 documents (3 in flight)', { batch: 5000 }),
    one('bulk-2000x2', '2 bulk requests in flight', { inFlight: 2 }),
    one('bulk-2000x4', '4 bulk requests in flight', { inFlight: 4 }),
    one('auto-ids', 'no _id: OpenSearch generates ids (the product keeps its deterministic ids)', { ids: false }),
    one('time-ids', 'ids led by the event time (timeOrderedId) instead of a hash', { idForm: 'time-ordered' }),
    one('asc-sort', 'index sort ascending (arrival order) instead of newest first', { settings: withAscendingSort(BASE_SETTINGS) }),
    one('no-id-bloom', `no Bloom filter on _id (${ID_LOOKUP_FILTER} off: before issue 15)`, { settings: withoutIdFilter(BASE_SETTINGS) }),
    // the two levers issue 15 took, undone: what each saves
    one('iso-dates', `dates parsed by ${ISO_DATE_FORMAT} alone (before issue 15)`, { mappings: withIsoDates(base.mappings) }),
    one('all-indexed', `indexed, with doc values: ${storedOnlyFields(base.mappings).join(', ')} (before issue 15)`, { mappings: withEveryFieldIndexed(base.mappings) }),
    one('indexed-keys', 'id and tiebreak indexed (before issue 15)', { mappings: withIndexedKeys(base.mappings) }),
    one('before-15', 'iso-dates, all-indexed, indexed-keys, statement-norms and no-id-bloom together: the template before issue 15',
      { settings: withoutIdFilter(BASE_SETTINGS), mappings: withNorms(withIndexedKeys(withEveryFieldIndexed(withIsoDates(base.mappings)))) }),
    one('combined', 'all of no-sort, no-terms, statement-freqs, no-doc-values, refresh-30s',
      { settings: { ...withoutSort(BASE_SETTINGS), refresh_interval: '30s' }, source: 'event-without-terms',
        mappings: withoutDocValues(leanStatement(withoutSearchTerms(base.mappings), 'freqs'), dv) }),
    one('raw-lines', 'the raw shipper peer\'s documents: each csvlog line as { MESSAGE, timestamp } (rawbench template, no _id)',
      { settings: { ...PEER_INDEX_TEMPLATE.template.settings }, mappings: JSON.parse(JSON.stringify(PEER_INDEX_TEMPLATE.template.mappings)) as Mappings,
        source: 'raw-line', ids: false }),
  ];
}

/** Round `round` (from 0) runs the variants in this order: rotated by one per round. */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  const k = variants.length === 0 ? 0 : round % variants.length;
  return [...variants.slice(k), ...variants.slice(0, k)];
}

/**
 * The runs of one round: the other variants rotated by one per round, with the baseline first, after every
 * `every` of them and last, so that each variant's run has a baseline run shortly before and after it (a slow
 * spell of the shared machine within a round then touches the variant and its baseline alike).
 */
export function roundPlan<T extends { name: string }>(variants: readonly T[], round: number, every: number): T[] {
  const base = variants.find((v) => v.name === 'baseline');
  const others = roundOrder(variants.filter((v) => v !== base), round);
  if (!base) return others;
  const plan: T[] = [base];
  others.forEach((v, i) => { plan.push(v); if ((i + 1) % every === 0 || i === others.length - 1) plan.push(base); });
  return plan;
}

/**
 * Bulk bodies of `batch` documents each: the action line (`create`, with `_id` when ids are given) and the source,
 * NDJSON, newline-terminated, as the ingester builds them (event.index.ts bulkOp).
 */
export function bulkBodies(index: string, sources: readonly string[], ids: readonly string[] | null, batch: number): string[] {
  if (ids && ids.length !== sources.length) throw new Error(`${ids.length} ids for ${sources.length} sources`);
  const bodies: string[] = [];
  const idx = JSON.stringify(index);
  for (let start = 0; start < sources.length; start += batch) {
    let body = '';
    for (let i = start; i < Math.min(sources.length, start + batch); i++) {
      body += `{"create":{"_index":${idx}${ids ? `,"_id":${JSON.stringify(ids[i])}` : ''}}}\n${sources[i]}\n`;
    }
    bodies.push(body);
  }
  return bodies;
}

/** A source without its null fields (same order otherwise). */
export function withoutNulls(source: string): string {
  const o = JSON.parse(source) as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)));
}

export interface LeverOptions {
  events: number;
  rounds: number;
  /** Variants whose name matches (the baseline always runs: every ratio is against it). */
  only: RegExp | null;
  warmupSeconds: number;
  opensearchHeapMb: number;
  /** Page query repetitions (baseline vs no-sort), interleaved; 0: not measured. */
  queryRepetitions: number;
  /** A baseline run after every this many variant runs (roundPlan). */
  baselineEvery: number;
  stepMs: number;
}

export function parseLeverOptions(argv: readonly string[]): LeverOptions {
  const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const known = new Set(['--events', '--rounds', '--only', '--warmup-seconds', '--queries', '--baseline-every']);
  for (let i = 0; i < argv.length; i += 2) if (!known.has(argv[i]!)) throw new Error(`unknown option ${argv[i]}`);
  const events = parseCount('events', value('events') ?? '200k');
  if (events < 1000) throw new Error('--events: at least 1000');
  const whole = (name: string, fallback: number, min: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name} takes a whole number of at least ${min}, got "${v}"`);
    return Number(v);
  };
  const only = value('only');
  return { events, rounds: whole('rounds', 3, 1), only: only === undefined ? null : new RegExp(only), warmupSeconds: whole('warmup-seconds', 30, 0),
    opensearchHeapMb: 2048, queryRepetitions: whole('queries', 100, 0), baselineEvery: whole('baseline-every', 3, 1), stepMs: 250 };
}

/** The variants a run measures: the baseline, then those `only` selects. */
export function selectVariants(all: readonly LeverVariant[], only: RegExp | null): LeverVariant[] {
  return all.filter((v) => v.name === 'baseline' || only === null || only.test(v.name));
}

/** One variant's run in one round. */
export interface LeverRun {
  variant: string;
  round: number;
  /** Its place in the whole run (0, 1, ...): which baseline runs bracket it. */
  seq: number;
  /** Documents indexed (the raw peer: lines) and the audit events they carry. */
  docs: number;
  events: number;
  /** Average bytes of a source as sent. */
  sourceBytes: number;
  /** First bulk request sent -> last one answered. */
  bulkSeconds: number;
  /** The CPU window: first bulk sent -> final refresh done and no merge running on the node. */
  windowSeconds: number;
  /** OpenSearch's CPU (user + system, /proc/<pid>/stat) over the window. */
  cpuSeconds: number;
  /** Store bytes after a force-merge to one segment (measured in the first round only). */
  bytes: number | null;
  /** 1-minute load average when the run started. */
  load: number;
}

export interface LeverSummary {
  variant: string;
  lever: string;
  runs: number;
  docs: number;
  events: number;
  sourceBytes: number;
  cpuUsPerDoc: number;
  cpuUsPerEvent: number;
  /** Median over the runs of (this run's CPU per event / the mean of the baseline runs just before and after it). */
  cpuRatio: number;
  eventsPerSecond: number;
  rateRatio: number;
  bytesPerDoc: number | null;
  bytesPerEvent: number | null;
  bytesRatio: number | null;
  windowSeconds: number;
}

export function summarizeLevers(variants: readonly Pick<LeverVariant, 'name' | 'lever'>[], runs: readonly LeverRun[]): LeverSummary[] {
  const base = runs.filter((r) => r.variant === 'baseline');
  const perEvent = (r: LeverRun) => r.cpuSeconds / r.events * 1e6;
  const rate = (r: LeverRun) => r.events / r.bulkSeconds;
  const bytesPerEvent = (r: LeverRun) => (r.bytes === null ? null : r.bytes / r.events);
  /** The baseline runs of the same round nearest before and after (one of them at a round's edge); the run itself if it is one. */
  const bracket = (r: LeverRun): LeverRun[] => {
    if (r.variant === 'baseline') return [r];
    const same = base.filter((b) => b.round === r.round);
    const before = same.filter((b) => b.seq < r.seq).sort((a, b) => b.seq - a.seq)[0];
    const after = same.filter((b) => b.seq > r.seq).sort((a, b) => a.seq - b.seq)[0];
    return [before, after].filter((b): b is LeverRun => b !== undefined);
  };
  const ratio = (r: LeverRun, f: (x: LeverRun) => number) => { const b = bracket(r); return f(r) / (b.reduce((s, x) => s + f(x), 0) / b.length); };
  return variants.flatMap((v) => {
    const mine = runs.filter((r) => r.variant === v.name);
    if (mine.length === 0) return [];
    const paired = mine.filter((r) => bracket(r).length > 0);
    const sized = mine.filter((r) => r.bytes !== null);
    const baseSized = base.find((r) => r.bytes !== null);
    const bpe = sized.length > 0 ? median(sized.map((r) => bytesPerEvent(r)!)) : null;
    return [{
      variant: v.name, lever: v.lever, runs: mine.length, docs: mine[0]!.docs, events: mine[0]!.events, sourceBytes: median(mine.map((r) => r.sourceBytes)),
      cpuUsPerDoc: median(mine.map((r) => r.cpuSeconds / r.docs * 1e6)), cpuUsPerEvent: median(mine.map(perEvent)),
      cpuRatio: paired.length > 0 ? median(paired.map((r) => ratio(r, perEvent))) : NaN,
      eventsPerSecond: median(mine.map(rate)),
      rateRatio: paired.length > 0 ? median(paired.map((r) => ratio(r, rate))) : NaN,
      bytesPerDoc: sized.length > 0 ? median(sized.map((r) => r.bytes! / r.docs)) : null,
      bytesPerEvent: bpe,
      bytesRatio: bpe !== null && baseSized ? bpe / bytesPerEvent(baseSized)! : null,
      windowSeconds: median(mine.map((r) => r.windowSeconds)),
    }];
  });
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const x2 = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : `${v.toFixed(2)}x`);

/** The variants' table: medians of the runs; ratios against the bracketing baseline runs (bytes: of the first round). */
export function leverMarkdown(rows: readonly LeverSummary[]): string {
  return [
    '| variant | the one change | docs (events) | source B/doc | OpenSearch CPU µs/doc | µs/event | CPU × baseline | bulk events/s | rate × baseline | bytes/event (1 segment) | bytes × baseline | window s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant === 'baseline' ? '**baseline**' : r.variant} | ${r.lever} | ${fmt(r.docs)}${r.docs === r.events ? '' : ` (${fmt(r.events)})`} | ` +
      `${fmt(r.sourceBytes)} | ${r.cpuUsPerDoc.toFixed(1)} | ${r.cpuUsPerEvent.toFixed(1)} | ${x2(r.cpuRatio)} | ${fmt(r.eventsPerSecond)} | ${x2(r.rateRatio)} | ` +
      `${r.bytesPerEvent === null ? '-' : fmt(r.bytesPerEvent)} | ${x2(r.bytesRatio)} | ${r.windowSeconds.toFixed(1)} |`),
  ].join('\n');
}

/** Each run: CPU µs per event and events/s, per round and variant, with the load at its start. */
export function roundsMarkdown(runs: readonly LeverRun[]): string {
  const rounds = [...new Set(runs.map((r) => r.round))].sort((a, b) => a - b);
  const variants = [...new Set(runs.map((r) => r.variant))];
  return [
    `| variant | ${rounds.map((r) => `round ${r + 1}: µs/event, events/s (load)`).join(' | ')} |`,
    `|---|${rounds.map(() => '---').join('|')}|`,
    ...variants.map((v) => `| ${v} | ${rounds.map((round) => {
      const rs = runs.filter((x) => x.variant === v && x.round === round);
      return rs.length > 0 ? rs.map((r) => `${(r.cpuSeconds / r.events * 1e6).toFixed(1)}, ${fmt(r.events / r.bulkSeconds)} (${r.load.toFixed(1)})`).join('; ') : '-';
    }).join(' | ')} |`),
  ].join('\n');
}

export interface QueryTiming { variant: string; samplesMs: number[] }

/** The page query's latency per index, p50 / p95 / p99 (ms). */
export function queryMarkdown(timings: readonly QueryTiming[]): string {
  return ['| index | requests | p50 ms | p95 ms | p99 ms |', '|---|---|---|---|---|',
    ...timings.map((t) => {
      const s = [...t.samplesMs].sort((a, b) => a - b);
      return `| ${t.variant} | ${s.length} | ${percentile(s, 50).toFixed(2)} | ${percentile(s, 95).toFixed(2)} | ${percentile(s, 99).toFixed(2)} |`;
    })].join('\n');
}
