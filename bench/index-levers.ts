/**
 * Issue 15: what each mapping choice of the event index costs OpenSearch per document. The ingester's real documents
 * (the bench's generated csvlog, built by auditEventOf + eventSource with the tenant fields and ingestedAt, as
 * `ingest` writes them) are bulk-indexed into a fresh index per VARIANT of the template, each one change from the
 * product's (index-levers-report.ts leverVariants), beside the raw shipper peer's documents (each csvlog line as
 * `{ MESSAGE, timestamp }`, the rawbench template) sent by the same client the same way.
 *
 *   npm run build:tools && node dist/bench/index-levers.js [--events 200k] [--rounds 3] [--only REGEX] [--warmup-seconds 30] [--queries 100] [--baseline-every 3]
 *
 * Each run: the index created, merges settled (bench/ingest.ts settleMerges), bodies pre-built (untimed); then the
 * window: OpenSearch's CPU (/proc/<pid>/stat user + system, all threads: the counter of the rsyslog peer's figures)
 * from just before the first bulk request to after the final refresh (and, for the -1 variant, refresh_interval put
 * back first) with no merge running on the node. Bulk events/s: first request sent -> last answered. Bulk requests
 * as the ingester sends them (bulk.pipeline.ts, event.store.ts bulkWrite): `create` actions, POST /_bulk with the
 * ingester's filter_path, a batch's body of N documents, up to K requests in flight. After the window (first round
 * each variant's first run): a force-merge to one segment and the store's bytes. Rounds alternate the variants, the
 * order rotated by one per round, with a baseline run first, after every `--baseline-every` (3) variants and last
 * (roundPlan): each variant's ratio is against the mean of the baseline runs just before and after it. After an
 * untimed warm-up; the load average (`uptime`) is recorded before and after each round. In the last round the last
 * baseline's and no-sort's indices are kept for the page query (buildEventSearch, first 50: sort timestamp desc,
 * tiebreak desc, size 51, the service term filter), timed on both in turns, then deleted.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { projectRoot } from '../src/base/paths';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { eventSource } from '../src/modules/audit-events/event.index';
import { buildEventSearch } from '../src/modules/audit-events/event.query';
import { BenchEnvironment, machine } from './environment';
import { Chunk, settleMerges, writeChunk } from './ingest';
import { bulkBodies, LeverOptions, LeverRun, leverMarkdown, LeverVariant, leverVariants, parseLeverOptions, QueryTiming, queryMarkdown, roundOrder,
  roundPlan, roundsMarkdown, selectVariants, SourceForm, summarizeLevers, timeOrderedId, withoutNulls } from './index-levers-report';
import { sampleDocs, sourceWithout } from './search-cost';

const PREFIX = 'pgalever-';
/** The ingester's (event.store.ts bulkWrite): only each item's status and error come back. */
const BULK_FILTER = 'items.*.status,items.*.error';

/** The csvlog's physical lines (the raw peer's messages), without their newline. */
async function physicalLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  let rest = '';
  for await (const c of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (c as string)).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  }
  if (rest !== '') lines.push(rest);
  return lines;
}

/** The documents of each source form, built once (untimed). */
class Sources {
  private readonly cache = new Map<SourceForm, string[]>();
  readonly ids: string[];
  constructor(private readonly docs: readonly AuditEventDocument[], private readonly lines: readonly string[], private readonly startMs: number) {
    this.ids = docs.map((d) => d.id);
  }

  get timeOrderedIds(): string[] { return this.docs.map((d) => timeOrderedId(d.timestamp, d.id)); }

  /** ingestedAt as the ingester's clock would give it: a few events per millisecond, in order. */
  private ingestedAt(i: number): string { return new Date(this.startMs + Math.floor(i / 5)).toISOString(); }

  of(form: SourceForm): string[] {
    let s = this.cache.get(form);
    if (!s) {
      s = form === 'event' ? this.docs.map((d, i) => eventSource(d, this.ingestedAt(i)))
        : form === 'event-without-terms' ? this.docs.map((d, i) => sourceWithout(d, this.ingestedAt(i)))
          : form === 'event-without-nulls' ? this.of('event').map(withoutNulls)
            // rsyslog's `timestamp` is the read time (RFC 3339); the line as MESSAGE
            : this.lines.map((l, i) => JSON.stringify({ MESSAGE: l, timestamp: new Date(this.startMs + Math.floor(i / 5)).toISOString() }));
      this.cache.set(form, s);
    }
    return s;
  }
}

async function bulkAll(client: Client, bodies: readonly string[], inFlight: number, what: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await client.transport.request({ method: 'POST', path: '/_bulk', bulkBody: body, querystring: { filter_path: BULK_FILTER } });
      const items = (res.body as { items?: Record<string, { status: number; error?: { type: string; reason?: string } }>[] }).items ?? [];
      const bad = items.map((it) => Object.values(it)[0]!).find((r) => r.status >= 300);
      if (bad) throw new Error(`${what}: a document refused, ${bad.status} ${bad.error?.type}: ${bad.error?.reason?.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function countOf(client: Client, index: string): Promise<number> {
  const { body } = await client.count({ index } as never);
  return (body as { count: number }).count;
}

/** One variant, one round: see the file's comment for the window. */
async function runVariant(env: BenchEnvironment, client: Client, v: LeverVariant, sources: Sources, round: number, seq: number,
  opts: { bytes: boolean; keep: boolean; index?: string }): Promise<LeverRun> {
  const index = opts.index ?? `${PREFIX}${v.name}-r${round + 1}-${seq}`;
  await client.indices.delete({ index, ignore_unavailable: true } as never);
  const settings = v.loadRefresh === undefined ? v.settings : { ...v.settings, refresh_interval: v.loadRefresh };
  await client.indices.create({ index, body: { settings, mappings: v.mappings } as never });
  const src = sources.of(v.source);
  const bodies = bulkBodies(index, src, !v.ids ? null : v.idForm === 'time-ordered' ? sources.timeOrderedIds : sources.ids, v.batch);
  const sourceBytes = src.reduce((s, x) => s + Buffer.byteLength(x), 0) / src.length;
  const events = sources.ids.length;
  await settleMerges(env);
  const load = os.loadavg()[0]!;
  const cpu0 = env.searchCpuSeconds();
  const t0 = performance.now();
  await bulkAll(client, bodies, v.inFlight, v.name);
  const bulkSeconds = (performance.now() - t0) / 1000;
  if (v.loadRefresh !== undefined) await client.indices.putSettings({ index, body: { index: { refresh_interval: v.settings.refresh_interval } } } as never);
  await client.indices.refresh({ index });
  await settleMerges(env);
  const windowSeconds = (performance.now() - t0) / 1000;
  const cpuSeconds = env.searchCpuSeconds() - cpu0;
  const docs = await countOf(client, index);
  if (docs !== src.length) throw new Error(`${v.name}: ${docs} documents indexed of ${src.length}`);
  let bytes: number | null = null;
  if (opts.bytes) {
    await client.indices.forcemerge({ index, max_num_segments: 1 } as never);
    await client.indices.refresh({ index });
    const { body } = await client.indices.stats({ index, metric: 'store' } as never);
    bytes = (body as { indices: Record<string, { primaries: { store: { size_in_bytes: number } } }> }).indices[index]!.primaries.store.size_in_bytes;
  }
  if (!opts.keep) await client.indices.delete({ index });
  return { variant: v.name, round, seq, docs, events, sourceBytes, bulkSeconds, windowSeconds, cpuSeconds, bytes, load };
}

const uptime = () => { try { return execFileSync('uptime', { encoding: 'utf8' }).trim(); } catch { return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`; } };

/** The console's first page (buildEventSearch, first 50) on each kept index, in turns, after 5 untimed requests each. */
async function timePageQuery(client: Client, serviceId: string, indices: readonly { variant: string; index: string }[], n: number): Promise<QueryTiming[]> {
  const { body } = buildEventSearch(serviceId, {}, 50, null);
  const once = async (index: string) => {
    const t0 = performance.now();
    const res = await client.transport.request({ method: 'POST', path: `/${index}/_search`, body: body as never, querystring: { filter_path: 'hits.hits._source' } });
    const ms = performance.now() - t0;
    if (((res.body as { hits?: { hits?: unknown[] } }).hits?.hits?.length ?? 0) !== 51) throw new Error(`page query on ${index}: not 51 hits`);
    return ms;
  };
  for (const x of indices) for (let i = 0; i < 5; i++) await once(x.index);
  const out = indices.map((x) => ({ variant: x.variant, samplesMs: [] as number[] }));
  for (let i = 0; i < n; i++) {
    for (const k of roundOrder(indices.map((_, j) => j), i)) out[k]!.samplesMs.push(await once(indices[k]!.index));
  }
  return out;
}

export async function runIndexLevers(o: LeverOptions): Promise<void> {
  const started = Date.now();
  const log = (msg: string) => process.stderr.write(`[index-levers ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  const variants = selectVariants(leverVariants(), o.only);
  log(`${variants.length} variants: ${variants.map((v) => v.name).join(', ')}; ${uptime()}`);
  const env = await BenchEnvironment.start({ opensearchHeapMb: o.opensearchHeapMb });
  const logRoot = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-levers-'));
  const client = new Client({ node: env.search.url, requestTimeout: 300_000 });
  const runs: LeverRun[] = [];
  const loads: { round: number; before: string; after: string }[] = [];
  let queries: QueryTiming[] = [];
  const kept: { variant: string; index: string }[] = [];
  let chunk: Chunk;
  try {
    log(`generating ${o.events} events`);
    chunk = await writeChunk(logRoot, 0, o.events, o.stepMs, null);
    const docs = await sampleDocs(env, chunk, chunk.auditLines);
    if (docs.length !== chunk.auditLines) throw new Error(`built ${docs.length} events of ${chunk.auditLines}`);
    const lines = variants.some((v) => v.source === 'raw-line') ? await physicalLines(chunk.file) : [];
    if (lines.length > 0 && lines.length !== chunk.lines) throw new Error(`read ${lines.length} lines, generated ${chunk.lines}`);
    const sources = new Sources(docs, lines, Date.now());
    for (const v of variants) sources.of(v.source);
    log(`${docs.length} events, ${chunk.lines} lines; sources built`);
    const baseline = variants[0]!;
    if (o.warmupSeconds > 0) {
      log(`untimed warm-up: ${o.warmupSeconds} s of the baseline's bulk`);
      for (const until = Date.now() + o.warmupSeconds * 1000; Date.now() < until;) {
        await runVariant(env, client, baseline, sources, 0, -1, { bytes: false, keep: false, index: `${PREFIX}warmup` });
      }
    }
    for (let r = 0; r < o.rounds; r++) {
      const before = uptime();
      log(`round ${r + 1}/${o.rounds}; ${before}`);
      const last = r === o.rounds - 1;
      const plan = roundPlan(variants, r, o.baselineEvery);
      for (const [i, v] of plan.entries()) {
        // the last round's last baseline and its no-sort run are kept for the page query; bytes: each variant's first run
        const keepIt = last && o.queryRepetitions > 0 && ((v.name === 'baseline' && i === plan.length - 1) || v.name === 'no-sort');
        const bytes = !runs.some((x) => x.variant === v.name && x.bytes !== null);
        const run = await runVariant(env, client, v, sources, r, runs.length, { bytes, keep: keepIt });
        if (keepIt) kept.push({ variant: v.name, index: `${PREFIX}${v.name}-r${r + 1}-${run.seq}` });
        runs.push(run);
        log(`  ${v.name}: ${(run.cpuSeconds / run.events * 1e6).toFixed(1)} µs/event of OpenSearch CPU (${run.cpuSeconds.toFixed(1)} s over ${run.windowSeconds.toFixed(1)} s), `
          + `${Math.round(run.events / run.bulkSeconds)} events/s${run.bytes === null ? '' : `, ${Math.round(run.bytes / run.docs)} B/doc`} (load ${run.load.toFixed(2)})`);
      }
      const after = uptime();
      loads.push({ round: r, before, after });
      log(`round ${r + 1} done; ${after}`);
    }
    if (o.queryRepetitions > 0 && kept.length === 2) {
      log(`page query (first 50, sort timestamp desc, tiebreak desc; service term filter): ${o.queryRepetitions} each, in turns; ${uptime()}`);
      kept.sort((a, b) => a.variant.localeCompare(b.variant));   // baseline, then no-sort
      queries = await timePageQuery(client, env.tenant.eventsServiceId, kept, o.queryRepetitions);
      for (const k of kept) await client.indices.delete({ index: k.index });
    }
  } finally {
    await client.close();
    await env.stop();
    rmSync(logRoot, { recursive: true, force: true });
  }
  const m = machine();
  const summary = summarizeLevers(variants, runs);
  const report = [
    `pg-audit-gateway index levers, ${new Date().toISOString().slice(0, 16)}Z — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; `
      + `${o.events} events (${chunk.lines} lines), ${o.rounds} round(s)`,
    '', leverMarkdown(summary), '', roundsMarkdown(runs), '',
    ...loads.map((l) => `round ${l.round + 1}: before ${l.before}; after ${l.after}`),
    ...(queries.length > 0 ? ['', queryMarkdown(queries)] : []),
  ].join('\n');
  console.log(report);
  const dir = path.join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `index-levers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: m, options: { ...o, only: o.only?.source ?? null }, seconds: (Date.now() - started) / 1000,
    lines: chunk.lines, loads, runs, summary, queries: queries.map((q) => ({ variant: q.variant, samplesMs: q.samplesMs })) }, null, 2) + '\n');
  log(`wrote ${path.relative(projectRoot(), file)}`);
}

if (require.main === module) {
  let options: LeverOptions;
  try { options = parseLeverOptions(process.argv.slice(2)); }
  catch (err) { process.stderr.write(`index-levers bench: ${(err as Error).message}\n`); process.exit(2); }
  runIndexLevers(options).then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
}
