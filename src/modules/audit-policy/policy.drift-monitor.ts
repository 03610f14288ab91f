/**
 * The drift monitor of `serve`: every DRIFT_CHECK_INTERVAL_MS it reads what the scope of each enabled policy
 * holds on its server and compares it with what the gateway applied (policy.drift.ts). Per service one
 * connection at a time, through the connector's slots (so it never takes more of a service than a request
 * does), and at most `concurrency` services at once. A drifted policy is logged (`warn`, 'audit policy drift':
 * ids and the drifted setting names, never values) and counted. Nothing it meets stops it: a round that fails
 * is logged and the next one comes; stop() waits for the round in progress (which checks no further service).
 */
import type { Logger } from '../../base/logger';
import { AuditPolicyError } from './audit-policy.errors';
import { DriftReport, driftSummary } from './policy.drift';
import type { PolicyDriftReader } from './policy.drift-reader';
import type { PolicyRow } from './policy.repository';

/** The outcome of one policy's check. */
export type DriftCheckOutcome = 'in_sync' | 'drifted' | 'unreachable';
export const DRIFT_CHECK_OUTCOMES: readonly DriftCheckOutcome[] = ['in_sync', 'drifted', 'unreachable'];

/** What the monitor reports (metrics: src/base/metrics.ts driftMetrics); it never names a service. */
export interface DriftRecorder {
  /** one policy checked, or not (its server could not be reached) */
  checked(outcome: DriftCheckOutcome): void;
  /** a policy found drifted where it was not at its previous check, or drifted differently */
  detected(): void;
  /** policies drifted as of their latest check */
  drifted(count: number): void;
}

const NO_RECORDER: DriftRecorder = { checked() {}, detected() {}, drifted() {} };

/** Services checked at once, unless told otherwise. */
export const DEFAULT_DRIFT_CHECK_CONCURRENCY = 4;

export interface DriftMonitorOptions {
  /** Time between the end of one round and the start of the next. */
  intervalMs: number;
  /** Services checked at once. */
  concurrency?: number;
}

export class DriftMonitor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private started = false;
  /** Set by stop(), for good: no round starts, the one in progress checks no further service. */
  private stopped = false;
  /** Per policy id, the drift of its latest check ('' = none): a detection is a change to a new non-empty drift. */
  private readonly last = new Map<string, string>();

  constructor(
    private readonly reader: PolicyDriftReader,
    private readonly logger: Logger,
    private readonly options: DriftMonitorOptions,
    private readonly recorder: DriftRecorder = NO_RECORDER,
  ) {}

  /** Checks after each interval until stop(). Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule();
    this.logger.info('drift monitor started', { intervalMs: this.options.intervalMs });
  }

  /** No round starts after this; resolves once the round in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
  }

  /** One round over every enabled policy (the timer's work; tests call it directly). Never rejects. */
  runOnce(): Promise<void> {
    if (!this.running && !this.stopped) {
      this.running = this.round()
        .catch((err: Error) => this.logger.error('drift check failed', { error: err.message }))
        .finally(() => { this.running = null; });
    }
    return this.running ?? Promise.resolve();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const byService = await this.reader.enabledByService();
    const ids = new Set([...byService.values()].flat().map((p) => p.id));
    for (const id of this.last.keys()) if (!ids.has(id)) this.last.delete(id);   // disabled or gone: no longer drifted
    const queue = [...byService.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next && !this.stopped; next = queue.shift()) await this.checkService(next[0], next[1]);
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? DEFAULT_DRIFT_CHECK_CONCURRENCY) }, worker));
    this.recorder.drifted([...this.last.values()].filter((d) => d !== '').length);
  }

  private async checkService(serviceId: string, rows: PolicyRow[]): Promise<void> {
    let reports: DriftReport[];
    try {
      const service = await this.reader.service(serviceId);
      if (!service) return;
      reports = await this.reader.checkService(service, rows);
    } catch (err) {
      for (let i = 0; i < rows.length; i++) this.recorder.checked('unreachable');
      // a refusal's code (SERVICE_UNREACHABLE, SERVICE_BUSY, SERVICE_TLS_FAILED, ...) is its whole story; anything else is a bug
      if (err instanceof AuditPolicyError) this.logger.warn('drift check: service not reachable', { serviceId, code: err.code });
      else this.logger.error('drift check: service failed', { serviceId, error: (err as Error).message });
      return;
    }
    for (const [i, row] of rows.entries()) await this.record(row, reports[i]!);
  }

  private async record(row: PolicyRow, report: DriftReport): Promise<void> {
    // a change that committed between reading the row and reading the server is not drift: next round decides
    if (report.drift.length > 0 && !(await this.reader.stillAt(row.id, row.version))) return;
    this.recorder.checked(report.drift.length > 0 ? 'drifted' : 'in_sync');
    const signature = report.drift.map((d) => `${d.setting}=${d.live ?? ''}`).join('\n');
    const before = this.last.get(row.id) ?? '';
    this.last.set(row.id, signature);
    if (signature === '') return;
    if (signature !== before) this.recorder.detected();
    const role = (row as { role?: string }).role;
    this.logger.warn('audit policy drift', { serviceId: row.serviceId, database: row.database || null, ...(role ? { role } : {}),
      policyId: row.id, version: row.version, settings: driftSummary(report.drift) });
  }
}
