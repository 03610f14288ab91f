/**
 * Rate limits over time, as Shopify's GraphQL Admin API has them: leaky buckets of points.
 * - Each API token has a bucket of `tokenBucketPoints` cost points (the cost model of limits.ts) that restores
 *   at `tokenRestorePerSecond`. A request whose requested cost is more than the bucket holds now is refused
 *   with RATE_LIMITED (HTTP 429, `Retry-After`) before anything runs, and takes nothing; one that runs takes
 *   its requested cost (at least 1). Every answer reports the bucket in `extensions.cost.throttleStatus`.
 * - Each client address has a bucket of `addressBucketPoints` requests without a valid token (missing,
 *   malformed, unknown, revoked) restoring at `addressRestorePerSecond`. It is checked before the token is
 *   looked up, so a flood of bogus tokens costs the gateway database nothing once the bucket is empty; valid
 *   tokens take nothing from it.
 *
 * Requested cost only, no refund: the cost model prices what a request may make the gateway do (connections to
 * a customer's server, a page of the size asked for), and that is what a token is allowed per second. An
 * "actual cost" would need every resolver to count what it really did, and a request that failed on a
 * customer's server still reached it. The bucket is therefore honest and simple: what you ask for is what you pay.
 *
 * The buckets are this file's own ~20 lines over lru-cache (for the bound): rate-limiter-flexible, the well-kept
 * library for Node, offers fixed windows only (its in-memory limiter counts points per `duration`, charges a
 * refused request too, and reads Date.now() directly), not a bucket that restores continuously.
 * Memory: at most `maxKeys` buckets per kind; the least recently used is forgotten first and starts full again,
 * and a bucket is not kept once it is full (full and absent are the same). Limits are per process.
 */
import { isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { RateLimits } from '../base/config';
import { ApiError, ApiErrorCode } from './error-map';

/** A bucket as reported to clients (`extensions.cost.throttleStatus`), Shopify's names. */
export interface ThrottleStatus {
  /** The bucket's size in points. */
  maximumAvailable: number;
  /** Points in the bucket now (whole points, rounded down). */
  currentlyAvailable: number;
  /** Points restored per second. */
  restoreRate: number;
}

export type TakeResult =
  | { allowed: true; status: ThrottleStatus }
  | { allowed: false; status: ThrottleStatus; retryAfterSeconds: number };

interface Bucket { available: number; at: number }

/** Leaky buckets by key, all of one size and restore rate. Pure apart from the clock (`now`, milliseconds). */
export class LeakyBuckets {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(readonly capacity: number, readonly restorePerSecond: number, maxKeys: number,
    private readonly now: () => number = () => performance.now()) {
    if (!(capacity > 0) || !(restorePerSecond > 0)) throw new RangeError('a bucket needs a positive size and restore rate');
    this.buckets = new LRUCache({ max: maxKeys });
  }

  /** Buckets kept now (the others are full). */
  get size(): number { return this.buckets.size; }

  /** What `key`'s bucket holds now, without taking anything. */
  status(key: string): ThrottleStatus { return this.report(this.available(key, this.now())); }

  /**
   * Takes `points` from `key`'s bucket when it holds that many; otherwise takes nothing and says in how many
   * whole seconds (rounded up) it will. More points than the bucket's size count as the whole bucket.
   */
  take(key: string, points: number): TakeResult {
    return this.decide(key, points, true);
  }

  /** What `take` would answer, taking nothing. */
  peek(key: string, points: number): TakeResult {
    return this.decide(key, points, false);
  }

  /** Takes `points` whatever the bucket holds: below zero it owes them, and restores from there. */
  charge(key: string, points: number): void {
    const now = this.now();
    this.store(key, this.available(key, now) - points, now);
  }

  private decide(key: string, points: number, take: boolean): TakeResult {
    const now = this.now();
    const available = this.available(key, now);
    const need = Math.min(points, this.capacity);
    if (need > available) {
      return { allowed: false, status: this.report(available), retryAfterSeconds: Math.max(1, Math.ceil((need - available) / this.restorePerSecond)) };
    }
    if (take) this.store(key, available - need, now);
    return { allowed: true, status: this.report(take ? available - need : available) };
  }

  private available(key: string, now: number): number {
    const b = this.buckets.get(key);
    return b ? Math.min(this.capacity, b.available + Math.max(0, now - b.at) / 1000 * this.restorePerSecond) : this.capacity;
  }

  private store(key: string, available: number, now: number): void {
    if (available >= this.capacity) this.buckets.delete(key);
    else this.buckets.set(key, { available, at: now });
  }

  private report(available: number): ThrottleStatus {
    return { maximumAvailable: this.capacity, currentlyAvailable: Math.max(0, Math.floor(available)), restoreRate: this.restorePerSecond };
  }
}

export type RateLimitKind = 'token' | 'address';

/** What rate limiting records: one call per refusal (http-server.ts counts it in GatewayMetrics.rateLimited by kind). */
export type RateLimitRecorder = (kind: RateLimitKind) => void;

/** The RATE_LIMITED error: HTTP 429, `Retry-After` in whole seconds, and the same in extensions for GraphQL clients. */
export function rateLimitedError(kind: RateLimitKind, refusal: Extract<TakeResult, { allowed: false }>, message: string,
  extra: Record<string, unknown> = {}): ApiError {
  return new ApiError(ApiErrorCode.RATE_LIMITED, message,
    { limitedBy: kind, retryAfterSeconds: refusal.retryAfterSeconds, throttleStatus: refusal.status, ...extra },
    { 'retry-after': String(refusal.retryAfterSeconds) });
}

/** Each token's bucket of cost points (used by the cost plugin of limits.ts once the cost is known). */
export class TokenThrottle {
  constructor(readonly buckets: LeakyBuckets, private readonly record: RateLimitRecorder = () => undefined) {}

  /** The bucket of `tokenId` now. */
  status(tokenId: string): ThrottleStatus { return this.buckets.status(tokenId); }

  /**
   * Refuses a request of `tokenId` while its bucket holds less than one point, before the request is even
   * parsed: every request costs at least 1, so it would be refused once its cost is known anyway, and a client
   * that keeps sending while throttled then costs the gateway only the token lookup (cached), not a parse,
   * validation and cost computation per request. Takes nothing.
   */
  admit(tokenId: string): void {
    const result = this.buckets.peek(tokenId, 1);
    if (result.allowed) return;
    this.record('token');
    throw rateLimitedError('token', result,
      `this token's rate limit: ${result.status.currentlyAvailable} points are available, restoring ${result.status.restoreRate} per second; `
      + `retry in ${result.retryAfterSeconds} s`);
  }

  /**
   * Takes `points` for work already done (an export's pages, limits.ts EXPORT_COST) whatever the bucket holds:
   * below zero the token owes them, and its next requests are refused until the bucket has restored them.
   */
  spend(tokenId: string, points: number): void {
    if (points > 0) this.buckets.charge(tokenId, points);
  }

  /**
   * Takes the request's cost (at least 1: every request is work) from the token's bucket, or throws
   * RATE_LIMITED with the bucket's state and `extra` (e.g. the request's cost) when it holds less.
   */
  charge(tokenId: string, cost: number, extra: (status: ThrottleStatus) => Record<string, unknown>): ThrottleStatus {
    const result = this.buckets.take(tokenId, Math.max(1, cost));
    if (result.allowed) return result.status;
    this.record('token');
    throw rateLimitedError('token', result,
      `this token's rate limit: the request costs ${cost} points and ${result.status.currentlyAvailable} are available, `
      + `restoring ${result.status.restoreRate} per second; retry in ${result.retryAfterSeconds} s`, extra(result.status));
  }
}

/**
 * Each client address's bucket of requests without a valid token. `authenticate` (the token lookup) runs only
 * while the bucket holds a point; a request refused as UNAUTHENTICATED then takes one, and valid tokens take
 * none. Requests already in flight when the bucket empties still finish their lookups, and each one's point is
 * owed (the bucket goes below zero and restores from there): the overshoot is at most the requests in flight.
 * An address whose bucket is empty is refused for every request that needs a token lookup, valid tokens
 * included (telling them apart is the lookup the limit saves); other addresses are not affected.
 */
export class AddressThrottle {
  constructor(readonly buckets: LeakyBuckets, private readonly record: RateLimitRecorder = () => undefined) {}

  async authenticate<T>(address: string, authenticate: () => Promise<T>): Promise<T> {
    const result = this.buckets.peek(address, 1);
    if (!result.allowed) {
      this.record('address');
      throw rateLimitedError('address', result,
        `too many requests without a valid API token from this address; retry in ${result.retryAfterSeconds} s`);
    }
    try {
      return await authenticate();
    } catch (err) {
      if (err instanceof ApiError && err.code === ApiErrorCode.UNAUTHENTICATED) this.buckets.charge(address, 1);
      throw err;
    }
  }
}

/** The throttles of one server from its configuration; a limit whose bucket size is 0 is off (null). */
export function createThrottles(limits: RateLimits, record?: RateLimitRecorder): { tokens: TokenThrottle | null; addresses: AddressThrottle | null } {
  return {
    tokens: limits.tokenBucketPoints > 0
      ? new TokenThrottle(new LeakyBuckets(limits.tokenBucketPoints, limits.tokenRestorePerSecond, limits.maxKeys), record) : null,
    addresses: limits.addressBucketPoints > 0
      ? new AddressThrottle(new LeakyBuckets(limits.addressBucketPoints, limits.addressRestorePerSecond, limits.maxKeys), record) : null,
  };
}

/**
 * The client's address for per-address limits: the socket's peer, or with `trustProxyHops` = n > 0 the address
 * n hops back in X-Forwarded-For (each trusted proxy appends the address it received from; what lies further
 * left was written by the client and is not trusted). Without a usable address there: the socket's.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxyHops: number): string {
  if (trustProxyHops > 0 && forwardedFor !== undefined) {
    const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((s) => s.trim());
    const candidate = chain[chain.length - trustProxyHops];
    if (candidate && isIP(candidate)) return addressKey(candidate);
  }
  return addressKey(socketAddress);
}

/**
 * The bucket key of an address: IPv4 as it is (also when mapped into IPv6), IPv6 by its /64 network, since
 * one client commonly holds a whole /64 and could otherwise take a fresh bucket per address.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const plain = address.split('%')[0]!.toLowerCase();
  const [head = '', tail] = plain.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
