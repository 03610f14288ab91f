/**
 * Audit logging is disabled when the plan lapses (README: "Audit logging is disabled when the plan lapses").
 *   - setProPlatform / setProFeatures: the flag and, when it goes off, one lapse job per enabled policy of
 *     every service it covers, in ONE gateway transaction (lapse.repository.ts). Switching it on writes no job,
 *     re-enables nothing, and leaves open jobs to run: the lapse happened.
 *   - work(ids): `admin set-plan` works the jobs it wrote at once; runDue(): `serve`'s worker (lapse.worker.ts)
 *     works every due job, with backoff (lapse.rules.ts). Each job is PolicyService.disableForLapse.
 * Every outcome is logged and counted (LapseRecorder); a failure keeps the job with a fixed sentence.
 */
import type { GatewayConfig } from '../../base/config';
import type { Logger } from '../../base/logger';
import type { TenancyService } from '../tenancy/tenancy.service';
import { serverText } from './audit-policy.errors';
import { lapseBackoffMs, LapseFailureReason, lapseFailureReason, LAPSE_FAILURE_TEXT, lapseReason } from './lapse.rules';
import type { LapseJob, LapseJobOutcome, LapseRepository } from './lapse.repository';
import type { PolicyService } from './policy.service';

/** What the lapse queue reports (metrics); it never names a tenant or a service. */
export interface LapseRecorder {
  /** A policy's audit logging was disabled by a lapse job. */
  disabled(): void;
  /** An attempt failed, by fixed reason (LAPSE_FAILURE_REASONS). */
  failed(reason: LapseFailureReason): void;
  /** Jobs not finished yet. */
  pending(n: number): void;
}

const NO_RECORDER: LapseRecorder = { disabled() {}, failed() {}, pending() {} };

/** One policy's scope in a summary. */
export interface LapsedScope { policyId: string; serviceId: string; database: string | null; role?: string }

/** What working some jobs did (admin set-plan prints it). */
export interface LapseSummary {
  /** Audit logging disabled now, one revision each. */
  disabled: LapsedScope[];
  /** Already disabled (by a user, or by an earlier run of the job): nothing to do. */
  alreadyDisabled: LapsedScope[];
  /** Changed since the lapse (re-enabled once the plan was back): left as it is. */
  superseded: LapsedScope[];
  /** Not done yet: kept, retried by `serve` (reason: LAPSE_FAILURE_REASONS). */
  pending: (LapsedScope & { reason: LapseFailureReason; attempts: number })[];
}

export const emptySummary = (): LapseSummary => ({ disabled: [], alreadyDisabled: [], superseded: [], pending: [] });

const scopeOfJob = (j: LapseJob): LapsedScope => ({ policyId: j.policyId, serviceId: j.serviceId, database: j.database || null,
  ...(j.role ? { role: j.role } : {}) });

export type LapseConfig = Pick<GatewayConfig, 'lapseRetryIntervalMs' | 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs' | 'applyReadbackTimeoutMs'>;

export class LapseService {
  constructor(
    private readonly tenancy: Pick<TenancyService, 'setProPlatformWith' | 'setProFeaturesWith'>,
    private readonly policies: Pick<PolicyService, 'disableForLapse'>,
    private readonly queue: LapseRepository,
    private readonly config: LapseConfig,
    private readonly logger: Logger,
    private readonly recorder: LapseRecorder = NO_RECORDER,
  ) {}

  /** How long one job may take at most (connect, the change's transaction), with a margin: a claim lasts that long per job. */
  private get jobBudgetMs(): number {
    const c = this.config;
    return c.targetConnectTimeoutMs * 2 + c.targetStatementTimeoutMs * 6 + c.applyReadbackTimeoutMs + 30_000;
  }

  /** The plan change's transaction may wait for changes running on the policies it reads (FOR SHARE). */
  private get planTransactionMs(): number {
    return this.config.targetStatementTimeoutMs * 4 + this.config.applyReadbackTimeoutMs + 30_000;
  }

  /** Pro Platform on or off; off: the ids of the lapse jobs written (or renewed) with it. */
  async setProPlatform(organizationId: string, value: boolean): Promise<string[]> {
    return this.tenancy.setProPlatformWith(organizationId, value,
      (tx, org) => value ? Promise.resolve([]) : this.queue.enqueueForOrganization(tx, org.id, lapseReason({ kind: 'organization', name: org.name })),
      this.planTransactionMs);
  }

  /** Pro Features on or off; off: the ids of the lapse jobs written (or renewed) with it. */
  async setProFeatures(projectId: string, value: boolean): Promise<string[]> {
    return this.tenancy.setProFeaturesWith(projectId, value,
      (tx, project) => value ? Promise.resolve([]) : this.queue.enqueueForProject(tx, project.id, lapseReason({ kind: 'project', name: project.name })),
      this.planTransactionMs);
  }

  /**
   * Works these jobs now, due or not (admin set-plan, right after writing them). One another process holds
   * is reported as it stands: finished, or pending (in_progress_elsewhere).
   */
  async work(ids: readonly string[]): Promise<LapseSummary> {
    const summary = emptySummary();
    const remaining = new Set(ids);
    for (const j of await this.queue.claimIds(ids, this.jobBudgetMs * Math.max(1, ids.length))) {
      remaining.delete(j.id);
      await this.runJob(j, summary);
    }
    for (const s of await this.queue.states([...remaining])) {
      const scope = scopeOfJob(s);
      if (s.outcome === 'DISABLED') summary.disabled.push(scope);
      else if (s.outcome === 'NOT_ENABLED') summary.alreadyDisabled.push(scope);
      else if (s.outcome === 'SUPERSEDED') summary.superseded.push(scope);
      else summary.pending.push({ ...scope, reason: 'in_progress_elsewhere', attempts: s.attempts });
    }
    await this.reportPending();
    return summary;
  }

  /**
   * Works the due jobs, `batch` at a time, until none is due, `maxJobs` were worked, or `stopping()` says so.
   * A job another worker holds is never claimed (several replicas share the queue).
   */
  async runDue(opts: { batch?: number; maxJobs?: number; stopping?: () => boolean } = {}): Promise<LapseSummary> {
    const batch = opts.batch ?? 5;
    const maxJobs = opts.maxJobs ?? 100;
    const summary = emptySummary();
    let worked = 0;
    while (worked < maxJobs && !opts.stopping?.()) {
      const jobs = await this.queue.claimDue(Math.min(batch, maxJobs - worked), this.jobBudgetMs * batch);
      if (jobs.length === 0) break;
      for (const j of jobs) {
        if (opts.stopping?.()) { await this.queue.release(j.id); continue; }
        worked += 1;
        await this.runJob(j, summary);
      }
    }
    await this.reportPending();
    return summary;
  }

  private async runJob(j: LapseJob, summary: LapseSummary): Promise<void> {
    const scope = scopeOfJob(j);
    const at = { jobId: j.id, policyId: j.policyId, serviceId: j.serviceId, database: j.database || null, role: j.role || null, attempt: j.attempts + 1 };
    let outcome: LapseJobOutcome;
    try {
      const r = await this.policies.disableForLapse(j.policyId, j.reason, j.policyVersion);
      outcome = r.kind === 'disabled' ? 'DISABLED' : r.kind === 'notEnabled' ? 'NOT_ENABLED' : 'SUPERSEDED';
      if (r.kind === 'disabled') {
        this.recorder.disabled();
        this.logger.info('plan lapsed: audit logging disabled', { ...at, version: r.revision.version });
      } else {
        this.logger.info(r.kind === 'notEnabled' ? 'plan lapsed: audit logging was already disabled' : 'plan lapsed: the policy changed since, left as it is', at);
      }
    } catch (err) {
      const reason = lapseFailureReason(err);
      const retryInMs = lapseBackoffMs(j.attempts + 1, this.config.lapseRetryIntervalMs);
      this.recorder.failed(reason);
      // The job keeps the fixed sentence only; an unexpected error (no target's text: those are coded) is logged clipped, for the operator.
      this.logger.warn('plan lapsed: audit logging could not be disabled yet; will retry', { ...at, reason, retryInMs, error: LAPSE_FAILURE_TEXT[reason],
        ...(reason === 'error' ? { detail: serverText(err instanceof Error ? err.message : String(err)) } : {}) });
      await this.queue.fail(j, retryInMs, LAPSE_FAILURE_TEXT[reason]);
      summary.pending.push({ ...scope, reason, attempts: j.attempts + 1 });
      return;
    }
    await this.queue.complete(j, outcome);
    (outcome === 'DISABLED' ? summary.disabled : outcome === 'NOT_ENABLED' ? summary.alreadyDisabled : summary.superseded).push(scope);
  }

  private async reportPending(): Promise<void> {
    this.recorder.pending(await this.queue.countOpen());
  }
}
