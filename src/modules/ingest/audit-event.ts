/**
 * One pgaudit record in one log record -> the event document the ingester stores, with a deterministic
 * id so re-reading a file, resuming from a checkpoint or retrying a bulk request finds the same document
 * instead of adding a copy (writes are `create`: the first document of an id stays). Pure: no I/O.
 *
 * Identity, in order of preference, each kind in a namespace of its own so that no record of one kind
 * can take the id of a record of another:
 * - csvlog / jsonlog files: (serviceId, session_id, session_line_num). PostgreSQL documents this pair as
 *   unique per log line; csvlog and jsonlog number lines with the same counter, so both give the same id.
 *   Only PostgreSQL writes these files and it quotes every field, so no client can choose these values.
 * - stderr / managed streams with %c and %l in log_line_prefix: (serviceId, source, %c, time, %l). The
 *   source (`stream:` + the --source name) is part of the key: a line of one stream can never take the id
 *   of an event of another stream or of a log file, whatever %c/%l it claims (a client can forge whole
 *   stderr lines: README, "What stderr and managed input can be trusted for"). The time is too: a line
 *   sent again has the same one, so replays still find their document, while a forged line can take the id
 *   of a later real line of its stream only by guessing that line's exact time. %l also counts
 *   DETAIL/HINT/STATEMENT lines, so it numbers lines differently from csvlog anyway.
 * - anything else (the default stderr prefix, managed NDJSON without %c/%l): the position the record
 *   ends at, (serviceId, source, endOffset). `source` must name the file/stream stably (`file:` + the log
 *   file name plus something that changes when the file is truncated or reused, or `stream:` + name), or
 *   ids collide/duplicate. Positions cannot be forged: each record has its own.
 */
import * as crypto from 'node:crypto';
import type { AuditEvent } from '../audit-events/event.document';
import type { LogRecord } from './log-record';
import { parseAuditMessage, type PgauditRecord } from './pgaudit-record';


export const EVENT_ID_LENGTH = 32;

/**
 * SHA-256 of a string's UTF-8 bytes, base64url. crypto.hash (Node 20.12+) is the one-shot form of
 * createHash().update().digest() with the same output, without building a Hash stream object per call
 * (over twice as fast, and less garbage); older Node versions get createHash.
 */
const sha256Base64url: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'base64url')
  : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('base64url');

/**
 * The id of [namespace, serviceId, key, n]: the hash of its JSON. JSON of an array is an injective
 * encoding: no separator inside a value can shift the boundaries. `n` is a safe integer.
 */
function digest(namespace: string, serviceId: string, key: string, n: number): string {
  return sha256Base64url(idJson(namespace, serviceId, key, n)).slice(0, EVENT_ID_LENGTH);
}

/** The JSON of [namespace, serviceId] without its closing bracket, from the last call (ids come one service at a time). */
let lastJsonHead = { namespace: '', serviceId: '', json: '' };

/**
 * JSON.stringify([namespace, serviceId, key, n]), the same characters, built from the cached JSON of
 * the first two entries (`${n}` is JSON's form of a safe integer too).
 */
function idJson(namespace: string, serviceId: string, key: string, n: number): string {
  if (lastJsonHead.namespace !== namespace || lastJsonHead.serviceId !== serviceId) {
    lastJsonHead = { namespace, serviceId, json: JSON.stringify([namespace, serviceId]).slice(0, -1) };
  }
  return `${lastJsonHead.json},${JSON.stringify(key)},${n}]`;
}

/**
 * The document id of the csvlog/jsonlog line (sessionId, sessionLineNum) of a service: 32 base64url
 * characters (192 bits of SHA-256).
 */
export function eventId(serviceId: string, sessionId: string, sessionLineNum: number): string {
  if (typeof serviceId !== 'string' || serviceId === '') throw new TypeError('eventId: serviceId is required');
  if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('eventId: sessionId is required');
  if (!Number.isSafeInteger(sessionLineNum)) throw new TypeError('eventId: sessionLineNum must be a safe integer');
  return digest('pgaudit-event/v1', serviceId, sessionId, sessionLineNum);
}

/**
 * The document id of the stream line (%c, %l) of `source` logged at `timestamp` (see the file comment).
 * (The namespace `pgaudit-event/stderr-l/v1`, (serviceId, %c, %l) alone, is retired.)
 */
export function streamEventId(serviceId: string, source: string, sessionId: string, sessionLineNum: number, timestamp: string): string {
  if (typeof serviceId !== 'string' || serviceId === '') throw new TypeError('streamEventId: serviceId is required');
  if (typeof source !== 'string' || source === '') throw new TypeError('streamEventId: source is required');
  if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('streamEventId: sessionId is required');
  if (!Number.isSafeInteger(sessionLineNum)) throw new TypeError('streamEventId: sessionLineNum must be a safe integer');
  if (typeof timestamp !== 'string' || timestamp === '') throw new TypeError('streamEventId: timestamp is required');
  return digest('pgaudit-event/stream-session/v2', serviceId, JSON.stringify([source, sessionId, timestamp]), sessionLineNum);
}

/** The document id of the record that ends at byte `endOffset` of `source` (for records without a session identity). */
export function positionEventId(serviceId: string, source: string, endOffset: number): string {
  if (typeof serviceId !== 'string' || serviceId === '') throw new TypeError('positionEventId: serviceId is required');
  if (typeof source !== 'string' || source === '') throw new TypeError('positionEventId: source is required');
  if (!Number.isSafeInteger(endOffset) || endOffset < 0) throw new TypeError('positionEventId: endOffset must be a non-negative safe integer');
  return digest('pgaudit-event/position/v1', serviceId, source, endOffset);
}

/**
 * The id toAuditEvent gives `rec`, or null when it needs a `source` and none was given (a stderr/managed
 * record always does; a file record only without a session identity).
 */
export function recordEventId(serviceId: string, rec: LogRecord, source?: string): string | null {
  if (rec.sessionId && rec.sessionLineNum !== null && Number.isSafeInteger(rec.sessionLineNum)) {
    if (rec.format !== 'stderr') return eventId(serviceId, rec.sessionId, rec.sessionLineNum);
    return source ? streamEventId(serviceId, source, rec.sessionId, rec.sessionLineNum, rec.timestamp) : null;
  }
  return source ? positionEventId(serviceId, source, rec.endOffset) : null;
}

/**
 * The event for one audit record. `source` (the file/stream name) is needed only for records without a
 * session identity (see the file comment); without it such a record throws, since storing it under a
 * made-up id would duplicate it on every re-read.
 */
export function toAuditEvent(serviceId: string, rec: LogRecord, audit: PgauditRecord, source?: string): AuditEvent {
  return buildEvent(serviceId, rec, audit, audit.parameters === null ? null : [...audit.parameters], source);
}

/** toAuditEvent with the event's `parameters` given (toAuditEvent copies the record's; auditEventOf need not). */
function buildEvent(serviceId: string, rec: LogRecord, audit: PgauditRecord, parameters: string[] | null, source?: string): AuditEvent {
  const id = recordEventId(serviceId, rec, source);
  if (id === null) throw new Error('toAuditEvent: the record has no session id/line number, or comes from a stream; pass the source (file or stream) name');
  return {
    id,
    serviceId,
    timestamp: rec.timestamp,
    auditType: audit.auditType,
    statementId: audit.statementId,
    substatementId: audit.substatementId,
    class: audit.class,
    command: audit.command,
    objectType: audit.objectType,
    objectName: audit.objectName,
    statement: audit.statement,
    statementStatus: audit.statementStatus,
    parameters,
    rows: audit.rows,
    user: rec.user,
    database: rec.database,
    sessionId: rec.sessionId,
    sessionLineNum: rec.sessionLineNum,
    applicationName: rec.applicationName,
    remoteHost: rec.remoteHost,
  };
}

export type AuditExtraction =
  | { kind: 'event'; event: AuditEvent }
  /** Not a pgaudit message: nothing to index. */
  | { kind: 'not-audit' }
  /** Looks like pgaudit but is not a well-formed record, or was not written by pgaudit: count/report it. */
  | { kind: 'rejected'; code: 'malformed_audit' | 'not_from_pgaudit'; reason: string };

/**
 * The whole per-record step: parse the message, refuse look-alikes, build the event. An `AUDIT: `
 * message with a CONTEXT or STATEMENT attached is rejected: pgaudit hides both on its own messages, so
 * such a line comes from elsewhere (`RAISE LOG 'AUDIT: SESSION,...'` in any function a user can run)
 * and would otherwise be a forged audit event. Throws only as toAuditEvent does (no identity, no source).
 */
export function auditEventOf(serviceId: string, rec: LogRecord, source?: string): AuditExtraction {
  const parsed = parseAuditMessage(rec.message);
  if (parsed === null) return { kind: 'not-audit' };
  if (!parsed.ok) return { kind: 'rejected', code: 'malformed_audit', reason: parsed.reason };
  if (rec.context !== null || rec.query !== null) {
    return { kind: 'rejected', code: 'not_from_pgaudit', reason: 'AUDIT message with a CONTEXT or STATEMENT attached: not written by pgaudit (e.g. RAISE LOG)' };
  }
  // The parsed record is this call's own, so the event may take its parameters array without a copy.
  return { kind: 'event', event: buildEvent(serviceId, rec, parsed.record, parsed.record.parameters, source) };
}
