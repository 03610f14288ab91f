/** Jest globalTeardown of the `integration` project: stops every server globalSetup started (all of them, even if one stop fails). */
import { rm } from 'node:fs/promises';
import { CLUSTERS_DIR, clustersKey, type TestClusters } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const store = globalThis as typeof globalThis & { [clustersKey]?: TestClusters };
  const clusters = store[clustersKey] ?? {};
  delete store[clustersKey];
  const entries = Object.entries(clusters).filter(([, c]) => c !== undefined);
  const results = await Promise.allSettled(entries.map(([, c]) => c!.stop()));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${entries[i][0]}: ${(r.reason as Error)?.message ?? r.reason}`] : [],
  );
  if (failures.length === 0) await rm(CLUSTERS_DIR, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(`stopping test clusters failed:\n${failures.join('\n')}`);
}
