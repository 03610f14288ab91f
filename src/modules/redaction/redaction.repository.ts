/**
 * The rules of each service and their append-only history, in the gateway database. A change runs in one
 * transaction holding the service's rules row FOR UPDATE, so two changes to one service are serialised across
 * every gateway replica, and the version moves by exactly one per revision.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../base/db/prisma';
import type { Prisma } from '../../generated/prisma/client';
import type { RedactionRules, RuleChange } from './redaction.rules';

export type Tx = Prisma.TransactionClient;

/** A service's rules row as stored: `rules` unread (redaction.rules.ts rulesFromStored reads it). */
export interface RuleSetRow { serviceId: string; version: number; rules: unknown; updatedAt: Date; updatedBy: string }

export interface RuleRevisionRow {
  id: string; serviceId: string; version: number; actor: string; reason: string | null; rules: unknown; changes: RuleChange[]; createdAt: Date;
}

function toRevision(r: { id: string; serviceId: string; version: number; actor: string; reason: string | null; rules: Prisma.JsonValue;
  changes: Prisma.JsonValue; createdAt: Date }): RuleRevisionRow {
  return { id: r.id, serviceId: r.serviceId, version: r.version, actor: r.actor, reason: r.reason, rules: r.rules,
    changes: r.changes as unknown as RuleChange[], createdAt: r.createdAt };
}

export class RedactionRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>, timeoutMs = 10_000): Promise<T> {
    return this.db.$transaction(fn, { timeout: timeoutMs, maxWait: timeoutMs });
  }

  /** The service's current rules; null before their first change. */
  async find(serviceId: string, tx: Tx | Db = this.db): Promise<RuleSetRow | null> {
    return tx.redactionRules.findUnique({ where: { serviceId } });
  }

  /** The current version alone (0 before the first change): what the ingester polls. */
  async version(serviceId: string): Promise<number> {
    const row = await this.db.redactionRules.findUnique({ where: { serviceId }, select: { version: true } });
    return row?.version ?? 0;
  }

  /** The service's rules row, created at version 0 (no redaction) if missing, locked until commit. */
  async lock(tx: Tx, serviceId: string, none: RedactionRules): Promise<RuleSetRow> {
    await tx.$executeRaw`INSERT INTO redaction_rules (service_id, version, rules, updated_by)
      VALUES (${serviceId}::uuid, 0, ${JSON.stringify(none)}::jsonb, '') ON CONFLICT (service_id) DO NOTHING`;
    await tx.$queryRaw`SELECT service_id FROM redaction_rules WHERE service_id = ${serviceId}::uuid FOR UPDATE`;
    return tx.redactionRules.findUniqueOrThrow({ where: { serviceId } });
  }

  /** Append the revision of `version + 1` and move the rules to it, in the caller's transaction. */
  async appendRevision(tx: Tx, current: RuleSetRow, r: { actor: string; actorTokenId: string | null; reason: string | null;
    rules: RedactionRules; changes: RuleChange[] }): Promise<{ ruleSet: RuleSetRow; revision: RuleRevisionRow }> {
    const version = current.version + 1;
    const rules = JSON.parse(JSON.stringify(r.rules)) as Prisma.InputJsonValue;
    const revision = await tx.redactionRulesRevision.create({ data: { id: randomUUID(), serviceId: current.serviceId, version, actor: r.actor,
      actorTokenId: r.actorTokenId, reason: r.reason, rules, changes: JSON.parse(JSON.stringify(r.changes)) as Prisma.InputJsonValue } });
    const ruleSet = await tx.redactionRules.update({ where: { serviceId: current.serviceId },
      data: { version, rules, updatedAt: revision.createdAt, updatedBy: r.actor } });
    return { ruleSet, revision: toRevision(revision) };
  }

  /** Newest first; `beforeVersion` pages past a cursor. One row more than asked tells if there is a next page. */
  async revisions(serviceId: string, first: number, beforeVersion: number | null)
    : Promise<{ rows: RuleRevisionRow[]; hasNextPage: boolean; totalCount: number }> {
    const where = { serviceId, ...(beforeVersion !== null ? { version: { lt: beforeVersion } } : {}) };
    const [rows, totalCount] = await Promise.all([
      this.db.redactionRulesRevision.findMany({ where, orderBy: { version: 'desc' }, take: first + 1 }),
      this.db.redactionRulesRevision.count({ where: { serviceId } }),
    ]);
    return { rows: rows.slice(0, first).map(toRevision), hasNextPage: rows.length > first, totalCount };
  }
}
