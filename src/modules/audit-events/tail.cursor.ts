/**
 * Live-tail cursors: the position of a tail in the order events were indexed, (ingestedAt, tiebreak) —
 * the ingester's clock when it encoded the event (milliseconds), then tiebreakOf(id). Pure: no I/O.
 * A cursor means "every event whose key is at or before this one came before". The tiebreak is at most
 * 2^48 - 1, so END_OF_MS (2^48) stands for "every event of this millisecond".
 */
export interface TailKey { ingestedAtMs: number; tiebreak: number }

/** Greater than any tiebreak (48 bits): (ms, END_OF_MS) is after every event of millisecond ms. */
export const END_OF_MS = 2 ** 48;

/** Negative when a is before b, 0 when equal, positive when after. */
export function compareTailKeys(a: TailKey, b: TailKey): number {
  return a.ingestedAtMs !== b.ingestedAtMs ? a.ingestedAtMs - b.ingestedAtMs : a.tiebreak - b.tiebreak;
}

export function encodeTailCursor(k: TailKey): string {
  return Buffer.from(`tl1:${k.ingestedAtMs}:${k.tiebreak}`, 'utf8').toString('base64url');
}

/** null for anything that is not a cursor this code made (auditEvents cursors included). */
export function decodeTailCursor(cursor: string): TailKey | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(cursor)) return null;
  const m = /^tl1:(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return null;
  const ingestedAtMs = Number(m[1]);
  const tiebreak = Number(m[2]);
  return Number.isSafeInteger(ingestedAtMs) && tiebreak <= END_OF_MS ? { ingestedAtMs, tiebreak } : null;
}
