/**
 * setObjectAudit: pgaudit object audit of one database, as a change of that database's policy row. The pipeline
 * is the one of enable/configure/disable (policy.service.ts): the service visible to the caller, an idempotency
 * replay, the live facts and the four entitlement checks, pgaudit loaded, the database exists; then in ONE gateway
 * transaction, the policy row locked: expectedVersion, and on ONE connection to the database, acting as the
 * caller's role, in ONE target transaction: checks (auditor role, relations, columns; all reported at once),
 * CREATE ROLE, GRANT/REVOKE, ALTER DATABASE ... pgaudit.role, read back; the revision is appended, then the target
 * transaction commits, then the gateway's. Anything else rolls both back: a refusal changes nothing.
 * The design: README.md, "Object audit".
 */
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../../../base/config';
import type { Logger } from '../../../base/logger';
import { actorName, Principal } from '../../tenancy/principal';
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import type { TenancyService } from '../../tenancy/tenancy.service';
import { AuditErrorCode, AuditPolicyError, AuditUserError, clip, isUnreachable, refuse, serverText } from '../audit-policy.errors';
import { ChangeResult, effectiveSettings, isDatabaseName, refused, SettingsSource, view } from '../policy.change';
import type { Idempotency } from '../policy.idempotency';
import type { PolicyRepository, PolicyRow, Tx } from '../policy.repository';
import { AuditSettingsValue, diffSettings } from '../settings/settings.model';
import type { TargetLease } from '../target/target.lease';
import type { ServerFacts, TargetSession } from '../target/target.session';
import { AUDITABLE_RELKINDS, auditorGrants, auditorRoleFacts, relationKey, resolveRelations } from './object-audit.catalog';
import {
  createRole, DEFAULT_AUDITOR_ROLE, desiredAtoms, GrantAtom, grantChanges, OBJECT_AUDIT_ACTION, ObjectAuditEntry, ObjectAuditState,
  planDatabaseRole, planGrants, reservedRoleName, sameAtoms, stateOf,
} from './object-audit.plan';
import { canonicalJson } from '../policy.history-chain';

export const OBJECT_AUDIT_OPERATION = 'setObjectAudit';

export interface ObjectAuditRequest {
  principal: Principal;
  serviceId: string;
  database: string;
  /** null/absent: the auditor role object audit uses in that database now, else pgaudit_auditor. */
  auditorRole?: string | null;
  objects: ObjectAuditEntry[];
  expectedVersion?: number | null;
  reason?: string | null;
  idempotencyKey?: string | null;
  dryRun?: boolean | null;
  logger?: Logger;
}

/** Object audit as shown: the state, and whether it was read from the server just now. */
export interface ObjectAuditView extends ObjectAuditState { source: SettingsSource | null }

export interface ObjectAuditDeps {
  tenancy: TenancyService;
  policies: PolicyRepository;
  idempotency: Idempotency;
  config: Pick<GatewayConfig, 'targetStatementTimeoutMs' | 'applyReadbackTimeoutMs'>;
  logger: Logger;
  /** PolicyService's four entitlement checks and pgaudit loaded (throws the refusal). */
  checkServer: (service: ServiceRecord, req: { principal: Principal; operation: string }, facts: ServerFacts) => void;
}

/** Identifies a request under an idempotency key. */
export function objectAuditFingerprint(req: ObjectAuditRequest): string {
  return createHash('sha256').update(canonicalJson([OBJECT_AUDIT_OPERATION, req.serviceId.toLowerCase(), req.database,
    req.auditorRole ?? null, req.objects.map((o) => ({ ...o, columns: o.columns ?? null })), req.expectedVersion ?? null,
    req.reason ?? null])).digest('hex');
}

const objectField = (i: number, ...rest: (string | number)[]) => ['input', 'objects', String(i), ...rest.map(String)];

export class ObjectAuditService {
  constructor(private readonly deps: ObjectAuditDeps) {}

  async set(req: ObjectAuditRequest, targets: TargetLease): Promise<ChangeResult> {
    const { tenancy, policies, idempotency, config } = this.deps;
    const keyed = { principal: req.principal, operation: OBJECT_AUDIT_OPERATION };
    const service = await tenancy.serviceFor(req.principal, req.serviceId);
    const key = req.dryRun ? null : (req.idempotencyKey ?? null);
    const requestHash = objectAuditFingerprint(req);
    if (key) {
      const replay = await idempotency.replay(keyed, key, requestHash);
      if (replay) return replay;
    }
    try {
      return await targets.with(service, async (session) => {
        const facts = await session.facts();
        this.deps.checkServer(service, keyed, facts);
        if (!isDatabaseName(req.database) || !(await session.databaseExists(req.database))) {
          throw refuse(AuditErrorCode.DATABASE_NOT_FOUND, `database "${clip(req.database)}" does not exist on this service`, ['input', 'database']);
        }
        return policies.transaction(async (tx) => {
          if (key) {
            await idempotency.lock(tx, keyed, key);
            const replay = await idempotency.replay(keyed, key, requestHash, tx);
            if (replay) return replay;
          }
          return this.setLocked(req, service, targets, tx, key, requestHash);
        }, config.targetStatementTimeoutMs * (8 + Math.ceil(req.objects.length / 4)) + config.applyReadbackTimeoutMs);
      });
    } catch (err) {
      if (err instanceof AuditPolicyError) return refused(err.userErrors);
      throw err;
    }
  }

  /** The policy row locked: version check, then everything on one connection to the database. */
  private async setLocked(req: ObjectAuditRequest, service: ServiceRecord, targets: TargetLease, tx: Tx,
    key: string | null, requestHash: string): Promise<ChangeResult> {
    const { policies } = this.deps;
    const database = req.database;
    const policy = req.dryRun ? (await policies.find(service.id, database, '', tx)) ?? null : await policies.lock(tx, service.id, database);
    const version = policy?.version ?? 0;
    if (req.expectedVersion != null && req.expectedVersion !== version) {
      throw refuse(AuditErrorCode.VERSION_CONFLICT,
        `the policy is at version ${version}, not ${req.expectedVersion}: read it again and retry`, ['input', 'expectedVersion']);
    }
    const auditorRole = req.auditorRole ?? policy?.objects?.auditorRole ?? DEFAULT_AUDITOR_ROLE;
    return targets.withDatabase(service, database, async (db) => {
      await db.actAs(req.principal.databaseRole);
      const roleExists = await this.check(req, db, auditorRole);
      const current = roleExists ? await auditorGrants(db, auditorRole) : [];
      const desired = desiredAtoms(req.objects);
      const serviceValues = await db.serviceSettings();
      const dbValues = await db.databaseSettings(database);
      const before = effectiveSettings(serviceValues, dbValues);
      const removing = desired.length === 0;
      const statements = [
        ...(roleExists || removing ? [] : [createRole(auditorRole)]),
        ...planGrants(auditorRole, current, desired),
        ...planDatabaseRole(database, auditorRole, removing, before.role, dbValues.get('pgaudit.role') ?? null),
      ];
      const shown = policy && policy.settings ? view(policy, before, SettingsSource.SERVER) : null;
      if (req.dryRun) return { policy: shown, revision: null, statements, userErrors: [], plannedChanges: [] };

      const stateBefore = stateOf(auditorRole, current);
      const recorded = policy!.objects ? canonicalJson(policy!.objects) === canonicalJson(stateBefore) : stateBefore.objects.length === 0;
      if (statements.length === 0 && recorded) {
        // nothing to change and nothing new to record (also: [] where object audit never was): no revision, but the key is spent
        if (key) await this.deps.idempotency.save(tx, { principal: req.principal, operation: OBJECT_AUDIT_OPERATION }, key, requestHash,
          { policyId: policy!.id, revisionId: null, statements: [] });
        return { policy: shown, revision: null, statements: [], userErrors: [], plannedChanges: [] };
      }
      return this.apply(req, db, tx, policy!, { auditorRole, statements, desired, current, before, removing, key, requestHash });
    });
  }

  /** Auditor role, relations and columns, DELETE with columns: every problem at once, before anything runs. Returns whether the role exists. */
  private async check(req: ObjectAuditRequest, db: TargetSession, auditorRole: string): Promise<boolean> {
    const problems: AuditUserError[] = [];
    const roleField = ['input', 'auditorRole'];
    const invalidRole = (why: string) => problems.push({ code: AuditErrorCode.INVALID_SETTING,
      message: `auditor role "${clip(auditorRole)}" ${why}`, field: roleField });
    const role = await auditorRoleFacts(db, auditorRole);
    if (reservedRoleName(auditorRole)) invalidRole('is a reserved role name (pg_*, public, none, current_user, ...)');
    else if (auditorRole === req.principal.databaseRole) invalidRole('is the role the gateway acts as: the auditor must be a role of its own');
    else if (role?.superuser) invalidRole('is a superuser: the auditor must be a NOLOGIN role without privileges of its own');
    else if (role?.canLogin) invalidRole('can log in: the auditor must be a NOLOGIN role, so that no session uses its grants');
    req.objects.forEach((o, i) => {
      if (o.privileges.includes('DELETE') && o.columns && o.columns.length > 0) {
        problems.push({ code: AuditErrorCode.INVALID_SETTING, message: `${clip(o.schema)}.${clip(o.relation)}: DELETE applies to whole rows and takes no columns`,
          field: objectField(i, 'columns') });
      }
    });
    const resolved = await resolveRelations(db, req.objects);
    req.objects.forEach((o, i) => {
      const rel = resolved.get(relationKey(o));
      if (!rel || rel.kind === null || !(AUDITABLE_RELKINDS as readonly string[]).includes(rel.kind)) {
        problems.push({ code: AuditErrorCode.RELATION_NOT_FOUND, field: objectField(i, 'relation'), message: rel?.kind
          ? `"${clip(o.schema)}"."${clip(o.relation)}" is not a table, view, materialized view or partitioned table`
          : `relation "${clip(o.schema)}"."${clip(o.relation)}" does not exist in database "${clip(req.database)}"` });
        return;
      }
      (o.columns ?? []).forEach((c, j) => {
        if (!rel.columns.has(c)) {
          problems.push({ code: AuditErrorCode.COLUMN_NOT_FOUND, field: objectField(i, 'columns', j),
            message: `column "${clip(c)}" does not exist in "${clip(o.schema)}"."${clip(o.relation)}"` });
        }
      });
    });
    if (problems.length > 0) throw new AuditPolicyError(problems);
    return role !== null;
  }

  /**
   * One target transaction: the statements, the read back (grants and pgaudit.role exactly as desired), the
   * revision in the gateway transaction, then COMMIT on the target. Any failure: ROLLBACK, APPLY_FAILED.
   */
  private async apply(req: ObjectAuditRequest, db: TargetSession, tx: Tx, policy: PolicyRow, p: {
    auditorRole: string; statements: string[]; desired: GrantAtom[]; current: GrantAtom[];
    before: AuditSettingsValue; removing: boolean; key: string | null; requestHash: string;
  }): Promise<ChangeResult> {
    const logger = req.logger ?? this.deps.logger;
    const rollback = () => db.run('ROLLBACK').catch((e: Error) => logger.error('rollback failed', { error: e.message }));
    let grants: GrantAtom[];
    let after: AuditSettingsValue;
    await db.run('BEGIN');
    try {
      for (const sql of p.statements) await db.run(sql);
      grants = await auditorGrants(db, p.auditorRole);
      const dbValues = await db.databaseSettings(req.database);
      after = effectiveSettings(await db.serviceSettings(), dbValues);
      const mismatch: string[] = [];
      if (!sameAtoms(grants, p.desired)) mismatch.push(`the auditor role's grants read back are not the ones asked for`);
      if (!p.removing && after.role !== p.auditorRole) mismatch.push(`pgaudit.role is '${clip(after.role ?? '')}', expected '${clip(p.auditorRole)}'`);
      if (p.removing && dbValues.get('pgaudit.role') === p.auditorRole) mismatch.push(`pgaudit.role is still '${clip(p.auditorRole)}' on the database`);
      if (mismatch.length > 0) {
        throw refuse(AuditErrorCode.APPLY_FAILED, `the service did not take the change: ${mismatch.join('; ')}; nothing was changed`);
      }
    } catch (err) {
      await rollback();
      if (err instanceof AuditPolicyError) throw err;
      const message = (err as { message?: string }).message ?? 'unknown error';
      logger.warn('object audit apply failed', { serviceId: policy.serviceId, error: message });
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service refused the change (${serverText(message)}); nothing was changed`);
    }
    // the history first (in the gateway transaction), then the target's COMMIT; the gateway commits when this returns
    let result: ChangeResult;
    try {
      const { policy: updated, revision } = await this.deps.policies.appendRevision(tx, policy, {
        action: OBJECT_AUDIT_ACTION, actor: actorName(req.principal), actorTokenId: req.principal.tokenId, reason: req.reason ?? null,
        enabled: policy.enabled, settings: after, changes: [...diffSettings(p.before, after), ...grantChanges(p.current, grants)],
        statements: p.statements, objects: stateOf(p.auditorRole, grants),
      });
      if (p.key) {
        await this.deps.idempotency.save(tx, { principal: req.principal, operation: OBJECT_AUDIT_OPERATION }, p.key, p.requestHash,
          { policyId: updated.id, revisionId: revision.id, statements: p.statements });
      }
      result = { policy: view(updated, after, SettingsSource.SERVER), revision, statements: p.statements, userErrors: [], plannedChanges: [] };
    } catch (err) {
      await rollback();
      throw err;
    }
    try {
      await db.run('COMMIT');
    } catch (err) {
      throw refuse(AuditErrorCode.APPLY_FAILED, `the service did not commit the change (${serverText((err as Error).message ?? '')}); nothing was changed`);
    }
    logger.info('object audit changed', { serviceId: policy.serviceId, database: req.database, action: result.revision!.action,
      version: result.revision!.version, actor: result.revision!.actor });
    return result;
  }

  /** The object audit of a policy: the auditor's grants read from the database now, or the last applied if unreachable. */
  async current(principal: Principal, policyId: string, targets: TargetLease): Promise<ObjectAuditView | null> {
    const row = await this.deps.policies.findById(policyId);
    if (!row || !row.objects || !row.database) return null;
    const stored = row.objects;
    const service = await this.deps.tenancy.serviceFor(principal, row.serviceId);
    try {
      const grants = await targets.with(service, () => targets.withDatabase(service, row.database, (db) => auditorGrants(db, stored.auditorRole)));
      return { ...stateOf(stored.auditorRole, grants), source: SettingsSource.SERVER };
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      return { ...stored, source: SettingsSource.LAST_APPLIED };
    }
  }
}
