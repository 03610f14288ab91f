/**
 * The hash chain over a policy's revisions (pure: no I/O). Each revision's `contentHash` is SHA-256 (hex) over
 * the previous revision's hash (GENESIS_HASH for version 1) and the canonical serialization of the revision as
 * stored; `prevHash` repeats the previous hash, so a deletion or a re-link shows even where contents are intact.
 * What it proves and what it does not: README.md, "A history that proves it was not edited".
 */
import { createHash } from 'node:crypto';

/** What version 1 links to. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed content of one revision, exactly as stored. */
export interface ChainContent {
  policyId: string; version: number; action: string; actor: string; actorTokenId: string | null; reason: string | null;
  settings: unknown; changes: unknown; statements: unknown; createdAt: Date;
  /** A service-level policy's target databases; hashed only when present, so revisions from before it hash as they did. */
  targetDatabases?: unknown;
  /** The object-audit state of an OBJECT_AUDIT_CONFIGURED revision; absent/null for every other (and every older) revision. */
  objects?: unknown;
}

export interface ChainRevision extends ChainContent { contentHash: string | null; prevHash: string | null }

/** Why a revision breaks the chain (the first one found, in version order). */
export enum HistoryProblem {
  /** A revision's content no longer hashes to its stored hash (edited in place). */
  CONTENT_CHANGED = 'CONTENT_CHANGED',
  /** A revision does not link to the hash of the revision before it (or version 1 to the genesis value). */
  LINK_BROKEN = 'LINK_BROKEN',
  /** A version is absent: deleted, or the history ends before the policy's current version. */
  MISSING_VERSION = 'MISSING_VERSION',
}

export interface ChainVerdict {
  intact: boolean;
  /** Revisions examined. */
  revisions: number;
  /** The last revision's stored hash (null without revisions): record it elsewhere to detect a recomputed chain. */
  headHash: string | null;
  firstBroken: { version: number; problem: HistoryProblem } | null;
}

/** JSON with object keys sorted at every depth; a Date as ISO 8601 with milliseconds. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** `objects` is part of the content only when non-null: every revision without it hashes as it always did. */
export function canonicalContent(r: ChainContent): string {
  return canonicalJson({
    policyId: r.policyId, version: r.version, action: r.action, actor: r.actor, actorTokenId: r.actorTokenId ?? null,
    reason: r.reason ?? null, settings: r.settings ?? null, changes: r.changes ?? null, statements: r.statements ?? null,
    createdAt: r.createdAt, targetDatabases: r.targetDatabases ?? undefined,
    ...(r.objects !== undefined && r.objects !== null ? { objects: r.objects } : {}),
  });
}

export function revisionHash(prevHash: string, r: ChainContent): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalContent(r)).digest('hex');
}

/**
 * Checks one policy's revisions (any order) from version 1 up. `currentVersion`, the policy's own version,
 * also catches the removal of the newest revisions (a chain alone cannot tell where it should end).
 */
export function verifyChain(revisions: readonly ChainRevision[], currentVersion?: number): ChainVerdict {
  const sorted = [...revisions].sort((a, b) => a.version - b.version);
  const headHash = sorted.at(-1)?.contentHash ?? null;
  const broken = (version: number, problem: HistoryProblem): ChainVerdict =>
    ({ intact: false, revisions: sorted.length, headHash, firstBroken: { version, problem } });
  let prev = GENESIS_HASH;
  let expected = 1;
  for (const r of sorted) {
    if (r.version !== expected) return broken(expected, HistoryProblem.MISSING_VERSION);
    if (r.prevHash !== prev) return broken(r.version, HistoryProblem.LINK_BROKEN);
    if (r.contentHash === null || r.contentHash !== revisionHash(prev, r)) return broken(r.version, HistoryProblem.CONTENT_CHANGED);
    prev = r.contentHash;
    expected += 1;
  }
  if (currentVersion !== undefined && currentVersion >= expected) return broken(expected, HistoryProblem.MISSING_VERSION);
  return { intact: true, revisions: sorted.length, headHash, firstBroken: null };
}

/** The hashes of revisions given in version order (the migration's backfill of rows stored without them). */
export function chainHashes(revisions: readonly ChainContent[], start = GENESIS_HASH): { prevHash: string; contentHash: string }[] {
  let prev = start;
  return revisions.map((r) => {
    const contentHash = revisionHash(prev, r);
    const link = { prevHash: prev, contentHash };
    prev = contentHash;
    return link;
  });
}
