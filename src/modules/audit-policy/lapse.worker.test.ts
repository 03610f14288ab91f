import { createLogger } from '../../base/logger';
import { emptySummary, LapseSummary } from './lapse.service';
import { LapseWorker } from './lapse.worker';

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('LapseWorker', () => {
  it('ticks at once and then every interval; a failing tick is logged and the loop goes on', async () => {
    const lines: string[] = [];
    let calls = 0;
    const worker = new LapseWorker({ async runDue(): Promise<LapseSummary> {
      calls += 1;
      if (calls === 2) throw new Error('the gateway database is down');
      return emptySummary();
    } }, 10, createLogger('info', {}, (l) => lines.push(l)));
    worker.start();
    await until(() => calls >= 4);
    await worker.stop();
    expect(lines.some((l) => JSON.parse(l).level === 'error' && /lapse worker/.test(JSON.parse(l).msg))).toBe(true);
  });

  it('stop() waits for the tick running, tells it to stop, and no tick follows', async () => {
    let release!: () => void;
    let sawStopping = false;
    let calls = 0;
    const worker = new LapseWorker({ runDue: (opts) => {
      calls += 1;
      return new Promise<LapseSummary>((resolve) => { release = () => { sawStopping = opts?.stopping?.() ?? false; resolve(emptySummary()); }; });
    } }, 10, createLogger('error', {}, () => undefined));
    worker.start();
    await until(() => calls === 1);
    const stopped = worker.stop();
    let done = false;
    void stopped.then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    release();
    await stopped;
    expect(sawStopping).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });
});
