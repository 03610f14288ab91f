/**
 * Which event times the ingester accepts. A log line's time is what the line says, and for stderr and
 * managed input a client can choose it (formats/log-line-prefix.ts); each UTC day of event time is an
 * index of its own (audit-events/event.index.ts). So without a window a few forged lines dated 1970,
 * 2099, ... would create an index each, and events older than the retention would land in indices that
 * the next sweep deletes. An event outside the window becomes a dead letter (`timestamp_out_of_window`)
 * instead: at most `retentionDays` + 2 daily event indices can ever exist. Pure: no I/O.
 */
import { retentionCutoffMs } from '../audit-events/event.index';

export interface EventWindow {
  /** Events older than midnight UTC of today minus this many days are refused (the retention's own cutoff). */
  retentionDays: number;
  /** Events more than this far ahead of the ingester's clock are refused. */
  maxFutureSkewMs: number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 24 * 3_600_000;

/**
 * null when `timestamp` (ISO-8601) is inside the window at `nowMs`, else why not (for the dead letter's
 * reason). The bounds are those of the same instant `nowMs`: the caller reads its clock once per record.
 */
export function outsideWindow(timestamp: string, nowMs: number, w: EventWindow): string | null {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return `timestamp ${JSON.stringify(timestamp.slice(0, 40))} is not a time`;
  const oldest = retentionCutoffMs(w.retentionDays, nowMs);
  if (t < oldest) return `timestamp ${timestamp} is older than the retention (${w.retentionDays} days: before ${new Date(oldest).toISOString()})`;
  if (t > nowMs + w.maxFutureSkewMs) {
    return `timestamp ${timestamp} is more than ${w.maxFutureSkewMs / 1000} s ahead of the ingester's clock (${new Date(nowMs).toISOString()})`;
  }
  return null;
}
