import { silentLogger } from '../../base/logger';
import { unreachable } from './audit-policy.errors';
import type { LapseJob, LapseJobOutcome, LapseJobState, LapseRepository } from './lapse.repository';
import { LAPSE_FAILURE_TEXT } from './lapse.rules';
import { LapseService } from './lapse.service';
import type { LapseDisableOutcome } from './policy.lapse';

const job = (id: string, attempts = 0): LapseJob => ({ id, policyId: `p-${id}`, policyVersion: 3, reason: 'r', attempts, serviceId: `s-${id}`, database: '', role: '' });

/** A queue in memory: what the service asks of the repository. */
function fakeQueue(due: LapseJob[], states: LapseJobState[] = []) {
  const calls = { completed: [] as [string, LapseJobOutcome][], failed: [] as [string, number, string][], released: [] as string[] };
  const queue = {
    claimDue: async (limit: number) => due.splice(0, limit),
    claimIds: async (ids: readonly string[]) => due.filter((j) => ids.includes(j.id)),
    states: async () => states,
    complete: async (j: LapseJob, outcome: LapseJobOutcome) => { calls.completed.push([j.id, outcome]); return true; },
    fail: async (j: LapseJob, ms: number, error: string) => { calls.failed.push([j.id, ms, error]); },
    release: async (id: string) => { calls.released.push(id); },
    countOpen: async () => calls.failed.length,
  } as unknown as LapseRepository;
  return { queue, calls };
}

const config = { lapseRetryIntervalMs: 1000, targetConnectTimeoutMs: 100, targetStatementTimeoutMs: 100, applyReadbackTimeoutMs: 100 };
const tenancy = { setProPlatformWith: jest.fn(), setProFeaturesWith: jest.fn() };

describe('LapseService.runDue', () => {
  it('completes each job by its outcome, and keeps a failed one with the backoff of its attempt and a fixed sentence', async () => {
    const outcomes: Record<string, LapseDisableOutcome | Error> = {
      'p-a': { kind: 'disabled', policy: {} as never, revision: { version: 4 } as never },
      'p-b': { kind: 'notEnabled' },
      'p-c': { kind: 'superseded' },
      'p-d': unreachable(),
    };
    const { queue, calls } = fakeQueue([job('a'), job('b'), job('c'), job('d', 2)]);
    const recorded: string[] = [];
    const service = new LapseService(tenancy, {
      disableForLapse: async (policyId: string) => { const o = outcomes[policyId]!; if (o instanceof Error) throw o; return o; },
    }, queue, config, silentLogger, { disabled: () => recorded.push('disabled'), failed: (r) => recorded.push(r), pending: (n) => recorded.push(`pending ${n}`) });
    const s = await service.runDue({ batch: 2 });
    expect(s.disabled.map((x) => x.policyId)).toEqual(['p-a']);
    expect(s.alreadyDisabled.map((x) => x.policyId)).toEqual(['p-b']);
    expect(s.superseded.map((x) => x.policyId)).toEqual(['p-c']);
    expect(s.pending).toEqual([{ policyId: 'p-d', serviceId: 's-d', database: null, reason: 'unreachable', attempts: 3 }]);
    expect(calls.completed).toEqual([['a', 'DISABLED'], ['b', 'NOT_ENABLED'], ['c', 'SUPERSEDED']]);
    expect(calls.failed).toEqual([['d', 4000, LAPSE_FAILURE_TEXT.unreachable]]);   // the third failure: 1000 * 2^2
    expect(recorded).toEqual(['disabled', 'unreachable', 'pending 1']);
  });

  it('stops claiming once told to, and gives back what it claimed but did not start', async () => {
    const { queue, calls } = fakeQueue([job('a'), job('b'), job('c')]);
    let n = 0;
    const service = new LapseService(tenancy, { disableForLapse: async () => { n += 1; return { kind: 'notEnabled' }; } }, queue, config, silentLogger);
    await service.runDue({ batch: 3, stopping: () => n >= 1 });
    expect(n).toBe(1);
    expect(calls.released).toEqual(['b', 'c']);
  });
});

describe('LapseService.work', () => {
  it('works the jobs it can claim and reports the others as they stand', async () => {
    const held = (id: string, outcome: LapseJobOutcome | null): LapseJobState => ({ ...job(id), doneAt: outcome ? new Date() : null, outcome, lastError: null });
    const { queue } = fakeQueue([job('a')], [held('b', 'DISABLED'), held('c', null)]);
    const service = new LapseService(tenancy, { disableForLapse: async () => ({ kind: 'notEnabled' }) }, queue, config, silentLogger);
    const s = await service.work(['a', 'b', 'c']);
    expect(s.alreadyDisabled.map((x) => x.policyId)).toEqual(['p-a']);
    expect(s.disabled.map((x) => x.policyId)).toEqual(['p-b']);
    expect(s.pending).toEqual([{ policyId: 'p-c', serviceId: 's-c', database: null, reason: 'in_progress_elsewhere', attempts: 0 }]);
  });
});
