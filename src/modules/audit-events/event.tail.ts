/**
 * The live tail's requests and its one decision, pure (no I/O): which newly indexed events a poll delivers,
 * and where the tail stands afterwards.
 *
 * "New" means newly indexed, not newest by time: an ingester catching up writes old timestamps late. Every
 * event written by this version carries `ingestedAt`, the ingester's clock when it encoded the event
 * (event.index.ts), and a tail walks the order (ingestedAt, tiebreak) forward (tail.cursor.ts).
 *
 * An event becomes searchable some time after its ingestedAt: the rest of its bulk request, the bulk round
 * trip (retries included), OpenSearch's refresh interval (1 s), and — with several ingesters — the skew
 * between their clocks and the gateway's. A tail therefore delivers an event only once its ingestedAt is
 * `settleMs` old (the settled horizon): by then, every event of an earlier key is searchable too, so events
 * are delivered in key order, each exactly once, and a cursor (the key of the last event delivered) says
 * exactly what came before it. An event that becomes searchable more than `settleMs` after its ingestedAt
 * is behind the horizon by then and is not delivered by a tail (it is in auditEvents as usual): README, Live tail.
 */
import { DEFAULT_TAIL_LIMITS, type TailLimits } from '../../base/config';
import { invalidArgument } from './audit-events.errors';
import type { AuditEventFilter } from './audit-events.types';
import type { AuditEventDocument } from './event.document';
import { INDEX_PATTERN } from './event.index';
import { eventQuery } from './event.query';
import { compareTailKeys, END_OF_MS, TailKey } from './tail.cursor';

/** The bounds of live tails: config TAIL_* (src/base/config.ts TailLimits; README, Live tail). */
export type TailBounds = TailLimits;
export const DEFAULT_TAIL_BOUNDS: TailBounds = DEFAULT_TAIL_LIMITS;

/** The newest ingestedAt a poll at `nowMs` may deliver. */
export function settledHorizonMs(nowMs: number, settleMs: number): number {
  return nowMs - settleMs;
}

/**
 * Where a subscription starts: after `after` (checked against the resume window), or, without one, at the
 * settled horizon of now: every event that becomes searchable from now on is after it.
 */
export function tailStart(after: TailKey | null, nowMs: number, bounds: Pick<TailBounds, 'settleMs' | 'resumeWindowMs'>): TailKey {
  if (!after) return { ingestedAtMs: settledHorizonMs(nowMs, bounds.settleMs), tiebreak: END_OF_MS };
  if (after.ingestedAtMs < nowMs - bounds.resumeWindowMs) {
    throw invalidArgument(`after: the cursor is older than the resume window (${Math.round(bounds.resumeWindowMs / 60_000)} minutes); `
      + 'read what came after it with auditEvents, then subscribe without a cursor', 'after');
  }
  return after;
}

/**
 * One poll: the events of one service and filter after `after` and at or before `horizonMs` (ingestedAt),
 * oldest key first, at most `size`. The service `term` filter is inside the query (eventQuery) as everywhere;
 * the range on ingestedAt lets OpenSearch skip daily indices and segments without new events; events
 * written before ingestedAt existed have none and are never matched.
 */
export function buildTailSearch(serviceId: string, filter: AuditEventFilter | null | undefined, after: TailKey, horizonMs: number, size: number) {
  const query = eventQuery(serviceId, filter ?? {}) as { bool: { filter: unknown[]; must?: unknown[] } };
  return {
    index: INDEX_PATTERN,
    body: {
      size,
      track_total_hits: false,
      // unmapped_type: a daily index written before these fields existed, whose mapping start-up has not yet
      // extended, answers nothing instead of failing the poll
      sort: [{ ingestedAt: { order: 'asc', unmapped_type: 'date' } }, { tiebreak: { order: 'asc', unmapped_type: 'long' } }],
      search_after: [after.ingestedAtMs, after.tiebreak],
      query: { bool: { ...query.bool, filter: [...query.bool.filter,
        { range: { ingestedAt: { gte: after.ingestedAtMs, lte: horizonMs, format: 'epoch_millis' } } }] } },
    },
  };
}

export interface TailHit { key: TailKey; doc: AuditEventDocument }

/**
 * What a poll delivers of the `hits` it found (asked for `size`, after `after`, up to `horizonMs`), and the
 * tail's position afterwards. Only hits after `after` and within the horizon, in strictly increasing key
 * order, each id once (OpenSearch answers exactly that; this holds it whatever the answer). With fewer hits
 * than asked for, nothing else is settled up to the horizon: the position moves there, so the next poll
 * asks for a narrower range; with a full page it stays at the last event delivered.
 */
export function nextBatch(hits: readonly TailHit[], after: TailKey, horizonMs: number, size: number): { deliver: TailHit[]; position: TailKey } {
  const deliver: TailHit[] = [];
  const ids = new Set<string>();
  let last = after;
  for (const h of hits) {
    if (compareTailKeys(h.key, last) <= 0 || h.key.ingestedAtMs > horizonMs || ids.has(h.doc.id)) continue;
    ids.add(h.doc.id);
    deliver.push(h);
    last = h.key;
  }
  const caughtUp = hits.length < size;
  const horizon = { ingestedAtMs: horizonMs, tiebreak: END_OF_MS };
  return { deliver, position: caughtUp && compareTailKeys(horizon, last) > 0 ? horizon : last };
}
