/**
 * One shape for every figure of a run, and its two renderings: a Markdown table (stdout, README) and
 * JSON (bench/results/). Pure.
 */
import type { Percentiles } from './stats';

export type Latency = Percentiles & { rps?: number };

export interface Figure {
  section: 'control' | 'parser' | 'ingest' | 'memory' | 'query' | 'flood' | 'export' | 'tail' | 'search';
  name: string;
  /** Events in the store when measured. */
  size?: number;
  /** Concurrent connections of the load. */
  connections?: number;
  unit: 'ms' | 'lines/s' | 'events/s' | 'MB' | 'requests/s' | 'connections' | 'ms CPU/request' | 'bytes/event' | 'CPU s';
  /** Latency percentiles (unit ms), or one value. */
  measured: Latency | number;
  baseline?: Latency | number;
  baselineName?: string;
  target?: { text: string; met: boolean };
}

const isLatency = (v: Latency | number | undefined): v is Latency => typeof v === 'object';

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');   // counts (connections) stay whole
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  return v.toFixed(2);
}

function cell(v: Latency | number | undefined): string {
  if (v === undefined) return '—';
  if (!isLatency(v)) return fmt(v);
  return `${fmt(v.p50)} / ${fmt(v.p95)} / ${fmt(v.p99)}${v.rps !== undefined ? ` (${fmt(v.rps)}/s)` : ''}`;
}

/** For latencies: ratio and added ms at p50. For rates: measured as a percentage of the baseline. */
export function comparison(f: Pick<Figure, 'measured' | 'baseline'>): string {
  const { measured: m, baseline: b } = f;
  if (b === undefined) return '—';
  if (isLatency(m) && isLatency(b)) {
    const added = m.p50 - b.p50;
    return `${(m.p50 / b.p50).toFixed(2)}x, ${added >= 0 ? '+' : '−'}${Math.abs(added).toFixed(2)} ms at p50`;
  }
  if (!isLatency(m) && !isLatency(b)) return `${((m / b) * 100).toFixed(0)}% of baseline`;
  return '—';
}

export function markdown(figures: readonly Figure[]): string {
  const head = ['| figure | events | conn. | measured | baseline (same run) | vs baseline | target | met |', '|---|---|---|---|---|---|---|---|'];
  const rows = figures.map((f) => {
    const unit = f.unit === 'ms' ? 'p50 / p95 / p99 ms' : f.unit;
    return `| ${f.name} (${unit}) | ${f.size !== undefined ? f.size.toLocaleString('en-US') : '—'} | ${f.connections ?? '—'} | ${cell(f.measured)} | ` +
      `${f.baseline !== undefined ? `${cell(f.baseline)}${f.baselineName ? ` — ${f.baselineName}` : ''}` : '—'} | ${comparison(f)} | ` +
      `${f.target?.text ?? '—'} | ${f.target ? (f.target.met ? 'yes' : '**no**') : '—'} |`;
  });
  return [...head, ...rows].join('\n');
}

export function summary(figures: readonly Figure[]): { targets: number; met: number; missed: string[] } {
  const judged = figures.filter((f) => f.target);
  const missed = judged.filter((f) => !f.target!.met).map((f) => `${f.name}${f.size !== undefined ? ` @ ${f.size}` : ''}${f.connections ? ` c${f.connections}` : ''}: ${f.target!.text}`);
  return { targets: judged.length, met: judged.length - missed.length, missed };
}

export interface CurveRow { name: string; connections: number; p50BySize: [number, number][]; growth: number; bound: number; met: boolean }

/**
 * How each judged query's gateway p50 grows with the store: from the smallest to the largest size, the cost may
 * grow at most as fast as log(events) does (growth <= ln(largest) / ln(smallest)).
 */
export function curve(figures: readonly Figure[]): CurveRow[] {
  const groups = new Map<string, Figure[]>();
  for (const f of figures) {
    if (f.section !== 'query' || f.size === undefined || !isLatency(f.measured) || !f.target) continue;
    const key = `${f.name}\u0000${f.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].filter((g) => g.length > 1).map((g) => {
    const points = g.map((f) => [f.size!, (f.measured as Latency).p50] as [number, number]).sort((a, b) => a[0] - b[0]);
    const [first, last] = [points[0]!, points.at(-1)!];
    const growth = last[1] / first[1];
    const bound = Math.log(last[0]) / Math.log(first[0]);
    return { name: g[0]!.name, connections: g[0]!.connections ?? 1, p50BySize: points, growth, bound, met: growth <= bound };
  });
}

export function curveMarkdown(rows: readonly CurveRow[]): string {
  if (rows.length === 0) return '';
  const sizes = rows[0]!.p50BySize.map(([s]) => s);
  return [`| query (gateway p50 ms) | conn. | ${sizes.map((s) => s.toLocaleString('en-US')).join(' | ')} | growth | log bound | met |`,
    `|---|---|${sizes.map(() => '---|').join('')}---|---|---|`,
    ...rows.map((r) => `| ${r.name} | ${r.connections} | ${r.p50BySize.map(([, v]) => fmt(v)).join(' | ')} | ${r.growth.toFixed(2)}x | ${r.bound.toFixed(2)}x | ${r.met ? 'yes' : '**no**'} |`),
  ].join('\n');
}
