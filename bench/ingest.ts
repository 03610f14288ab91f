/**
 * The ingest path, measured on generated csvlog files that continue one another (a service's log
 * directory growing file by file):
 * - parser: csvlog split + pgaudit parse + event build, lines/s on one core (this process's main
 *   thread), against reading + splitting the same file into lines; median of 3 alternating runs; and the
 *   same parser with every redaction rule on (src/modules/redaction), its ratio to the parser without rules;
 * - ingest: the real `ingest --once` command as its own process (its peak RSS is read on exit), against
 *   the same file's documents pre-built and streamed from a file through the OpenSearch client's bulk
 *   helper (default settings) into indices of the same template that grow as the ingester's do.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@opensearch-project/opensearch';
import { eventSource, INDEX_PREFIX, INDEX_TEMPLATE, indexFor } from '../src/modules/audit-events/event.index';
import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import { NO_REDACTOR, Redactor } from '../src/modules/redaction/redactor';
import { PATTERN_NAMES } from '../src/modules/redaction/pattern.detectors';
import { GeneratedLog, writeCsvlog } from './csvlog-generator';
import { CLI, exitedChildrenCpuSeconds, PEAK_RSS, type BenchEnvironment } from './environment';
import { median } from './stats';

export interface Chunk extends GeneratedLog { file: string; bytes: number }

/** Writes the next file of the directory: it starts where `previous` ended (time and sessions). */
export async function writeChunk(logDir: string, n: number, auditLines: number, stepMs: number, previous: Chunk | null): Promise<Chunk> {
  const file = path.join(logDir, `postgresql-${String(n).padStart(3, '0')}.csv`);
  const sessionsBefore = previous ? previous.sessions : 0;
  const g = await writeCsvlog(file, auditLines, { seed: 42 + n, stepMs, start: previous?.endMs ?? Date.UTC(2026, 9, 1), firstSession: sessionsBefore });
  return { ...g, sessions: sessionsBefore + g.sessions, file };
}

async function readAndSplit(file: string): Promise<number> {
  let n = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop()!;
    n += parts.length;
  }
  return n;
}

/** Every rule on: literals masked, parameters dropped, every pattern run over each statement. */
const ALL_RULES = new Redactor({ dropParameters: true, maskStringLiterals: true, maskNumericLiterals: true, patterns: PATTERN_NAMES }, 1);

async function parse(file: string, redactor = NO_REDACTOR): Promise<number> {
  let events = 0;
  const splitter = new CsvlogSplitter();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const item of splitter.push(chunk as Buffer)) {
      if (!item.ok) continue;
      const x = auditEventOf('bench', item.record);
      if (x.kind === 'event') { redactor.event(x.event); events += 1; }
    }
  }
  return events;
}

/** Physical lines per second (a multi-line statement counts each of its lines), both ways. */
export async function measureParser(chunk: Chunk): Promise<{ parser: number; baseline: number; redacted: number; lines: number }> {
  const parser: number[] = [];
  const baseline: number[] = [];
  const redacted: number[] = [];
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    let t0 = performance.now();
    lines = await readAndSplit(chunk.file);
    if (lines !== chunk.lines) throw new Error(`read ${lines} lines, generated ${chunk.lines}`);
    baseline.push(lines / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    const events = await parse(chunk.file);
    parser.push(lines / ((performance.now() - t0) / 1000));
    if (events !== chunk.auditLines) throw new Error(`parsed ${events} events, generated ${chunk.auditLines}`);
    t0 = performance.now();
    await parse(chunk.file, ALL_RULES);
    redacted.push(lines / ((performance.now() - t0) / 1000));
  }
  return { parser: median(parser), baseline: median(baseline), redacted: median(redacted), lines };
}

const BASELINE_PREFIX = 'pgabench-';
const BASELINE_TEMPLATE = 'pgabench';

/**
 * The chunk's documents exactly as the ingester sends them (eventSource: same fields, same tiebreak),
 * pre-built into a file of `index \t id \t source` lines, so that the baseline streams them without
 * parsing anything and without holding millions of documents in memory.
 */
async function prebuild(env: BenchEnvironment, chunk: Chunk, file: string): Promise<number> {
  const tenant = { projectId: env.tenant.projectId, organizationId: env.tenant.organizationId };
  const out = createWriteStream(file);
  const splitter = new CsvlogSplitter();
  let docs = 0;
  for await (const c of createReadStream(chunk.file, { highWaterMark: 1 << 20 })) {
    let lines = '';
    for (const item of splitter.push(c as Buffer)) {
      const x = item.ok ? auditEventOf(env.tenant.eventsServiceId, item.record) : null;
      if (x?.kind !== 'event') continue;
      const doc = Object.assign(x.event, tenant);
      lines += `${BASELINE_PREFIX}${indexFor(doc.timestamp).slice(INDEX_PREFIX.length)}\t${doc.id}\t${eventSource(doc)}\n`;
      docs += 1;
    }
    if (!out.write(lines)) await once(out, 'drain');
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return docs;
}

/** The pre-built file's lines; with `deadline` (epoch ms), none after it (the warm-up's span, however large the file). */
async function* prebuilt(file: string, deadline = Infinity): AsyncGenerator<string> {
  let rest = '';
  for await (const c of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (c as string)).split('\n');
    rest = lines.pop()!;
    if (Date.now() >= deadline) return;
    yield* lines;
  }
}

/** Waits until OpenSearch runs no merge (at most 5 minutes), so that one measurement does not pay for the one before. */
export async function settleMerges(env: BenchEnvironment): Promise<void> {
  const client = new Client({ node: env.search.url });
  try {
    await client.indices.refresh({ index: '_all' });
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const { body } = await client.nodes.stats({ metric: 'indices', index_metric: 'merge' } as never);
      const nodes = Object.values((body as { nodes: Record<string, { indices: { merges: { current: number } } }> }).nodes);
      if (nodes.every((n) => n.indices.merges.current === 0)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally { await client.close(); }
}

export interface BulkBaseline {
  rate: number;
  docs: number;
  seconds: number;
  /** This (the bench's) process's CPU while it sent: the helper, reading the pre-built file. */
  cpuSeconds: number;
  /** OpenSearch's CPU over the same span. */
  opensearchCpuSeconds: number;
}

/**
 * Events/s of the client's bulk helper (default settings) sending the chunk's documents, pre-built, into
 * indices of their own (`pgabench-*`, same template) that grow across the run exactly as the ingester's
 * do: each size compares the same number of documents written into indices of the same size.
 * With `warmupSeconds`, the documents are first sent for that long into a throwaway index, untimed:
 * OpenSearch's first seconds of indexing run on a cold JVM (measured: the same 1M documents took 47 s
 * cold, 25 s warm), which would flatter whatever is measured first.
 */
export async function measureBulkBaseline(env: BenchEnvironment, chunk: Chunk, warmupSeconds = 0): Promise<BulkBaseline> {
  const file = `${chunk.file}.prebuilt`;
  const docs = await prebuild(env, chunk, file);
  const client = new Client({ node: env.search.url });
  const send = (index: (name: string) => string, deadline?: number) => client.helpers.bulk({ datasource: prebuilt(file, deadline), onDocument: (line: string) => {
    const a = line.indexOf('\t');
    const b = line.indexOf('\t', a + 1);
    return [{ index: { _index: index(line.slice(0, a)), _id: line.slice(a + 1, b) } }, line.slice(b + 1)];
  } } as never);
  try {
    await client.indices.putIndexTemplate({ name: BASELINE_TEMPLATE, body: { ...INDEX_TEMPLATE, index_patterns: [`${BASELINE_PREFIX}*`] } as never });
    // the file again and again until the span is over, and never past it: a 10M-event file takes minutes to send once
    for (const until = Date.now() + warmupSeconds * 1000; Date.now() < until;) await send(() => `${BASELINE_PREFIX}warmup`, until);
    if (warmupSeconds > 0) await client.indices.delete({ index: `${BASELINE_PREFIX}warmup` });
    await settleMerges(env);
    const search0 = env.searchCpuSeconds();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await send((name) => name);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const opensearchCpuSeconds = env.searchCpuSeconds() - search0;
    if (result.failed > 0 || result.successful !== docs) throw new Error(`bulk helper baseline: ${result.failed} failed of ${docs}`);
    return { rate: docs / seconds, docs, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, opensearchCpuSeconds };
  } finally {
    await client.close();
    rmSync(file, { force: true });
  }
}

/** Deletes the baseline's indices and template (end of the run). */
export async function dropBulkBaseline(env: BenchEnvironment): Promise<void> {
  const client = new Client({ node: env.search.url });
  try {
    await client.indices.delete({ index: `${BASELINE_PREFIX}*` });
    await client.indices.deleteIndexTemplate({ name: BASELINE_TEMPLATE }).catch(() => undefined);
  } finally { await client.close(); }
}

export interface IngestRun {
  files: number; events: number; malformed: number; bytes: number;
  /** As the ingester reports it (its own clock, start-up left out). */
  seconds: number;
  peakRssBytes: number;
  /** Spawn -> exit, start-up included. */
  wallSeconds: number;
  /** The process's CPU (user + system): this process's exited children's CPU, read before and after (/proc/self/stat). */
  cpuSeconds: number;
  /** OpenSearch's CPU over the same span. */
  opensearchCpuSeconds: number;
}

/** `ingest --once` over the log directory, as its own process (for the bench's service, or `serviceId`). */
export async function runIngester(env: BenchEnvironment, logDir: string, serviceId = env.tenant.eventsServiceId): Promise<IngestRun> {
  const rssFile = path.join(env.dir, `ingest-${Date.now()}.peak-rss`);
  const search0 = env.searchCpuSeconds();
  const children0 = exitedChildrenCpuSeconds();
  const t0 = performance.now();
  // BENCH_INGEST_NODE_ARGS: node options for the ingester only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it
  const nodeArgs = (process.env.BENCH_INGEST_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--require', PEAK_RSS, CLI, 'ingest', '--service', serviceId,
    '--log-dir', logDir, '--once', '--json'], { env: { ...process.env, ...env.gatewayEnv, PEAK_RSS_FILE: rssFile, LOG_LEVEL: 'warn' }, maxBuffer: 1 << 20 });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuSeconds = exitedChildrenCpuSeconds() - children0;
  const opensearchCpuSeconds = env.searchCpuSeconds() - search0;
  return { ...JSON.parse(stdout) as Pick<IngestRun, 'files' | 'events' | 'malformed' | 'bytes' | 'seconds'>, peakRssBytes: Number(readFileSync(rssFile, 'utf8')),
    wallSeconds, cpuSeconds, opensearchCpuSeconds };
}
