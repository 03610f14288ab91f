/**
 * Idempotency of changes: a key is unique per project; the same request under a used key replays the first
 * result and applies nothing, a different request under it is refused with IDEMPOTENCY_KEY_REUSED.
 */
import { createHash } from 'node:crypto';
import { AuditErrorCode } from './audit-policy.errors';
import { ChangeRequest, ChangeResult, refused, SettingsSource, view } from './policy.change';
import type { PolicyRepository, StoredResult, Tx } from './policy.repository';

/** Identifies a request: the same key with a different request is refused. */
export function fingerprint(req: ChangeRequest): string {
  const s = req.settings ?? null;
  const settings = s && Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  // role and targetDatabases only when given, so a key used before they existed still matches its request
  const scope = [...(req.role != null ? [['role', req.role]] : []),
    ...(req.targetDatabases !== undefined ? [['targetDatabases', req.targetDatabases]] : [])];
  return createHash('sha256').update(JSON.stringify([req.operation, req.serviceId.toLowerCase(), req.database ?? null,
    settings, req.expectedVersion ?? null, req.reason ?? null, ...scope])).digest('hex');
}

/** What the key steps need of a request: who (the key is per project) and which mutation (a key is bound to one). */
type Keyed = Pick<ChangeRequest, 'principal'> & { operation: string };

export class Idempotency {
  constructor(private readonly policies: PolicyRepository) {}

  /** The answer to a request under a used key, or null when the key is new. Inside `tx` after lock(), race-free. */
  async replay(req: Keyed, key: string, requestHash: string, tx?: Tx): Promise<ChangeResult | null> {
    const record = await this.policies.findIdempotency(req.principal.projectId, key, tx);
    if (!record) return null;
    if (record.operation !== req.operation || record.requestHash !== requestHash) {
      return refused([{ code: AuditErrorCode.IDEMPOTENCY_KEY_REUSED,
        message: 'this idempotency key was already used for a different request', field: ['input', 'idempotencyKey'] }]);
    }
    const { policyId, revisionId, statements } = record.result;
    const policy = policyId ? await this.policies.findById(policyId) : null;
    const revision = revisionId ? await this.policies.revisionById(revisionId) : null;
    return { policy: policy && policy.settings ? view(policy, policy.settings, SettingsSource.LAST_APPLIED) : null, revision, statements, userErrors: [], plannedChanges: [] };
  }

  /** Serialises concurrent retries of one key until `tx` ends. */
  lock(tx: Tx, req: Keyed, key: string): Promise<void> {
    return this.policies.lockIdempotencyKey(tx, req.principal.projectId, key);
  }

  save(tx: Tx, req: Keyed, key: string, requestHash: string, result: StoredResult): Promise<void> {
    return this.policies.saveIdempotency(tx, req.principal.projectId, key, req.operation, requestHash, result);
  }
}
