/**
 * The plan-lapse queue (table policy_lapse_job), in the gateway database. Jobs are written in the transaction
 * that switches a plan flag off (enqueue*), claimed by one worker at a time (claim*: `FOR UPDATE SKIP LOCKED`,
 * then a claim that lasts `claimMs`, so several gateway replicas share the queue and never work one job at once),
 * and finished (complete) or put back with a later attempt (fail).
 */
import type { Db } from '../../base/db/prisma';
import { Prisma } from '../../generated/prisma/client';
import type { Tx } from './policy.repository';

/** One claimed job, with the scope of its policy (for summaries and logs). */
export interface LapseJob {
  id: string; policyId: string; policyVersion: number; reason: string; attempts: number;
  serviceId: string; database: string; role: string;
}

/** How a finished job ended. */
export type LapseJobOutcome = 'DISABLED' | 'NOT_ENABLED' | 'SUPERSEDED';

/** A job as the summary of `admin set-plan` reports one it could not claim. */
export interface LapseJobState extends LapseJob { doneAt: Date | null; outcome: LapseJobOutcome | null; lastError: string | null }

interface JobRow {
  id: string; policy_id: string; policy_version: number; reason: string; attempts: number; service_id: string; database: string; role: string;
}
const job = (r: JobRow): LapseJob => ({ id: r.id, policyId: r.policy_id, policyVersion: r.policy_version, reason: r.reason,
  attempts: r.attempts, serviceId: r.service_id, database: r.database, role: r.role });

export class LapseRepository {
  constructor(private readonly db: Db) {}

  /**
   * In the flag's transaction: one job per enabled policy of every service of the organization. Policy rows
   * are read FOR SHARE: a change still running on one (its row FOR UPDATE) is waited for, and its outcome
   * counted. An open job of the same policy (an earlier lapse not yet carried out) is renewed: due now, the
   * new reason and version. Returns the ids of the jobs written or renewed.
   */
  enqueueForOrganization(tx: Tx, organizationId: string, reason: string): Promise<string[]> {
    return this.enqueue(tx, Prisma.sql`s.project_id IN (SELECT id FROM project WHERE organization_id = ${organizationId}::uuid)`, reason);
  }

  /** As enqueueForOrganization, for the services of one project. */
  enqueueForProject(tx: Tx, projectId: string, reason: string): Promise<string[]> {
    return this.enqueue(tx, Prisma.sql`s.project_id = ${projectId}::uuid`, reason);
  }

  /** One job per enabled policy of the services `services` selects (a fixed fragment over `s`, bind parameters only). */
  private async enqueue(tx: Tx, services: Prisma.Sql, reason: string): Promise<string[]> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO policy_lapse_job (id, policy_id, policy_version, reason)
      SELECT gen_random_uuid(), p.id, p.version, ${reason}
        FROM audit_policy p JOIN service s ON s.id = p.service_id
       WHERE ${services} AND p.enabled
       ORDER BY p.id
         FOR SHARE OF p
      ON CONFLICT (policy_id) WHERE done_at IS NULL
      DO UPDATE SET policy_version = EXCLUDED.policy_version, reason = EXCLUDED.reason, next_attempt_at = now()
      RETURNING id::text AS id`;
    return rows.map((r) => r.id);
  }

  /** Up to `limit` due jobs (oldest due first) that no other worker holds, held by this one for `claimMs`. */
  async claimDue(limit: number, claimMs: number): Promise<LapseJob[]> {
    const rows = await this.db.$queryRaw<JobRow[]>`
      UPDATE policy_lapse_job j SET claimed_until = now() + make_interval(secs => ${claimMs / 1000}::float8)
        FROM audit_policy p
       WHERE p.id = j.policy_id AND j.id IN (
             SELECT id FROM policy_lapse_job
              WHERE done_at IS NULL AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
              ORDER BY next_attempt_at, created_at, id
              LIMIT ${limit}
                FOR UPDATE SKIP LOCKED)
      RETURNING j.id::text AS id, j.policy_id::text AS policy_id, j.policy_version, j.reason, j.attempts,
                p.service_id::text AS service_id, p.database, p.role`;
    return rows.map(job);
  }

  /** These jobs now, whether due or not (admin set-plan works what it wrote at once), unless another worker holds one. */
  async claimIds(ids: readonly string[], claimMs: number): Promise<LapseJob[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.$queryRaw<JobRow[]>`
      UPDATE policy_lapse_job j SET claimed_until = now() + make_interval(secs => ${claimMs / 1000}::float8)
        FROM audit_policy p
       WHERE p.id = j.policy_id AND j.id IN (
             SELECT id FROM policy_lapse_job
              WHERE id = ANY(${[...ids]}::uuid[]) AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
              ORDER BY created_at, id
                FOR UPDATE SKIP LOCKED)
      RETURNING j.id::text AS id, j.policy_id::text AS policy_id, j.policy_version, j.reason, j.attempts,
                p.service_id::text AS service_id, p.database, p.role`;
    return rows.map(job);
  }

  /** Jobs by id, as they are now (what a summary says of those another worker held). */
  async states(ids: readonly string[]): Promise<LapseJobState[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.$queryRaw<(JobRow & { done_at: Date | null; outcome: string | null; last_error: string | null })[]>`
      SELECT j.id::text AS id, j.policy_id::text AS policy_id, j.policy_version, j.reason, j.attempts, j.done_at, j.outcome, j.last_error,
             p.service_id::text AS service_id, p.database, p.role
        FROM policy_lapse_job j JOIN audit_policy p ON p.id = j.policy_id
       WHERE j.id = ANY(${[...ids]}::uuid[]) ORDER BY j.created_at, j.id`;
    return rows.map((r) => ({ ...job(r), doneAt: r.done_at, outcome: r.outcome as LapseJobOutcome | null, lastError: r.last_error }));
  }

  /**
   * The job is finished. Only if it still asks for the version it was claimed with: a lapse that renewed it
   * meanwhile (the policy re-enabled and lapsed again) leaves it open, for the next worker.
   */
  async complete(j: LapseJob, outcome: LapseJobOutcome): Promise<boolean> {
    const done = await this.db.$executeRaw`UPDATE policy_lapse_job SET done_at = now(), outcome = ${outcome}, claimed_until = NULL, last_error = NULL
      WHERE id = ${j.id}::uuid AND done_at IS NULL AND policy_version = ${j.policyVersion}`;
    if (done === 0) await this.release(j.id);
    return done === 1;
  }

  /** A failed attempt: counted, the next one not before `retryInMs`, `error` (a fixed sentence) kept. */
  async fail(j: LapseJob, retryInMs: number, error: string): Promise<void> {
    await this.db.$executeRaw`UPDATE policy_lapse_job SET attempts = attempts + 1, last_error = ${error}, claimed_until = NULL,
        next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}::float8)
      WHERE id = ${j.id}::uuid AND done_at IS NULL`;
  }

  /** Gives a claimed job back untouched (a worker stopping before it got to it). */
  async release(id: string): Promise<void> {
    await this.db.$executeRaw`UPDATE policy_lapse_job SET claimed_until = NULL WHERE id = ${id}::uuid AND done_at IS NULL`;
  }

  /** Jobs not finished yet (the pending gauge). */
  async countOpen(): Promise<number> {
    const [row] = await this.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM policy_lapse_job WHERE done_at IS NULL`;
    return row?.n ?? 0;
  }
}
