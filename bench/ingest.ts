/**
 * The ingest path, measured on generated csvlog files that continue one another (a service's log
 * directory growing file by file):
 * - parser: csvlog split + pgaudit parse + event build, lines/s on one core (this process's main
 *   thread), against reading + splitting the same file into lines; median of 3 alternating runs;
 * - ingest: the real `ingest --once` command as its own process (its peak RSS is read on exit), against
 *   the same file's documents pre-built in memory and sent with the OpenSearch client's bulk helper
 *   (default settings) into indices of the same template, deleted afterwards.
 */
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@opensearch-project/opensearch';
import { INDEX_TEMPLATE } from '../src/modules/audit-events/event.index';
import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CsvlogSplitter } from '../src/modules/ingest/log-records';
import { GeneratedLog, writeCsvlog } from './csvlog-generator';
import { CLI, PEAK_RSS, type BenchEnvironment } from './environment';
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

async function parse(file: string): Promise<number> {
  let events = 0;
  const splitter = new CsvlogSplitter();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const item of splitter.push(chunk as Buffer)) {
      if (item.ok && auditEventOf('bench', item.record).kind === 'event') events += 1;
    }
  }
  return events;
}

/** Physical lines per second (a multi-line statement counts each of its lines), both ways. */
export async function measureParser(chunk: Chunk): Promise<{ parser: number; baseline: number; lines: number }> {
  const parser: number[] = [];
  const baseline: number[] = [];
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
  }
  return { parser: median(parser), baseline: median(baseline), lines };
}

const BASELINE_PREFIX = 'pgabench-';

/** Events/s of the client's bulk helper sending up to `maxDocs` of the chunk's documents, pre-built. */
export async function measureBulkBaseline(env: BenchEnvironment, chunk: Chunk, maxDocs: number): Promise<{ rate: number; docs: number }> {
  const docs: object[] = [];
  const indices: string[] = [];
  const splitter = new CsvlogSplitter();
  const svc = env.tenant.eventsServiceId;
  for await (const c of createReadStream(chunk.file, { highWaterMark: 1 << 20 })) {
    for (const item of splitter.push(c as Buffer)) {
      if (!item.ok || docs.length >= maxDocs) continue;
      const x = auditEventOf(svc, item.record);
      if (x.kind !== 'event') continue;
      docs.push({ ...x.event, projectId: env.tenant.projectId, organizationId: env.tenant.organizationId });
      indices.push(BASELINE_PREFIX + x.event.timestamp.slice(0, 10).replace(/-/g, '.'));
    }
    if (docs.length >= maxDocs) break;
  }
  const client = new Client({ node: env.search.url });
  try {
    await client.indices.putIndexTemplate({ name: 'pgabench', body: { ...INDEX_TEMPLATE, index_patterns: [`${BASELINE_PREFIX}*`] } as never });
    const byDoc = new Map(docs.map((d, i) => [d, indices[i]!]));
    const t0 = performance.now();
    const result = await client.helpers.bulk({ datasource: docs, onDocument: (d: object) => ({ index: { _index: byDoc.get(d)!, _id: (d as { id: string }).id } }) });
    const seconds = (performance.now() - t0) / 1000;
    if (result.failed > 0 || result.successful !== docs.length) throw new Error(`bulk helper baseline: ${result.failed} failed of ${docs.length}`);
    return { rate: docs.length / seconds, docs: docs.length };
  } finally {
    await client.indices.delete({ index: `${BASELINE_PREFIX}*` });
    await client.indices.deleteIndexTemplate({ name: 'pgabench' });
    await client.close();
  }
}

export interface IngestRun { files: number; events: number; malformed: number; bytes: number; seconds: number; peakRssBytes: number }

/** `ingest --once` over the log directory, as its own process. */
export async function runIngester(env: BenchEnvironment, logDir: string): Promise<IngestRun> {
  const rssFile = path.join(env.dir, `ingest-${Date.now()}.peak-rss`);
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', PEAK_RSS, CLI, 'ingest', '--service', env.tenant.eventsServiceId,
    '--log-dir', logDir, '--once', '--json'], { env: { ...process.env, ...env.gatewayEnv, PEAK_RSS_FILE: rssFile, LOG_LEVEL: 'warn' }, maxBuffer: 1 << 20 });
  return { ...JSON.parse(stdout) as Omit<IngestRun, 'peakRssBytes'>, peakRssBytes: Number(readFileSync(rssFile, 'utf8')) };
}
