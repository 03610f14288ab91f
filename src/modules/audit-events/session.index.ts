/**
 * How session events are stored: one index per UTC day (`pgaudit-sessions-YYYY.MM.DD`) beside the audit
 * event indices, with a strict template of its own, written with `create` only and deleted whole by the
 * same retention sweep as events (EventStore.expire). Their names never match the audit event pattern
 * (`pgaudit-events-*`), so `auditEvents` answers exactly as before. Pure: no I/O.
 */
import { BulkOp, DAILY_INDEX_SETTINGS, expiredDaily, IDENTITY_FIELDS, indexFor, INDEX_PREFIX, tiebreakOf } from './event.index';
import type { SessionEventDocument } from './session.document';

export const SESSION_INDEX_PREFIX = 'pgaudit-sessions-';
export const SESSION_INDEX_PATTERN = `${SESSION_INDEX_PREFIX}*`;
export const SESSION_TEMPLATE_NAME = 'pgaudit-sessions';

const keyword = { type: 'keyword' } as const;

export const SESSION_INDEX_TEMPLATE = {
  index_patterns: [SESSION_INDEX_PATTERN],
  priority: 100,
  template: {
    settings: DAILY_INDEX_SETTINGS,
    mappings: {
      dynamic: 'strict',
      properties: {
        ...IDENTITY_FIELDS,
        kind: keyword, user: keyword, database: keyword, remoteHost: keyword, remotePort: { type: 'integer' }, applicationName: keyword,
        sessionId: keyword, sessionLineNum: { type: 'long' }, durationMs: { type: 'long' }, failureReason: keyword,
        replication: { type: 'boolean' }, sslProtocol: keyword, sslCipher: keyword, sslBits: { type: 'integer' },
        message: { type: 'keyword', index: false, doc_values: false },
      },
    },
  },
} as const;

/** The daily session index of a time (the day of the event, as for audit events). */
export function sessionIndexFor(timestamp: string): string {
  return SESSION_INDEX_PREFIX + indexFor(timestamp).slice(INDEX_PREFIX.length);
}

/** A session event's bulk write: always `create`, into its daily index, under its id (never replaces a stored one). */
export function sessionBulkOp(doc: SessionEventDocument): BulkOp {
  const index = sessionIndexFor(doc.timestamp);
  const source = `{"tiebreak":${tiebreakOf(doc.id)},${JSON.stringify(doc).slice(1)}`;
  return { id: doc.id, ndjson: `{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(doc.id)}}}\n${source}\n` };
}

/** Daily session indices entirely older than `retentionDays` before `now` (by name), to delete whole. */
export function expiredSessionIndices(indices: readonly string[], retentionDays: number, now: Date): string[] {
  return expiredDaily(SESSION_INDEX_PREFIX, indices, retentionDays, now);
}
