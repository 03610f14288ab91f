/**
 * The benchmark: every figure of the README's Performance section, each beside its baseline measured in
 * the same run, on services this command starts and stops itself.
 *
 *   npm run bench                        full run: 100k, 1M and 10M events (about 25 minutes on 2 cores, ~25 GB disk)
 *   npm run bench -- --quick             small sizes, short loads, one connection: every step once, in about 3 minutes (CI)
 *   npm run bench -- --sizes 100k,1m     other sizes (events in the store after each step)
 *   npm run bench -- --seconds 5 --connections 1,16 --calls 100
 *   npm run bench -- --queries-only      the query path alone: events ingested, then the query load (no control path, flood, baselines of ingest or parser)
 *
 * Steps: control path (enable / configure vs bare ALTER SYSTEM); a flood of one tenant's service beside a
 * second tenant's reads (bench/flood.ts); then, for each size, the next csvlog
 * file of a growing log directory is generated, its documents sent pre-built through the client's bulk
 * helper into indices of their own that grow as the real ones do (baseline), then the file goes through
 * `ingest --once` (measured, with its peak RSS and CPU), then through the raw shipper peer (rsyslog imfile +
 * omelasticsearch, each raw line a document: bench/rsyslog-peer.ts, rsyslog fetched by dev/local/rsyslog.ts), and the query load runs against the store holding that
 * many events, then the live tail's latency (bench/tail.ts); OpenSearch finishes its merges before each of the three. The parser is timed on the largest file of at most 2.5M lines.
 * Prints a Markdown table; writes bench/results/<mode>-<time>.json with the machine beside the figures.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/base/paths';
import { measureControlPath } from './control-path';
import { measureControlScopes, SERVICES_PAGE, TARGET_DATABASES } from './control-scopes';
import { FLOOD_CLIENTS, measureFlood } from './flood';
import { BenchEnvironment, machine } from './environment';
import { Chunk, dropBulkBaseline, measureBulkBaseline, measureParser, runIngester, settleMerges, writeChunk } from './ingest';
import { measureQueries } from './queries';
import { measureTail } from './tail';
import { measureSearchCost } from './search-cost';
import { curve, curveMarkdown, Figure, markdown, summary } from './report';
import { measureExport } from './export';
import { dropPeerIndices, measurePeer } from './rsyslog-peer';
import { ensureRsyslog } from '../dev/local/rsyslog';
import { optionReader, parseCount } from './stats';

export interface BenchOptions {
  mode: 'full' | 'quick';
  /** Only what the query figures need: ingest (unmeasured) and the query load at each size. */
  queriesOnly: boolean;
  sizes: number[];
  seconds: number;
  /** Requests sent, unrecorded, before each latency figure. */
  warmupRequests: number;
  connections: number[];
  /** Where the bare proxy is measured too: every concurrency, or (quick) the lowest only. */
  floorConnections: number[];
  calls: number;
  /** Untimed bulk indexing before the first ingest measurement: OpenSearch's JVM warms up. */
  indexWarmupSeconds: number;
  /** Time between two log rows: 10M events span about five weeks of daily indices. */
  stepMs: number;
  opensearchHeapMb: number;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const { value, num } = optionReader(argv);
  const sizes = (value('sizes') ?? (quick ? '10k,30k' : '100k,1m,10m')).split(',').map((x) => parseCount('sizes', x));
  if (sizes.some((s, i) => s < 1000 || (i > 0 && s <= sizes[i - 1]!))) throw new Error('--sizes must grow, each at least 1000');
  const connections = (value('connections') ?? (quick ? '1' : '1,16')).split(',').map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1 || c > 256)) throw new Error('--connections takes integers from 1 to 256');
  return {
    mode: quick ? 'quick' : 'full', queriesOnly: argv.includes('--queries-only'), sizes, connections, floorConnections: quick ? connections.slice(0, 1) : connections,
    seconds: num('seconds', quick ? 1 : 5), warmupRequests: quick ? 20 : 500,
    calls: num('calls', quick ? 4 : 100), indexWarmupSeconds: quick ? 2 : 30,
    stepMs: 250, opensearchHeapMb: quick ? 512 : 2048,
  };
}

const MB = 2 ** 20;

export async function runBench(o: BenchOptions): Promise<{ figures: Figure[]; file: string }> {
  const started = Date.now();
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  // the raw shipper peer's rsyslog: fetched and unpacked under .local/rsyslog on first use (scripts/bootstrap.sh fetches it too)
  const rsyslog = o.queriesOnly ? null : await ensureRsyslog();
  const env = await BenchEnvironment.start({ opensearchHeapMb: o.opensearchHeapMb });
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-log-'));
  const figures: Figure[] = [];
  const chunks: { chunk: Chunk; ingestSeconds: number }[] = [];
  try {
    if (!o.queriesOnly) {
      log('services up; control path');
      figures.push(...await measureControlPath(env, o.calls));
      log(`control surface: targetDatabases over ${TARGET_DATABASES} databases, services(first: ${SERVICES_PAGE})`);
      figures.push(...await measureControlScopes(env, o.calls));
      log(`flood: a second tenant's reads, alone and beside ${FLOOD_CLIENTS} clients flooding another tenant's service`);
      // at least 3 s: in 1 s (--quick) on a loaded machine the second tenant may get no answer at all beside the flood
      figures.push(...await measureFlood(env, { seconds: Math.max(o.seconds, 3), warmupRequests: Math.min(Math.ceil(o.warmupRequests / 4), 50) }));
    }

    let previous: Chunk | null = null;
    let total = 0;
    for (const [n, size] of o.sizes.entries()) {
      log(`generating ${size - total} events (to ${size})`);
      const chunk = await writeChunk(logDir, n, size - total, o.stepMs, previous);
      if (!o.queriesOnly) log(`bulk-helper baseline: ${chunk.auditLines} pre-built documents${n === 0 ? `, after ${o.indexWarmupSeconds} s of untimed indexing` : ''}`);
      const baseline = o.queriesOnly ? null : await measureBulkBaseline(env, chunk, n === 0 ? o.indexWarmupSeconds : 0);
      log(`ingest --once: ${chunk.auditLines} events, ${chunk.lines} lines, ${(chunk.bytes / MB).toFixed(0)} MiB`);
      await settleMerges(env);
      const run = await runIngester(env, logDir);
      if (run.events !== chunk.auditLines || run.malformed !== 0) throw new Error(`ingested ${run.events} events (${run.malformed} malformed) of ${chunk.auditLines}`);
      const rate = run.events / run.seconds;
      chunks.push({ chunk, ingestSeconds: run.seconds });
      if (baseline) figures.push({ section: 'ingest', name: `ingest --once, ${chunk.auditLines.toLocaleString('en-US')} new events`, size, unit: 'events/s', measured: rate,
        baseline: baseline.rate, baselineName: `the same ${baseline.docs.toLocaleString('en-US')} documents pre-built, client bulk helper, into indices of the same size`,
        target: { text: '>= 80% of baseline', met: rate >= 0.8 * baseline.rate } });
      figures.push({ section: 'memory', name: `ingester peak RSS, file of ${chunk.lines.toLocaleString('en-US')} lines`, size, unit: 'MB',
        measured: run.peakRssBytes / MB, target: { text: '<= 150 MB', met: run.peakRssBytes <= 150 * MB } });
      if (rsyslog && baseline) {
        log(`raw shipper peer: rsyslog imfile + omelasticsearch, the same file's ${chunk.lines} lines`);
        await settleMerges(env);
        const peer = await measurePeer(env, rsyslog, chunk);
        const [ours, theirs] = [run.events / run.wallSeconds, peer.events / peer.seconds];
        const events = chunk.auditLines.toLocaleString('en-US');
        figures.push({ section: 'ingest', name: `ingest --once vs the raw shipper peer, ${events} new events, spawn to last document indexed`, size, unit: 'events/s',
          measured: ours, baseline: theirs, baselineName: `rsyslog imfile + omelasticsearch bulk mode, each of the ${chunk.lines.toLocaleString('en-US')} raw lines a document `
            + `(${Math.round(peer.lines / peer.seconds).toLocaleString('en-US')} lines/s), into rawbench-* indices that grow alike`,
          target: { text: '>= the peer (issue 15)', met: ours >= theirs } });
        figures.push({ section: 'ingest', name: `CPU seconds, ${events} events: the ingest --once process`, size, unit: 'CPU s', measured: run.cpuSeconds,
          baseline: peer.cpuSeconds, baselineName: 'rsyslogd (all threads)' });
        figures.push({ section: 'ingest', name: `CPU seconds, ${events} events: OpenSearch while ingest --once ran`, size, unit: 'CPU s', measured: run.opensearchCpuSeconds,
          baseline: peer.opensearchCpuSeconds, baselineName: 'OpenSearch while the peer ran' });
        figures.push({ section: 'ingest', name: `CPU seconds, ${events} events: the bench process sending the bulk-helper floor`, size, unit: 'CPU s', measured: baseline.cpuSeconds,
          baseline: baseline.opensearchCpuSeconds, baselineName: 'OpenSearch meanwhile' });
        figures.push({ section: 'memory', name: `rsyslogd (raw shipper peer) peak RSS, file of ${chunk.lines.toLocaleString('en-US')} lines`, size, unit: 'MB', measured: peer.peakRssBytes / MB });
      }
      total = size;
      previous = chunk;
      await settleMerges(env);
      // --quick runs the harness end to end once, within CI's time: before the last size, the first page only at one
      // connection (the growth curve still has two sizes) and no export, tail or search-cost steps
      const light = o.mode === 'quick' && n < o.sizes.length - 1;
      log(`query load at ${size} events`);
      figures.push(...await measureQueries(env, size, { connections: light ? o.connections.slice(0, 1) : o.connections, seconds: o.seconds,
        warmupRequests: o.warmupRequests, floorConnections: light ? o.floorConnections.slice(0, 1) : o.floorConnections, firstPageOnly: light }));
      if (light) continue;
      log(`export of ${size} events: ndjson and csv, against the raw PIT + search_after loop`);
      figures.push(...await measureExport(env, size));
      log(`live tail at ${size} events`);
      figures.push(...await measureTail(env, size, o.mode === 'quick' ? 8 : 30));
      log(`search cost at write time: searchTerms on a sample of ${size}'s events`);
      figures.push(...await measureSearchCost(env, chunk, size));
      await settleMerges(env);
    }

    const parsed = chunks.filter((c) => c.chunk.lines <= 2_500_000).at(-1) ?? chunks[0]!;
    if (!o.queriesOnly) log(`parser on ${parsed.chunk.lines} lines`);
    const p = o.queriesOnly ? null : await measureParser(parsed.chunk);
    const ingestLinesPerS = p ? p.lines / parsed.ingestSeconds : 0;
    if (p) figures.push({ section: 'parser', name: `parser (split + pgaudit parse + event), 1 core, ${parsed.chunk.lines.toLocaleString('en-US')} lines`, unit: 'lines/s',
      measured: p.parser, baseline: p.baseline, baselineName: 'read + split into lines',
      target: { text: `>= 200,000 and >= 5x ingest (${Math.round(ingestLinesPerS).toLocaleString('en-US')} lines/s)`,
        met: p.parser >= 200_000 && p.parser >= 5 * ingestLinesPerS } });
    if (p) figures.push({ section: 'parser', name: `parser with every redaction rule on (literals, parameters, all patterns), 1 core, ${parsed.chunk.lines.toLocaleString('en-US')} lines`,
      unit: 'lines/s', measured: p.redacted, baseline: p.parser, baselineName: 'the same parser, no rules' });

    if (!o.queriesOnly) await dropBulkBaseline(env);
    if (rsyslog) await dropPeerIndices(env, true);
    const gatewayRss = await env.stopGateway();
    figures.push({ section: 'memory', name: 'gateway peak RSS, whole run incl. query load', unit: 'MB', measured: (gatewayRss ?? 0) / MB,
      target: { text: '<= 250 MB', met: gatewayRss !== null && gatewayRss <= 250 * MB } });
  } finally {
    await env.stop();
    rmSync(logDir, { recursive: true, force: true });
  }

  const order: Figure['section'][] = ['parser', 'ingest', 'memory', 'query', 'search', 'export', 'tail', 'control', 'flood'];
  figures.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
  const m = machine();
  const growth = curve(figures);
  const s = summary(figures);
  for (const r of growth) {
    s.targets += 1;
    if (r.met) s.met += 1; else s.missed.push(`${r.name} c${r.connections}: cost grew ${r.growth.toFixed(2)}x, log bound ${r.bound.toFixed(2)}x`);
  }
  const title = `pg-audit-gateway bench (${o.mode}), ${new Date().toISOString().slice(0, 16)}Z — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; ` +
    `load: ${o.seconds} s per figure after ${o.warmupRequests} warm-up requests`;
  console.log([title, '', markdown(figures), '', curveMarkdown(growth), '', `targets met: ${s.met} of ${s.targets}`, ...s.missed.map((x) => `  missed: ${x}`)].join('\n'));
  const dir = path.join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${o.mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: m, options: o, seconds: (Date.now() - started) / 1000, summary: s, figures, curve: growth }, null, 2) + '\n');
  log(`wrote ${path.relative(projectRoot(), file)}`);
  return { figures, file };
}

if (require.main === module) {
  let options: BenchOptions;
  try { options = parseOptions(process.argv.slice(2)); }
  catch (err) { process.stderr.write(`bench: ${(err as Error).message}\n`); process.exit(2); }
  runBench(options).then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
}
