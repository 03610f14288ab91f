/**
 * Live tails: each open subscription is one poll loop (event.tail.ts decides what it delivers) behind an
 * async iterator, and this service counts them per token and per process. Closing the iterator (the client
 * went away: graphql-js calls return()) stops the loop at once: the pending sleep is cut short, its timer
 * cleared, a poll in flight is dropped when it answers, and the subscription's slot is given back.
 * The iterator is pull-driven: a poll runs only when the consumer asks for the next event and the batch
 * before is delivered, so a slow client slows its own tail (no unbounded buffer) and never the others.
 */
import type { AuditEventFilter } from './audit-events.types';
import { AuditEventsError, AuditEventsErrorCode } from './audit-events.errors';
import type { AuditEventDocument } from './event.document';
import { nextBatch, settledHorizonMs, TailBounds, TailHit } from './event.tail';
import { encodeTailCursor, TailKey } from './tail.cursor';

/** What a tail reads: one poll (EventStore.tailPage). */
export interface TailSource {
  tailPage(serviceId: string, filter: AuditEventFilter | null | undefined, after: TailKey, horizonMs: number, size: number): Promise<TailHit[]>;
}

/** One delivered event with its cursor, or the error that ends the tail (its last message). */
export type TailMessage<T> = { cursor: string; event: T } | AuditEventsError;

export interface TailRequest<T> {
  tokenId: string;
  serviceId: string;
  filter: AuditEventFilter | null | undefined;
  start: TailKey;
  /** The token's expiry: the tail ends (TOKEN_EXPIRED) once it passes. */
  expiresAt: Date | null;
  /** A stored document as the client sees it (the GraphQL node). */
  map: (doc: AuditEventDocument) => T;
}

/** A tail keeps polling an unavailable store this long before it ends with STORE_UNAVAILABLE. */
export const STORE_OUTAGE_MS = 30_000;

export type TailEndReason = 'LIFETIME' | 'IDLE' | 'TOKEN_EXPIRED' | 'SHUTDOWN';

/**
 * Why an open tail ended, as metrics count it: a TailEndReason (lower case), the client went away
 * (`client_closed`), the store stayed unavailable past STORE_OUTAGE_MS (`store_unavailable`), any other failure (`error`).
 */
export const TAIL_END_REASONS = ['lifetime', 'idle', 'token_expired', 'shutdown', 'client_closed', 'store_unavailable', 'error'] as const;
export type TailEndMetric = typeof TAIL_END_REASONS[number];

/** What the tails record (the composition root passes base/metrics.ts tailMetrics): each open tail ends exactly once. */
export interface TailRecorder {
  opened(): void;
  /** One event delivered to a subscriber. */
  delivered(): void;
  ended(reason: TailEndMetric): void;
}

const NO_RECORDER: TailRecorder = { opened: () => undefined, delivered: () => undefined, ended: () => undefined };

export class TailService {
  private readonly perToken = new Map<string, number>();
  private readonly open = new Set<TailSubscription<unknown>>();

  constructor(private readonly source: () => TailSource, readonly bounds: TailBounds, private readonly now: () => number = Date.now,
    private readonly recorder: TailRecorder = NO_RECORDER) {}

  /** Open subscriptions now (all tokens). */
  get size(): number { return this.open.size; }

  /** Opens a tail, or refuses it (TAIL_LIMIT_REACHED) when the token or the process has its maximum open. */
  subscribe<T>(req: TailRequest<T>): AsyncIterableIterator<TailMessage<T>> {
    const held = this.perToken.get(req.tokenId) ?? 0;
    if (held >= this.bounds.maxPerToken) {
      throw new AuditEventsError(AuditEventsErrorCode.TAIL_LIMIT_REACHED,
        `this token has ${held} live tails open, the most it may (TAIL_MAX_PER_TOKEN); close one first`,
        { limit: 'PER_TOKEN', max: String(this.bounds.maxPerToken) });
    }
    if (this.open.size >= this.bounds.maxSubscriptions) {
      throw new AuditEventsError(AuditEventsErrorCode.TAIL_LIMIT_REACHED,
        'the gateway has as many live tails open as it serves (TAIL_MAX_SUBSCRIPTIONS); retry later',
        { limit: 'PER_PROCESS', max: String(this.bounds.maxSubscriptions) });
    }
    const source = this.source();
    this.perToken.set(req.tokenId, held + 1);
    const sub: TailSubscription<T> = new TailSubscription(source, req, this.bounds, this.now, this.recorder, (reason) => {
      this.recorder.ended(reason);
      this.open.delete(sub as TailSubscription<unknown>);
      const n = (this.perToken.get(req.tokenId) ?? 1) - 1;
      if (n > 0) this.perToken.set(req.tokenId, n); else this.perToken.delete(req.tokenId);
    });
    this.open.add(sub as TailSubscription<unknown>);
    this.recorder.opened();
    return sub;
  }

  /** Ends every open tail (reason SHUTDOWN, with its cursor): the process is stopping. */
  closeAll(): void {
    for (const sub of [...this.open]) sub.end('SHUTDOWN');
  }
}

const endMetric = (reason: TailEndReason): TailEndMetric => reason.toLowerCase() as Lowercase<TailEndReason>;

class TailSubscription<T> implements AsyncIterableIterator<TailMessage<T>> {
  private position: TailKey;
  private buffer: TailHit[] = [];
  private finished = false;
  private pendingEnd: TailEndReason | null = null;
  private readonly startedAt: number;
  private lastDeliveryAt: number;
  private lastPollAt = Number.NEGATIVE_INFINITY;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  /** When the polls started failing (null: the last one answered). */
  private failingSince: number | null = null;

  constructor(private readonly source: TailSource, private readonly req: TailRequest<T>, private readonly bounds: TailBounds,
    private readonly now: () => number, private readonly recorder: TailRecorder, private readonly release: (reason: TailEndMetric) => void) {
    this.position = req.start;
    this.startedAt = now();
    this.lastDeliveryAt = this.startedAt;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TailMessage<T>> { return this; }

  async next(): Promise<IteratorResult<TailMessage<T>>> {
    while (!this.finished) {
      const hit = this.buffer.shift();
      if (hit) {
        this.lastDeliveryAt = this.now();
        this.recorder.delivered();
        return { done: false, value: { cursor: encodeTailCursor(hit.key), event: this.req.map(hit.doc) } };
      }
      const now = this.now();
      const reason = this.pendingEnd ?? this.expired(now);
      if (reason) return this.finish(reason);
      const wait = this.lastPollAt + this.bounds.pollIntervalMs - now;
      if (wait > 0) { await this.sleep(wait); continue; }
      this.lastPollAt = now;
      let hits: TailHit[];
      const horizon = settledHorizonMs(now, this.bounds.settleMs);
      try {
        hits = await this.source.tailPage(this.req.serviceId, this.req.filter, this.position, horizon, this.bounds.maxBatch);
        this.failingSince = null;
      } catch (err) {
        if (this.finished) break;
        // an unavailable store (a shard of a new daily index still starting, a restart) is polled again, for up to
        // STORE_OUTAGE_MS; then, or on any other failure, the tail ends with the error (the cursor of the last
        // event delivered resumes it)
        const transient = err instanceof AuditEventsError && err.code === AuditEventsErrorCode.STORE_UNAVAILABLE;
        this.failingSince ??= now;
        if (transient && now - this.failingSince < STORE_OUTAGE_MS) continue;
        this.close(transient ? 'store_unavailable' : 'error');
        if (err instanceof AuditEventsError) return { done: false, value: err };
        throw err;
      }
      if (this.finished) break;   // closed while the poll was in flight: its answer is dropped
      const { deliver, position } = nextBatch(hits, this.position, horizon, this.bounds.maxBatch);
      this.buffer = deliver;
      this.position = position;
    }
    return { done: true, value: undefined };
  }

  /** The client went away (or the server closes the stream): stop now, nothing more is delivered. */
  async return(): Promise<IteratorResult<TailMessage<T>>> {
    // an end already decided (SHUTDOWN while the stream closes) counts as that end
    this.close(this.pendingEnd ? endMetric(this.pendingEnd) : 'client_closed');
    return { done: true, value: undefined };
  }

  async throw(err?: unknown): Promise<IteratorResult<TailMessage<T>>> {
    this.close('error');
    throw err;
  }

  /** Ends the tail after what is buffered, with TAIL_ENDED and `reason` as its last message. */
  end(reason: TailEndReason): void {
    this.pendingEnd ??= reason;
    this.buffer = [];
    this.wake();
  }

  private expired(now: number): TailEndReason | null {
    if (this.req.expiresAt && now >= this.req.expiresAt.getTime()) return 'TOKEN_EXPIRED';
    if (now - this.startedAt >= this.bounds.maxLifetimeMs) return 'LIFETIME';
    if (now - this.lastDeliveryAt >= this.bounds.idleTimeoutMs) return 'IDLE';
    return null;
  }

  private finish(reason: TailEndReason): IteratorResult<TailMessage<T>> {
    this.close(endMetric(reason));
    const cursor = encodeTailCursor(this.position);
    return { done: false, value: new AuditEventsError(AuditEventsErrorCode.TAIL_ENDED,
      `the live tail ended (${reason}); subscribe again with after: "${cursor}" to continue exactly where it stopped`, { reason, cursor }) };
  }

  private close(reason: TailEndMetric): void {
    if (this.finished) return;
    this.finished = true;
    this.buffer = [];
    this.wake();
    this.release(reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.sleeping = null; resolve(); };
      const timer = setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }

  private wake(): void { this.sleeping?.wake(); }
}
