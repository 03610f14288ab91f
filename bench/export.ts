/**
 * Export: the real `export` command (NDJSON to a file, then CSV) as its own process, events/s and its peak
 * RSS, against the baseline of the same run (export-baseline.ts: the same PIT + search_after loop reading raw
 * pages and discarding them, as its own process, its peak RSS too). The newest MAX_EXPORTED events of the bench
 * service are exported (all of them up to 1M; at 10M a whole export would take most of an hour three times over).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, DIST, PEAK_RSS, type BenchEnvironment } from './environment';
import type { Figure } from './report';

const MB = 1024 * 1024;
const PAGE = 1000;
/** Events one figure exports at most (`--limit`; the baseline stops there too). */
const MAX_EXPORTED = 1_000_000;

interface Measured { events: number; seconds: number; peakRssBytes: number }

async function measuredChild(env: BenchEnvironment, name: string, args: string[]): Promise<{ stdout: string; peakRssBytes: number; seconds: number }> {
  const rssFile = path.join(env.dir, `${name}-${Date.now()}.peak-rss`);
  const t0 = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--require', PEAK_RSS, ...args],
    { env: { ...process.env, ...env.gatewayEnv, PEAK_RSS_FILE: rssFile, LOG_LEVEL: 'warn', EXPORT_PAGE_SIZE: String(PAGE) }, maxBuffer: 1 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  return { stdout, seconds, peakRssBytes: Number(readFileSync(rssFile, 'utf8')) };
}

async function exportCommand(env: BenchEnvironment, format: 'ndjson' | 'csv'): Promise<Measured> {
  const out = path.join(env.dir, `export.${format}`);
  try {
    const r = await measuredChild(env, `export-${format}`, [CLI, 'export', '--service', env.tenant.eventsServiceId, '--format', format, '--out', out, '--json',
      '--limit', String(MAX_EXPORTED)]);
    const summary = JSON.parse(r.stdout) as { status: string; events: number };
    if (summary.status !== 'complete' && !(summary.status === 'partial' && summary.events === MAX_EXPORTED)) throw new Error(`export ended ${summary.status}`);
    return { events: summary.events, seconds: r.seconds, peakRssBytes: r.peakRssBytes };
  } finally { rmSync(out, { force: true }); }
}

async function baseline(env: BenchEnvironment): Promise<Measured> {
  const r = await measuredChild(env, 'export-baseline', [path.join(DIST, 'bench', 'export-baseline.js'), env.gatewayEnv.OPENSEARCH_URL!, env.tenant.eventsServiceId, String(PAGE),
    String(MAX_EXPORTED)]);
  // the process's whole time, like the export's (start-up included in both)
  return { events: (JSON.parse(r.stdout) as { events: number }).events, seconds: r.seconds, peakRssBytes: r.peakRssBytes };
}

export async function measureExport(env: BenchEnvironment, size: number): Promise<Figure[]> {
  const base = await baseline(env);
  const figures: Figure[] = [];
  for (const format of ['ndjson', 'csv'] as const) {
    const run = await exportCommand(env, format);
    if (run.events !== base.events) throw new Error(`export wrote ${run.events} events, the baseline read ${base.events}`);
    figures.push({ section: 'export', name: `export --format ${format}, ${run.events.toLocaleString('en-US')} events (whole process)`, size, unit: 'events/s',
      measured: run.events / run.seconds, baseline: base.events / base.seconds,
      baselineName: 'the same PIT + search_after loop, raw pages read and discarded, own process' });
    figures.push({ section: 'export', name: `export --format ${format} peak RSS`, size, unit: 'MB', measured: run.peakRssBytes / MB,
      baseline: base.peakRssBytes / MB, baselineName: 'the baseline process', target: { text: '<= 150 MB, flat with size', met: run.peakRssBytes <= 150 * MB } });
  }
  return figures;
}
