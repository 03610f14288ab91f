/**
 * `serve`'s lapse worker: every `intervalMs` it works the due lapse jobs (LapseService.runDue). Every replica
 * runs one; the queue's claims keep them from working one job twice at once. A tick that fails (the gateway
 * database down) is logged and the next one comes as usual: the worker never stops serve. stop() waits for
 * the tick running, which finishes its current job and gives the rest of its batch back.
 */
import type { Logger } from '../../base/logger';
import type { LapseService } from './lapse.service';

export class LapseWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly lapses: Pick<LapseService, 'runDue'>, private readonly intervalMs: number, private readonly logger: Logger) {}

  /** The first tick comes at once (jobs left by a crash or by set-plan wait no longer than needed). */
  start(): void {
    if (this.stopped || this.timer || this.running) return;
    this.schedule(0);
  }

  /** One pass over the due jobs; never throws. */
  async tick(): Promise<void> {
    try {
      const s = await this.lapses.runDue({ stopping: () => this.stopped });
      if (s.disabled.length + s.pending.length + s.alreadyDisabled.length + s.superseded.length > 0) {
        this.logger.info('lapse jobs worked', { disabled: s.disabled.length, alreadyDisabled: s.alreadyDisabled.length,
          superseded: s.superseded.length, pending: s.pending.length });
      }
    } catch (err) {
      this.logger.error('lapse worker: the queue could not be worked; next try in one interval', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().finally(() => {
        this.running = null;
        if (!this.stopped) this.schedule(this.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }
}
