import { createLogger } from '../../base/logger';
import { unreachable } from './audit-policy.errors';
import { DriftMonitor, DriftRecorder } from './policy.drift-monitor';
import type { DriftReport } from './policy.drift';
import type { PolicyDriftReader } from './policy.drift-reader';
import type { PolicyRow } from './policy.repository';
import { PGAUDIT_DEFAULTS } from './settings/settings.model';

const row = (id: string, serviceId: string, database = ''): PolicyRow => ({ id, serviceId, database, role: '', targetDatabases: [], objects: null, enabled: true, version: 1,
  settings: PGAUDIT_DEFAULTS, updatedAt: new Date(), updatedBy: 'x' });

const DRIFTED: DriftReport = { checked: true, drift: [{ setting: 'pgaudit.log', applied: 'none', live: 'all' }] };
const IN_SYNC: DriftReport = { checked: true, drift: [] };

function setup(policies: PolicyRow[], answer: (serviceId: string) => DriftReport | Error) {
  const lines: Record<string, any>[] = [];
  const logger = createLogger('debug', {}, (l) => lines.push(JSON.parse(l)));
  const counts = { in_sync: 0, drifted: 0, unreachable: 0, detected: 0, gauge: -1 };
  const recorder: DriftRecorder = { checked: (o) => { counts[o] += 1; }, detected: () => { counts.detected += 1; }, drifted: (n) => { counts.gauge = n; } };
  let open = 0;
  let maxOpen = 0;
  const reader = {
    async enabledByService() {
      const m = new Map<string, PolicyRow[]>();
      for (const p of policies) m.set(p.serviceId, [...(m.get(p.serviceId) ?? []), p]);
      return m;
    },
    async service(id: string) { return { id } as never; },
    async checkService(s: { id: string }, rows: PolicyRow[]) {
      open += 1; maxOpen = Math.max(maxOpen, open);
      await new Promise((r) => setTimeout(r, 5));
      open -= 1;
      const a = answer(s.id);
      if (a instanceof Error) throw a;
      return rows.map(() => a);
    },
    async stillAt() { return true; },
  } as unknown as PolicyDriftReader;
  const monitor = new DriftMonitor(reader, logger, { intervalMs: 10, concurrency: 2 }, recorder);
  return { monitor, lines, counts, maxOpen: () => maxOpen, policies };
}

describe('DriftMonitor', () => {
  it('logs each drifted policy by name only, counts a detection once per new drift, and sets the gauge', async () => {
    const { monitor, lines, counts } = setup([row('p1', 's1'), row('p2', 's2', 'sales')], (s) => (s === 's1' ? DRIFTED : IN_SYNC));
    await monitor.runOnce();
    await monitor.runOnce();
    expect(counts).toMatchObject({ in_sync: 2, drifted: 2, unreachable: 0, detected: 1, gauge: 1 });
    const warns = lines.filter((l) => l.msg === 'audit policy drift');
    expect(warns).toHaveLength(2);
    expect(warns[0]).toMatchObject({ level: 'warn', serviceId: 's1', database: null, policyId: 'p1', settings: ['pgaudit.log'] });
    expect(JSON.stringify(warns)).not.toContain('"all"');
  });

  it('an unreachable service is counted, logged by code, and never stops the round', async () => {
    const { monitor, lines, counts } = setup([row('p1', 's1'), row('p2', 's2')], (s) => (s === 's1' ? unreachable() : IN_SYNC));
    await monitor.runOnce();
    expect(counts).toMatchObject({ unreachable: 1, in_sync: 1, gauge: 0 });
    expect(lines.find((l) => l.msg === 'drift check: service not reachable')).toMatchObject({ serviceId: 's1', code: 'SERVICE_UNREACHABLE' });
  });

  it('a failure of the round itself is logged, and the monitor goes on', async () => {
    const { monitor, lines } = setup([], () => IN_SYNC);
    (monitor as any).reader.enabledByService = async () => { throw new Error('gateway db down'); };
    await expect(monitor.runOnce()).resolves.toBeUndefined();
    expect(lines.find((l) => l.msg === 'drift check failed')).toMatchObject({ level: 'error', error: 'gateway db down' });
  });

  it('checks at most `concurrency` services at once', async () => {
    const s = setup(['a', 'b', 'c', 'd', 'e'].map((id) => row(id, id)), () => IN_SYNC);
    await s.monitor.runOnce();
    expect(s.maxOpen()).toBe(2);
    expect(s.counts.in_sync).toBe(5);
  });

  it('a policy no longer enabled leaves the gauge', async () => {
    const s = setup([row('p1', 's1')], () => DRIFTED);
    await s.monitor.runOnce();
    expect(s.counts.gauge).toBe(1);
    s.policies.length = 0;
    await s.monitor.runOnce();
    expect(s.counts.gauge).toBe(0);
  });

  it('runs on its interval after start() and stops cleanly', async () => {
    const s = setup([row('p1', 's1')], () => IN_SYNC);
    s.monitor.start();
    await new Promise((r) => setTimeout(r, 80));
    await s.monitor.stop();
    const after = s.counts.in_sync;
    expect(after).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.counts.in_sync).toBe(after);
  });
});
