/**
 * What the text search's searchTerms (src/modules/audit-events/event.terms.ts) cost at write time, measured at
 * every size on a sample of the size's own generated events (at most SAMPLE documents, the first of the chunk):
 * - in the ingester: eventSource (the JSON written per event) with its searchTerms vs without them, events/s on
 *   one core, median of 3 alternating runs;
 * - in OpenSearch: the same documents bulk-indexed (client bulk helper, same settings as the event template) into
 *   an index with the field, against an index of the mapping before it (documents without the field), events/s;
 * - on disk: bytes per event of each index, force-merged to one segment, and of a third index that leaves the
 *   terms out of _source (`_source.excludes`: the alternative the figures decided against).
 * The query cost is measured beside the other queries (bench/queries.ts: the text search forms).
 */
import { createReadStream } from 'node:fs';
import { Client } from '@opensearch-project/opensearch';
import { eventSource, INDEX_TEMPLATE, tiebreakOf } from '../src/modules/audit-events/event.index';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import type { BenchEnvironment } from './environment';
import type { Chunk } from './ingest';
import type { Figure } from './report';
import { median } from './stats';

export const SAMPLE = 100_000;
const PREFIX = 'pgaterms-';

/** The first `n` events of the chunk, as the ingester builds them (also bench/index-levers.ts). */
export async function sampleDocs(env: BenchEnvironment, chunk: Chunk, n: number): Promise<AuditEventDocument[]> {
  const tenant = { projectId: env.tenant.projectId, organizationId: env.tenant.organizationId };
  const splitter = new CsvlogSplitter();
  const docs: AuditEventDocument[] = [];
  const take = (items: ReturnType<CsvlogSplitter['push']>) => {
    for (const item of items) {
      const x = item.ok ? auditEventOf(env.tenant.eventsServiceId, item.record) : null;
      if (x?.kind === 'event') docs.push(Object.assign(x.event, tenant));
      if (docs.length >= n) return true;
    }
    return false;
  };
  for await (const c of createReadStream(chunk.file, { highWaterMark: 1 << 20 })) if (take(splitter.push(c as Buffer))) return docs;
  take(splitter.end());   // a last record without its newline
  return docs;
}

/** The source as written before searchTerms existed (with `ingestedAt` when given, as eventSource writes it). */
export const sourceWithout = (doc: AuditEventDocument, ingestedAt?: string) =>
  `{"tiebreak":${tiebreakOf(doc.id)},${ingestedAt === undefined ? '' : `"ingestedAt":${JSON.stringify(ingestedAt)},`}${JSON.stringify(doc).slice(1)}`;

/** eventSource with and without its searchTerms, events/s on this core. */
function serializeRates(docs: readonly AuditEventDocument[]): { with: number; without: number } {
  const w: number[] = [];
  const wo: number[] = [];
  let sink = 0;
  for (let run = 0; run < 3; run++) {
    let t0 = performance.now();
    for (const d of docs) sink += sourceWithout(d).length;
    wo.push(docs.length / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    for (const d of docs) sink += eventSource(d).length;
    w.push(docs.length / ((performance.now() - t0) / 1000));
  }
  if (sink === 0) throw new Error('nothing serialized');
  return { with: median(w), without: median(wo) };
}

type Variant = 'with' | 'without' | 'excluded';

/** Bulk-indexes the sources into a fresh index of the variant's mapping; events/s and bytes per event after a merge to one segment. */
async function indexVariant(client: Client, variant: Variant, sources: readonly string[], ids: readonly string[]): Promise<{ rate: number; bytes: number }> {
  const index = `${PREFIX}${variant}`;
  const mappings = INDEX_TEMPLATE.template.mappings;
  const { searchTerms: _, ...propertiesBefore } = mappings.properties;
  const mapping = variant === 'with' ? mappings
    : variant === 'excluded' ? { ...mappings, _source: { excludes: ['searchTerms'] } } : { ...mappings, properties: propertiesBefore };
  await client.indices.delete({ index }).catch(() => undefined);
  await client.indices.create({ index, body: { settings: INDEX_TEMPLATE.template.settings, mappings: mapping } as never });
  const t0 = performance.now();
  const result = await client.helpers.bulk({ datasource: sources.map((s, i) => `${ids[i]}\t${s}`), onDocument: (line: string) => {
    const tab = line.indexOf('\t');
    return [{ create: { _index: index, _id: line.slice(0, tab) } }, line.slice(tab + 1)];
  } } as never);
  const seconds = (performance.now() - t0) / 1000;
  if (result.failed > 0 || result.successful !== sources.length) throw new Error(`search cost, ${variant}: ${result.failed} failed of ${sources.length}`);
  await client.indices.forcemerge({ index, max_num_segments: 1 } as never);
  await client.indices.refresh({ index });
  const { body } = await client.indices.stats({ index, metric: 'store' } as never);
  const bytes = (body as { indices: Record<string, { primaries: { store: { size_in_bytes: number } } }> }).indices[index]!.primaries.store.size_in_bytes;
  await client.indices.delete({ index });
  return { rate: sources.length / seconds, bytes: bytes / sources.length };
}

/** The write-time cost of searchTerms at this size, as figures beside their baselines of the same run. */
export async function measureSearchCost(env: BenchEnvironment, chunk: Chunk, size: number): Promise<Figure[]> {
  const docs = await sampleDocs(env, chunk, SAMPLE);
  const n = docs.length.toLocaleString('en-US');
  const terms = docs.reduce((s, d) => s + ((JSON.parse(eventSource(d)) as { searchTerms?: string[] }).searchTerms?.length ?? 0), 0) / docs.length;
  const serialize = serializeRates(docs);
  const client = new Client({ node: env.search.url });
  try {
    const ids = docs.map((d) => d.id);
    const withTerms = docs.map((d) => eventSource(d));
    // indices of the same size, one after the other; the first one's JVM warm-up is paid by an untimed run
    await indexVariant(client, 'without', docs.slice(0, 5000).map((d) => sourceWithout(d)), ids.slice(0, 5000));
    const without = await indexVariant(client, 'without', docs.map((d) => sourceWithout(d)), ids);
    const withField = await indexVariant(client, 'with', withTerms, ids);
    const excluded = await indexVariant(client, 'excluded', withTerms, ids);
    const sample = `${n} events of this size's file, ${terms.toFixed(1)} terms per event`;
    return [
      { section: 'search', name: `eventSource with searchTerms, 1 core (${sample})`, size, unit: 'events/s', measured: serialize.with,
        baseline: serialize.without, baselineName: 'the same documents serialized without searchTerms' },
      { section: 'search', name: `bulk indexing with searchTerms (${sample})`, size, unit: 'events/s', measured: withField.rate,
        baseline: without.rate, baselineName: 'the same documents without the field, mapping before searchTerms' },
      { section: 'search', name: `index bytes per event with searchTerms (${sample}, one segment)`, size, unit: 'bytes/event',
        measured: withField.bytes, baseline: without.bytes, baselineName: 'without the field' },
      { section: 'search', name: `index bytes per event with searchTerms left out of _source (${sample}, one segment; not used)`, size, unit: 'bytes/event',
        measured: excluded.bytes, baseline: without.bytes, baselineName: 'without the field' },
    ];
  } finally {
    await client.close();
  }
}

