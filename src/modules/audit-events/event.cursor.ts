/**
 * Opaque page cursors for auditEvents: the sort values of the last event of a page (time in epoch
 * millis, then the event id as a tiebreaker), used with search_after. Events that arrive later sort
 * before or after the cursor but never move it, so paging never skips or repeats an event.
 */
export interface EventCursor { timestampMs: number; id: string }

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function encodeEventCursor(c: EventCursor): string {
  return Buffer.from(`ev1:${c.timestampMs}:${c.id}`, 'utf8').toString('base64url');
}

/** null for anything that is not a cursor this code made. */
export function decodeEventCursor(cursor: string): EventCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  const m = /^ev1:(-?\d{1,16}):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || !ID.test(m[2]!)) return null;
  const timestampMs = Number(m[1]);
  return Number.isSafeInteger(timestampMs) ? { timestampMs, id: m[2]! } : null;
}
