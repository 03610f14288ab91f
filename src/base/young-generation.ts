/**
 * A cap on V8's young generation, set while the process runs. V8 grows the new space by doubling it (up to 32 MB on
 * 64-bit Node 20) when objects survive; the maximum (`--max-semi-space-size`) can only be given on the command line,
 * but the growth factor is read at each growth. So after each garbage collection this checks the new space's size,
 * and once it has reached `capBytes` it turns growth off (`--semi-space-growth-factor=1`): the new space stays at
 * the first size at or above the cap (a collection that grows it twice before the check can double it once more).
 *
 * Why (bench/README.md, "Ingest beside a raw shipper"): `ingest` ran with `--optimize-for-size`, which kept its peak
 * RSS under 150 MB by shrinking the new space to 4 MB, but collected ~4x as often and ran V8's compiler for size:
 * 39 µs of CPU per event. Without it, 25 µs and 155 MB (the full 32 MB new space); with the new space capped, both
 * in bounds.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

export function capYoungGeneration(capBytes: number): void {
  const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  const stop = () => { v8.setFlagsFromString('--semi-space-growth-factor=1'); observer.disconnect(); };
  const observer = new PerformanceObserver(() => { if (newSpace() >= capBytes) stop(); });
  if (newSpace() >= capBytes) { stop(); return; }
  observer.observe({ entryTypes: ['gc'] });
}
