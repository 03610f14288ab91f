/**
 * Resume tokens of an export: opaque, signed (HMAC-SHA-256), bound to one service and one filter. A token says
 * where the export stands: the point in time it reads (PIT id, null once freed) and the sort values of the last
 * event written ([timestamp ms, tiebreak, id], a total order), so a resumed export continues exactly after it.
 * Pure: the key is given (export.service.ts derives it from the master keys).
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from './audit-events.errors';
import type { AuditEventFilter } from './audit-events.types';

/** The sort values of one event in export order: timestamp (epoch ms), tiebreak (-1 when the document has none), id. */
export type ExportPosition = [number, number, string];

export interface ExportState {
  serviceId: string;
  /** filterHash of the export's filter. */
  filter: string;
  /** The point in time being read; null when the export has none open (it is opened again on resume). */
  pit: string | null;
  /** The last event written; null: before the first. */
  after: ExportPosition | null;
  /** Events written so far, over every request of this export. */
  events: number;
}

/** The largest token accepted (a PIT id is a few hundred characters). */
export const MAX_TOKEN_CHARS = 4096;

/** The filter in one canonical form (lists sorted and distinct, times as ISO), hashed: what a token is bound to. */
export function filterHash(f: AuditEventFilter): string {
  const list = (v: readonly string[] | null | undefined) => (v && v.length ? [...new Set(v)].sort() : null);
  const time = (d: Date | null | undefined) => (d ? (Number.isNaN(d.getTime()) ? 'invalid' : d.toISOString()) : null);
  const canonical = {
    from: time(f.from), to: time(f.to), databases: list(f.databases), users: list(f.users), classes: list(f.classes),
    commands: list(f.commands), objectNames: list(f.objectNames), auditTypes: list(f.auditTypes), sessionId: f.sessionId || null,
    text: f.text?.trim() || null,
    // fields added to the filter later take part too, in key order
    ...Object.fromEntries(Object.entries(f).filter(([k]) => !KNOWN.has(k)).sort(([a], [b]) => a.localeCompare(b))),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 22);
}
const KNOWN = new Set(['from', 'to', 'databases', 'users', 'classes', 'commands', 'objectNames', 'auditTypes', 'sessionId', 'text']);

/** The signing key of resume tokens from a master key (HKDF), or a random one for a process without master keys. */
export function tokenKey(masterKey: Buffer | null): Buffer {
  if (!masterKey) return randomBytes(32);
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'pg-audit-gateway export resume token v1', 32));
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function encodeExportToken(key: Buffer, s: ExportState): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, s: s.serviceId, f: s.filter, p: s.pit, a: s.after, n: s.events })).toString('base64url');
  return `${payload}.${sign(key, payload)}`;
}

const bad = () => invalidArgument('resume is not a resume token of this export: pass a token an export of this service and filter returned', 'resume');

/**
 * The state of a token this gateway signed, for this service and filter; INVALID_ARGUMENT (`resume`) for
 * anything else: malformed, forged, signed with another key, or made for another service or filter.
 */
export function decodeExportToken(key: Buffer, token: string, serviceId: string, filter: string): ExportState {
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/.test(token)) throw bad();
  const [payload, mac] = token.split('.') as [string, string];
  const expected = Buffer.from(sign(key, payload));
  if (!timingSafeEqual(expected, Buffer.from(mac))) throw bad();
  let p: { v?: unknown; s?: unknown; f?: unknown; p?: unknown; a?: unknown; n?: unknown };
  try { p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')); } catch { throw bad(); }
  const a = p.a;
  const positionOk = a === null || (Array.isArray(a) && a.length === 3 && Number.isSafeInteger(a[0]) && Number.isSafeInteger(a[1]) && typeof a[2] === 'string');
  if (p.v !== 1 || p.s !== serviceId || p.f !== filter || !(p.p === null || typeof p.p === 'string') || !positionOk
    || !Number.isSafeInteger(p.n) || (p.n as number) < 0) throw bad();
  return { serviceId, filter, pit: p.p as string | null, after: a as ExportPosition | null, events: p.n as number };
}
