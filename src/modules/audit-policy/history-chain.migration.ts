/**
 * The data step of the revision hash chain, which SQL alone would have to re-implement (canonical JSON,
 * SHA-256 chaining): run by the migration runner inside the transaction of HASH_BEFORE_MIGRATION, just before
 * that migration makes the hash columns NOT NULL. Hashes every revision stored without hashes, per policy in
 * version order, each linked to the one before (version 1 to the genesis value), from the row as stored, so
 * histories written before the chain existed verify intact from then on. The step and the migration commit
 * together or not at all.
 */
import type { ClientBase } from 'pg';
import { ChainContent, chainHashes, GENESIS_HASH } from './policy.history-chain';

/** The migration that makes content_hash / prev_hash NOT NULL; this step runs first, in its transaction. */
export const HASH_BEFORE_MIGRATION = '20261130130001_revision_hash_required';

interface Row extends ChainContent { id: string; content_hash: string | null }

/** Returns how many revisions it hashed. */
export async function hashUnchainedRevisions(client: ClientBase): Promise<number> {
  const { rows } = await client.query<Row & { policy_id: string; actor_token_id: string | null; created_at: Date }>(
    `SELECT id::text AS id, policy_id::text AS policy_id, version, action, actor, actor_token_id::text AS actor_token_id,
            reason, settings, changes, statements, created_at, content_hash
       FROM "audit_policy_revision" ORDER BY policy_id, version FOR UPDATE`);
  const byPolicy = new Map<string, Row[]>();
  for (const r of rows) {
    const row: Row = { id: r.id, policyId: r.policy_id, version: r.version, action: r.action, actor: r.actor,
      actorTokenId: r.actor_token_id, reason: r.reason, settings: r.settings, changes: r.changes, statements: r.statements,
      createdAt: r.created_at, content_hash: r.content_hash };
    byPolicy.set(row.policyId, [...(byPolicy.get(row.policyId) ?? []), row]);
  }
  let hashed = 0;
  for (const revisions of byPolicy.values()) {
    // rows hashed already (written by this version of the gateway while the columns were still nullable) keep theirs
    let start = GENESIS_HASH;
    let i = 0;
    while (i < revisions.length && revisions[i]!.content_hash !== null) start = revisions[i++]!.content_hash!;
    const rest = revisions.slice(i);
    const links = chainHashes(rest, start);
    for (const [j, r] of rest.entries()) {
      await client.query(`UPDATE "audit_policy_revision" SET prev_hash = $2, content_hash = $3 WHERE id = $1::uuid`,
        [r.id, links[j]!.prevHash, links[j]!.contentHash]);
      hashed += 1;
    }
  }
  return hashed;
}
