/** Small numeric helpers shared by the benchmarks. Pure. */

export interface Percentiles { p50: number; p95: number; p99: number }

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Time `n` sequential calls after `warmup` unrecorded ones. */
export async function timeCalls(n: number, fn: (i: number) => Promise<void>, warmup = 5): Promise<Percentiles> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

/** A count written as 20000, 200k or 1.5m (the benches' --events, --sizes, rates); `flag` names the option in the error. */
export function parseCount(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`--${flag}: "${s}" is not a number like 50000, 100k or 1m`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
}

/** An argv's options: `value('x')` is what follows `--x` (undefined without it); `num('x', d)` a whole number >= 1, or d. */
export function optionReader(argv: readonly string[]): { value(name: string): string | undefined; num(name: string, fallback: number): number } {
  const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const num = (name: string, fallback: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    if (!/^[1-9]\d*$/.test(v)) throw new Error(`--${name} takes a whole number, got "${v}"`);
    return Number(v);
  };
  return { value, num };
}

