/**
 * The policy store and its append-only history, in the gateway database. Writes happen inside one
 * transaction per change (see policy.service.ts), with the policy row locked FOR UPDATE, so two
 * changes to one policy are serialised across every gateway replica.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../base/db/prisma';
import { Prisma } from '../../generated/prisma/client';
import { AuditSettingsPatch, AuditSettingsValue, mergeSettings, PGAUDIT_DEFAULTS } from './settings/settings.model';
import { ChainRevision, GENESIS_HASH, revisionHash } from './policy.history-chain';
import type { ObjectAuditState } from './objects/object-audit.plan';

export type Tx = Prisma.TransactionClient;

export interface PolicyRow {
  id: string; serviceId: string; database: string; role: string; targetDatabases: string[]; enabled: boolean; version: number;
  settings: AuditSettingsValue | null; updatedAt: Date; updatedBy: string;
  /** Object audit last applied on this database (objects/); null when never configured. */
  objects: ObjectAuditState | null;
}

export interface RevisionRow {
  id: string; policyId: string; version: number; action: string; actor: string; reason: string | null;
  settings: AuditSettingsValue; changes: SettingChange[]; statements: string[]; createdAt: Date; contentHash: string;
  /** A service-level policy's target databases after this revision; null: the whole service (or another scope). */
  targetDatabases: string[] | null;
  /** The object-audit state an OBJECT_AUDIT_CONFIGURED revision read back; null for the others. */
  objects: ObjectAuditState | null;
}

export interface SettingChange { setting: string; from: string | null; to: string | null }

/** What an idempotent mutation replays: ids, so the replay shows the revision it created. */
export interface StoredResult { policyId: string | null; revisionId: string | null; statements: string[] }

/** Settings as a revision stored them; a field added to the model since (the session-logging switches) reads as its default. */
function storedSettings(json: Prisma.JsonValue): AuditSettingsValue {
  return mergeSettings(PGAUDIT_DEFAULTS, json as unknown as AuditSettingsPatch);
}

function toPolicy(p: { id: string; serviceId: string; database: string; role: string; targetDatabases: string[]; enabled: boolean; version: number;
  settings: Prisma.JsonValue; updatedAt: Date; updatedBy: string; objects?: Prisma.JsonValue }): PolicyRow {
  const settings = p.settings && typeof p.settings === 'object' && 'log' in p.settings ? storedSettings(p.settings) : null;
  return { ...p, settings, objects: (p.objects ?? null) as unknown as ObjectAuditState | null };
}

function toRevision(r: { id: string; policyId: string; version: number; action: string; actor: string; reason: string | null;
  settings: Prisma.JsonValue; changes: Prisma.JsonValue; statements: Prisma.JsonValue; createdAt: Date; contentHash: string;
  targetDatabases: Prisma.JsonValue; objects?: Prisma.JsonValue }): RevisionRow {
  return { ...r, settings: storedSettings(r.settings), changes: r.changes as unknown as SettingChange[],
    statements: r.statements as unknown as string[],
    targetDatabases: Array.isArray(r.targetDatabases) ? r.targetDatabases.map(String) : null,
    objects: (r.objects ?? null) as unknown as ObjectAuditState | null };
}

/** A JSON value as the jsonb column gives it back: undefined members dropped. */
function stored(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}

export class PolicyRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>, timeoutMs: number): Promise<T> {
    return this.db.$transaction(fn, { timeout: timeoutMs, maxWait: timeoutMs });
  }

  async find(serviceId: string, database: string, role = '', tx: Tx | Db = this.db): Promise<PolicyRow | null> {
    const p = await tx.auditPolicy.findUnique({ where: { serviceId_database_role: { serviceId, database, role } } });
    return p ? toPolicy(p) : null;
  }

  /** Of `databases`, those with an enabled database-level policy of their own (a target list may not take them). */
  async databasesWithOwnPolicy(tx: Tx, serviceId: string, databases: readonly string[]): Promise<string[]> {
    const rows = await tx.auditPolicy.findMany({ where: { serviceId, role: '', enabled: true, database: { in: [...databases] } },
      select: { database: true }, orderBy: { database: 'asc' } });
    return rows.map((r) => r.database);
  }

  async findById(id: string): Promise<PolicyRow | null> {
    const p = await this.db.auditPolicy.findUnique({ where: { id } });
    return p ? toPolicy(p) : null;
  }

  /** The policy row of a scope, created (not enabled, version 0) if missing, and locked until commit. */
  async lock(tx: Tx, serviceId: string, database: string, role = ''): Promise<PolicyRow> {
    await tx.$executeRaw`INSERT INTO audit_policy (id, service_id, database, role, settings, updated_by)
      VALUES (${randomUUID()}::uuid, ${serviceId}::uuid, ${database}, ${role}, 'null'::jsonb, '')
      ON CONFLICT (service_id, database, role) DO NOTHING`;
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM audit_policy
      WHERE service_id = ${serviceId}::uuid AND database = ${database} AND role = ${role} FOR UPDATE`;
    const p = await tx.auditPolicy.findUniqueOrThrow({ where: { id: row!.id } });
    return toPolicy(p);
  }

  /** A policy row by id, locked until commit (the plan lapse's disable, policy.lapse.ts); null if there is none. */
  async lockById(tx: Tx, id: string): Promise<PolicyRow | null> {
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM audit_policy WHERE id = ${id}::uuid FOR UPDATE`;
    if (rows.length === 0) return null;
    return toPolicy(await tx.auditPolicy.findUniqueOrThrow({ where: { id } }));
  }

  /**
   * The service's plan flags, read in the change's transaction with its organization and project rows FOR SHARE:
   * a plan switched off while the change runs is seen (set-plan's UPDATE commits first), or waits for the change to
   * commit (and its lapse then finds the policy enabled). Null if the service is gone.
   */
  async planFlags(tx: Tx, serviceId: string): Promise<{ proPlatform: boolean; proFeatures: boolean } | null> {
    const [row] = await tx.$queryRaw<{ pro_platform: boolean; pro_features: boolean }[]>`
      SELECT o.pro_platform, p.pro_features FROM service s JOIN project p ON p.id = s.project_id
        JOIN organization o ON o.id = p.organization_id WHERE s.id = ${serviceId}::uuid FOR SHARE OF o, p`;
    return row ? { proPlatform: row.pro_platform, proFeatures: row.pro_features } : null;
  }

  /** Serialises every use of one idempotency key within a project until commit. */
  async lockIdempotencyKey(tx: Tx, projectId: string, key: string): Promise<void> {
    await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${projectId + ":" + key}, 0))::text AS locked`;
  }

  async findIdempotency(projectId: string, key: string, tx: Tx | Db = this.db)
    : Promise<{ operation: string; requestHash: string; result: StoredResult } | null> {
    const r = await tx.idempotencyRecord.findUnique({ where: { projectId_key: { projectId, key } } });
    return r ? { operation: r.operation, requestHash: r.requestHash, result: r.result as unknown as StoredResult } : null;
  }

  async saveIdempotency(tx: Tx, projectId: string, key: string, operation: string, requestHash: string, result: StoredResult): Promise<void> {
    await tx.idempotencyRecord.create({ data: { projectId, key, operation, requestHash, result: result as unknown as Prisma.InputJsonValue } });
  }

  /** Append the revision and move the policy to it, in the caller's transaction. */
  async appendRevision(tx: Tx, policy: PolicyRow, r: {
    action: string; actor: string; actorTokenId: string | null; reason: string | null; enabled: boolean;
    settings: AuditSettingsValue; changes: SettingChange[]; statements: string[];
    /** The service-level policy's target databases after the change ([] = the whole service). */
    targetDatabases?: readonly string[];
    /** Object audit only: the state read back, stored on the revision (and hashed) and on the policy. Absent: untouched. */
    objects?: ObjectAuditState;
  }): Promise<{ policy: PolicyRow; revision: RevisionRow }> {
    const version = policy.version + 1;
    // The hash covers exactly what is stored: JSON as jsonb gives it back (no undefined), the instant as
    // timestamptz(3) holds it (a JS Date is whole milliseconds), set here rather than by the database's default.
    const targets = r.targetDatabases && r.targetDatabases.length > 0 ? [...r.targetDatabases] : undefined;
    const content = { policyId: policy.id, version, action: r.action, actor: r.actor, actorTokenId: r.actorTokenId,
      reason: r.reason, settings: stored(r.settings), changes: stored(r.changes), statements: stored(r.statements),
      createdAt: new Date(), targetDatabases: targets, ...(r.objects ? { objects: stored(r.objects) } : {}) };
    const prev = policy.version === 0 ? null
      : await tx.auditPolicyRevision.findUnique({ where: { policyId_version: { policyId: policy.id, version: policy.version } },
        select: { contentHash: true } });
    const prevHash = prev?.contentHash ?? GENESIS_HASH;
    const settings = content.settings as Prisma.InputJsonValue;
    const objects = 'objects' in content ? { objects: content.objects as Prisma.InputJsonValue } : {};
    const { objects: _o, ...scalars } = content as typeof content & { objects?: unknown };
    const revision = await tx.auditPolicyRevision.create({ data: { ...scalars, settings,
      changes: content.changes as Prisma.InputJsonValue, statements: content.statements as Prisma.InputJsonValue,
      ...objects, prevHash, contentHash: revisionHash(prevHash, content) } });
    const updated = await tx.auditPolicy.update({ where: { id: policy.id },
      data: { version, enabled: r.enabled, settings, ...objects, updatedAt: revision.createdAt, updatedBy: r.actor,
        ...(r.targetDatabases !== undefined ? { targetDatabases: [...r.targetDatabases] } : {}) } });
    return { policy: toPolicy(updated), revision: toRevision(revision) };
  }

  async revisionById(id: string): Promise<RevisionRow | null> {
    const r = await this.db.auditPolicyRevision.findUnique({ where: { id } });
    return r ? toRevision(r) : null;
  }

  /** Every revision of a policy with its hashes, oldest first: what the chain is verified over. */
  async chain(policyId: string): Promise<ChainRevision[]> {
    return this.db.auditPolicyRevision.findMany({ where: { policyId }, orderBy: { version: 'asc' },
      select: { policyId: true, version: true, action: true, actor: true, actorTokenId: true, reason: true, settings: true,
        changes: true, statements: true, createdAt: true, contentHash: true, prevHash: true, targetDatabases: true, objects: true } });
  }

  /** Policies that have a history (of one service, or all), in a stable order. */
  async policiesWithHistory(serviceId: string | null): Promise<PolicyRow[]> {
    const rows = await this.db.auditPolicy.findMany({ where: { version: { gt: 0 }, ...(serviceId ? { serviceId } : {}) },
      orderBy: [{ serviceId: 'asc' }, { database: 'asc' }, { role: 'asc' }] });
    return rows.map(toPolicy);
  }

  /** Every enabled policy, by service: what the drift monitor checks (policy.drift-monitor.ts). */
  async enabledPolicies(): Promise<PolicyRow[]> {
    const rows = await this.db.auditPolicy.findMany({ where: { enabled: true, version: { gt: 0 } },
      orderBy: [{ serviceId: 'asc' }, { database: 'asc' }] });
    return rows.map(toPolicy).filter((p) => p.settings !== null);
  }

  /** Newest first; `beforeVersion` pages past a cursor. One row more than asked tells if there is a next page. */
  async revisions(policyId: string, first: number, beforeVersion: number | null): Promise<{ rows: RevisionRow[]; hasNextPage: boolean; totalCount: number }> {
    const where = { policyId, ...(beforeVersion !== null ? { version: { lt: beforeVersion } } : {}) };
    const [rows, totalCount] = await Promise.all([
      this.db.auditPolicyRevision.findMany({ where, orderBy: { version: 'desc' }, take: first + 1 }),
      this.db.auditPolicyRevision.count({ where: { policyId } }),
    ]);
    return { rows: rows.slice(0, first).map(toRevision), hasNextPage: rows.length > first, totalCount };
  }

  /** Every policy of one service with a history, as the inventory lists them (one query: SERVICE_POLICIES). */
  async policySummaries(serviceId: string): Promise<PolicySummaryRow[]> {
    const [row] = await this.db.$queryRaw<{ related: unknown }[]>`
      SELECT ${SERVICE_POLICIES} AS related FROM (SELECT ${serviceId}::uuid AS id) page`;
    return policySummariesOf(row?.related);
  }
}

// ---- the policies of a page of services (policy.inventory.ts) ------------------------------------------------------

/**
 * What a page of services (TenancyRepository.servicePage) brings of each service's policies in the same SQL
 * statement: a scalar subquery over the page's row `page` (`page.id`: the service id) giving every policy row of
 * the service with a history (version > 0) as JSON, whole (so a column added later, e.g. `role`, comes along),
 * each with `last_action`, the action of the revision of its current version.
 */
export const SERVICE_POLICIES = Prisma.sql`(
  SELECT COALESCE(jsonb_agg(to_jsonb(ap) || jsonb_build_object('last_action', r.action) ORDER BY ap.database, ap.id), '[]'::jsonb)
    FROM audit_policy ap LEFT JOIN audit_policy_revision r ON r.policy_id = ap.id AND r.version = ap.version
   WHERE ap.service_id = page.id AND ap.version > 0)`;

/**
 * A policy row as the inventory lists it (no settings: those are the live server's, see auditPolicy): its scope
 * (`database`, `role`; '' = none), state, last revision and that revision's action (null if it is missing).
 */
export interface PolicySummaryRow {
  id: string; database: string; role: string; enabled: boolean; version: number; updatedAt: Date; updatedBy: string;
  lastAction: string | null;
}

/** The policy rows SERVICE_POLICIES gave for one service (JSON of whole rows), by database then role. */
export function policySummariesOf(related: unknown): PolicySummaryRow[] {
  const rows = Array.isArray(related) ? related as Record<string, unknown>[] : [];
  return rows.map((p) => ({
    id: String(p.id), database: String(p.database ?? ''),
    role: typeof p.role === 'string' ? p.role : '',
    enabled: p.enabled === true, version: Number(p.version), updatedAt: new Date(String(p.updated_at)), updatedBy: String(p.updated_by),
    lastAction: typeof p.last_action === 'string' ? p.last_action : null,
  })).sort((a, b) => compareText(a.database, b.database) || compareText(a.role, b.role));
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
