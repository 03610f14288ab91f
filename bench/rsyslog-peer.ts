/**
 * The raw shipper as a peer of the ingester (issue 15): Debian's rsyslog (imfile + omelasticsearch in bulk mode)
 * reading the same generated csvlog file that `ingest --once` reads and sending each physical line, unparsed, as
 * one document into its own `rawbench-*` index on the bench's OpenSearch.
 *
 *   npm run build:tools && node dist/bench/rsyslog-peer.js                 100k and 1M events, 3 rounds each (~15 min on 2 cores)
 *   node dist/bench/rsyslog-peer.js --quick                                10k events, 1 round (the harness end to end)
 *   node dist/bench/rsyslog-peer.js --sizes 100k --rounds 5 --batch 1000 --workers 1
 *   node dist/bench/rsyslog-peer.js --sizes 100k --rounds 2 --sweep 1024x1,5000x1,5000x2   the peer alone, configurations in turns
 *
 * rsyslog comes from dev/local/rsyslog.ts (Debian packages unpacked under .local/rsyslog/, fetched once); each run
 * is its own `rsyslogd -n -f <own config> -i <own pid file> -M <unpacked modules>` with its own work directory
 * under the bench's directory: the system's rsyslog (if any) is never touched. Its configuration:
 * rsyslog-report.ts renderPeerConfig.
 *
 * Timing: from rsyslogd's spawn until OpenSearch has indexed as many documents into `rawbench-*` as the file has
 * physical lines: the indices' `indexing.index_total` (index stats, no refresh forced: it counts each document
 * when its shard has indexed it, as a bulk response acknowledges it) polled every 250 ms; afterwards, a refresh and
 * `_count` must show exactly that many more documents (a bulk request retried whole would show as more). Its CPU
 * (/proc/<pid>/stat, all threads) and peak RSS (VmHWM) are read at that moment, before it is stopped.
 *
 * This command (not `npm run bench`, which measures the peer once per size beside the ingester): for each size a
 * fresh file; after an untimed JVM warm-up, `--rounds` rounds of: the bulk-helper floor (ingest.ts
 * measureBulkBaseline), `ingest --once` for a service of its own (a fresh checkpoint), the peer; each into empty
 * indices. Medians per size; writes bench/results/rsyslog-peer-<mode>-<time>.json.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { ensureRsyslog, RsyslogInstall, rsyslogdArgs, rsyslogEnv } from '../dev/local/rsyslog';
import { projectRoot } from '../src/base/paths';
import { DEAD_LETTER_PATTERN, INDEX_PATTERN } from '../src/modules/audit-events/event.index';
import { SESSION_INDEX_PATTERN } from '../src/modules/audit-events/session.index';
import { BenchEnvironment, cpuSecondsOf, machine } from './environment';
import { Chunk, dropBulkBaseline, measureBulkBaseline, runIngester, settleMerges, writeChunk } from './ingest';
import { parsePeerOptions, PEER_DEFAULTS, PEER_INDEX_TEMPLATE, PEER_PREFIX, PEER_TEMPLATE, PeerBenchOptions, peerMarkdown, PeerOptions, PeerRun, PeerSize, renderPeerConfig, summarize, SweepRow, sweepMarkdown } from './rsyslog-report';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 250;
/** No document indexed for this long: the peer is stuck (its error file and log say why). */
const STALL_MS = 120_000;

function peakRssOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function indexedTotal(client: Client): Promise<number> {
  const { body } = await client.indices.stats({ index: `${PEER_PREFIX}*`, metric: 'indexing' } as never);
  return (body as { _all?: { primaries?: { indexing?: { index_total?: number } } } })._all?.primaries?.indexing?.index_total ?? 0;
}

async function countDocs(client: Client): Promise<number> {
  await client.indices.refresh({ index: `${PEER_PREFIX}*`, allow_no_indices: true } as never);
  const { body } = await client.count({ index: `${PEER_PREFIX}*`, allow_no_indices: true, ignore_unavailable: true } as never);
  return (body as { count: number }).count;
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '(none)');

/**
 * One run of the peer over `file` (`lines` physical lines, `events` audit events among them), into the `rawbench-*`
 * indices as they are (empty, or grown by earlier runs: the count is taken as a difference).
 */
export async function measurePeer(env: BenchEnvironment, install: RsyslogInstall, chunk: Pick<Chunk, 'file' | 'lines' | 'auditLines'>,
  o: PeerOptions = PEER_DEFAULTS): Promise<PeerRun> {
  const dir = mkdtempSync(path.join(env.dir, 'rsyslog-'));
  const workDir = path.join(dir, 'work');
  mkdirSync(workDir);
  const files = { config: path.join(dir, 'rsyslog.conf'), pid: path.join(dir, 'rsyslogd.pid'), log: path.join(dir, 'rsyslogd.log'),
    errors: path.join(dir, 'omelasticsearch-errors.json'), stats: path.join(dir, 'impstats.json'), console: path.join(dir, 'console.log') };
  writeFileSync(files.config, renderPeerConfig({ file: chunk.file, workDir, logFile: files.log, errorFile: files.errors, statsFile: files.stats, statsSeconds: 0,
    opensearchPort: Number(new URL(env.search.url).port), batch: o.batch, workers: o.workers, queueSize: PEER_DEFAULTS.queueSize }));
  const client = new Client({ node: env.search.url });
  let child: ChildProcess | null = null;
  try {
    await client.indices.putIndexTemplate({ name: PEER_TEMPLATE, body: PEER_INDEX_TEMPLATE as never });
    const docs0 = await countDocs(client);
    const indexed0 = await indexedTotal(client);
    const search0 = env.searchCpuSeconds();
    const out = openSync(files.console, 'a');
    const t0 = performance.now();
    child = spawn(install.rsyslogd, rsyslogdArgs(install, files.config, files.pid), { env: rsyslogEnv(install), stdio: ['ignore', out, out] });
    closeSync(out);
    const pid = child.pid!;
    let last = 0;
    let progressAt = performance.now();
    for (;;) {
      await sleep(POLL_MS);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`rsyslogd exited (${child.exitCode ?? child.signalCode}): ${tail(files.console)} ${tail(files.log)}`);
      }
      const n = (await indexedTotal(client)) - indexed0;
      if (n >= chunk.lines) break;
      if (n > last) { last = n; progressAt = performance.now(); }
      else if (performance.now() - progressAt > STALL_MS) {
        throw new Error(`rsyslog peer: ${n} of ${chunk.lines} lines indexed, none for ${STALL_MS / 1000} s; errors: ${tail(files.errors)}; log: ${tail(files.log)}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuSecondsOf(pid);
    const peakRssBytes = peakRssOf(pid);
    const opensearchCpuSeconds = env.searchCpuSeconds() - search0;
    const docs = (await countDocs(client)) - docs0;
    if (docs !== chunk.lines) throw new Error(`rsyslog peer: ${docs} documents for ${chunk.lines} lines; errors: ${tail(files.errors)}; log: ${tail(files.log)}`);
    return { lines: chunk.lines, events: chunk.auditLines, seconds, cpuSeconds, opensearchCpuSeconds, peakRssBytes };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child!.kill('SIGKILL'))]);
    }
    await client.close();
    if (!process.env.RSYSLOG_PEER_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** Deletes the peer's indices (and, with `template`, its template). */
export async function dropPeerIndices(env: BenchEnvironment, template = false): Promise<void> {
  const client = new Client({ node: env.search.url });
  try {
    await client.indices.delete({ index: `${PEER_PREFIX}*`, allow_no_indices: true, ignore_unavailable: true } as never);
    if (template) await client.indices.deleteIndexTemplate({ name: PEER_TEMPLATE }).catch(() => undefined);
  } finally { await client.close(); }
}

async function dropEventIndices(env: BenchEnvironment): Promise<void> {
  const client = new Client({ node: env.search.url });
  try {
    for (const index of [INDEX_PATTERN, SESSION_INDEX_PATTERN, DEAD_LETTER_PATTERN]) {
      await client.indices.delete({ index, allow_no_indices: true, ignore_unavailable: true } as never);
    }
  } finally { await client.close(); }
}

async function runSweep(env: BenchEnvironment, install: RsyslogInstall, o: PeerBenchOptions, logRoot: string, log: (msg: string) => void): Promise<void> {
  const rows: SweepRow[] = [];
  for (const [i, size] of o.sizes.entries()) {
    const chunk = await writeChunk(mkdtempSync(path.join(logRoot, 'gen-')), i, size, o.stepMs, null);
    if (i === 0) {
      log(`untimed JVM warm-up: ${o.indexWarmupSeconds} s of bulk indexing`);
      await measureBulkBaseline(env, chunk, o.indexWarmupSeconds);
      await dropBulkBaseline(env);
    }
    const mine = o.sweep.map((config) => ({ size, events: chunk.auditLines, lines: chunk.lines, config, runs: [] as PeerRun[], load: [] as number[] }));
    rows.push(...mine);
    for (let r = 0; r < o.rounds; r++) {
      for (const row of mine) {
        await dropPeerIndices(env);
        await settleMerges(env);
        row.load.push(os.loadavg()[0]!);
        const run = await measurePeer(env, install, chunk, row.config);
        row.runs.push(run);
        log(`${size}, ${row.config.batch} x ${row.config.workers}, round ${r + 1}: ${Math.round(run.lines / run.seconds)} lines/s (load ${os.loadavg()[0]!.toFixed(2)})`);
      }
    }
    rmSync(path.dirname(chunk.file), { recursive: true, force: true });
  }
  await dropPeerIndices(env, true);
  console.log(sweepMarkdown(rows));
}

export async function runPeerBench(o: PeerBenchOptions): Promise<PeerSize[]> {
  const started = Date.now();
  const log = (msg: string) => process.stderr.write(`[rsyslog-peer ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  const install = await ensureRsyslog();
  log(`rsyslog ${install.version} (${install.root}); starting PostgreSQL and OpenSearch (${o.opensearchHeapMb} MB heap); load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const env = await BenchEnvironment.start({ opensearchHeapMb: o.opensearchHeapMb });
  const logRoot = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-peer-log-'));
  const results: PeerSize[] = [];
  try {
    if (o.sweep.length > 0) {
      await runSweep(env, install, o, logRoot, log);
      return [];
    }
    for (const [i, size] of o.sizes.entries()) {
      log(`generating ${size} events`);
      const chunk = await writeChunk(mkdtempSync(path.join(logRoot, 'gen-')), i, size, o.stepMs, null);
      const s: PeerSize = { size, lines: chunk.lines, events: chunk.auditLines, bytes: chunk.bytes, rounds: [], load: [] };
      results.push(s);
      for (let r = 0; r < o.rounds; r++) {
        s.load.push(os.loadavg()[0]!);
        const warmup = i === 0 && r === 0 ? o.indexWarmupSeconds : 0;
        log(`${size}, round ${r + 1}/${o.rounds} (load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}): bulk-helper floor${warmup ? ` after ${warmup} s of untimed indexing` : ''}`);
        await settleMerges(env);
        const b = await measureBulkBaseline(env, chunk, warmup);
        await dropBulkBaseline(env);
        await dropEventIndices(env);
        await settleMerges(env);
        log(`  ${Math.round(b.rate)} events/s; ingest --once`);
        const { id: serviceId } = await env.admin.tenancy.registerService(env.tenant.projectId, `peer-bench-${i}-${r}`, 'postgres://avnadmin@127.0.0.1:1/postgres');
        const roundDir = mkdtempSync(path.join(logRoot, 'round-'));
        linkSync(chunk.file, path.join(roundDir, path.basename(chunk.file)));
        const ing = await runIngester(env, roundDir, serviceId);
        if (ing.events !== chunk.auditLines || ing.malformed !== 0) throw new Error(`ingested ${ing.events} events (${ing.malformed} malformed) of ${chunk.auditLines}`);
        rmSync(roundDir, { recursive: true, force: true });
        await dropEventIndices(env);
        await dropPeerIndices(env);
        await settleMerges(env);
        log(`  ${Math.round(ing.events / ing.wallSeconds)} events/s; rsyslog peer`);
        const peer = await measurePeer(env, install, chunk, o);
        log(`  ${Math.round(peer.events / peer.seconds)} events/s (${Math.round(peer.lines / peer.seconds)} lines/s); CPU s ingester ${ing.cpuSeconds.toFixed(1)}, `
          + `rsyslogd ${peer.cpuSeconds.toFixed(1)}, floor ${b.cpuSeconds.toFixed(1)}; OpenSearch ${ing.opensearchCpuSeconds.toFixed(1)} / ${peer.opensearchCpuSeconds.toFixed(1)} / `
          + `${b.opensearchCpuSeconds.toFixed(1)}; peak RSS ${Math.round(ing.peakRssBytes / 2 ** 20)} / ${Math.round(peer.peakRssBytes / 2 ** 20)} MB`);
        await dropPeerIndices(env);
        s.rounds.push({
          baseline: { events: b.docs, seconds: b.seconds, cpuSeconds: b.cpuSeconds, opensearchCpuSeconds: b.opensearchCpuSeconds },
          ingester: { events: ing.events, seconds: ing.wallSeconds, cpuSeconds: ing.cpuSeconds, opensearchCpuSeconds: ing.opensearchCpuSeconds, peakRssBytes: ing.peakRssBytes },
          peer,
        });
      }
      const x = summarize(s);
      log(`${size}: ingester ${Math.round(x.ingester)} events/s, peer ${Math.round(x.peer)} events/s: ${x.ratio.toFixed(2)}x`);
      log(peerMarkdown([s], o));   // each size as soon as it is measured: a long run interrupted keeps what it measured
      rmSync(path.dirname(chunk.file), { recursive: true, force: true });
    }
    await dropPeerIndices(env, true);
  } finally {
    await env.stop();
    rmSync(logRoot, { recursive: true, force: true });
  }
  const m = machine();
  console.log([`pg-audit-gateway rsyslog peer bench (${o.mode}), ${new Date().toISOString().slice(0, 16)}Z — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; rsyslog ${install.version}`,
    '', peerMarkdown(results, o)].join('\n'));
  const dir = path.join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `rsyslog-peer-${o.mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: m, rsyslog: install.version, options: o, seconds: (Date.now() - started) / 1000,
    sizes: results.map((s) => ({ ...s, summary: summarize(s) })) }, null, 2) + '\n');
  log(`wrote ${path.relative(projectRoot(), file)}`);
  return results;
}

if (require.main === module) {
  let options: PeerBenchOptions;
  try { options = parsePeerOptions(process.argv.slice(2)); }
  catch (err) { process.stderr.write(`rsyslog-peer bench: ${(err as Error).message}\n`); process.exit(2); }
  runPeerBench(options).then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
}
