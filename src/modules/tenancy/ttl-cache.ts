/**
 * A small in-process cache of lookups that are safe to repeat for a short while (who a token is, that a
 * service belongs to a project), over lru-cache: found values live `ttlMs`, misses (when `missTtlMs` > 0)
 * live `missTtlMs` in a cache of their own, so a flood of unknown keys can neither evict found ones nor
 * grow memory: each holds at most `maxEntries`, the least recently used going first. Concurrent lookups of
 * one key share one load. With ttlMs 0 nothing is cached and every get loads. Pure apart from the clock.
 */
import { LRUCache } from 'lru-cache';

export interface TtlCacheOptions {
  /** How long a found value is reused; 0: never cached, every get loads. */
  ttlMs: number;
  /** How long a miss (null) is remembered; 0 (the default): a miss always asks again. */
  missTtlMs?: number;
  /** Entries kept in each of the two caches (found, missing). */
  maxEntries?: number;
  /** The clock (tests). */
  now?: () => number;
}

export class TtlCache<V extends {}> {
  private readonly found: LRUCache<string, V> | null;
  private readonly missing: LRUCache<string, true> | null;
  private readonly loading = new Map<string, Promise<V | null>>();

  constructor(opts: TtlCacheOptions) {
    const common = { max: opts.maxEntries ?? 10_000, ttlResolution: 0, ...(opts.now ? { perf: { now: opts.now } } : {}) };
    this.found = opts.ttlMs > 0 ? new LRUCache<string, V>({ ...common, ttl: opts.ttlMs }) : null;
    this.missing = opts.ttlMs > 0 && (opts.missTtlMs ?? 0) > 0 ? new LRUCache<string, true>({ ...common, ttl: opts.missTtlMs! }) : null;
  }

  /** The cached value (or cached miss), else `load()`'s, remembered as above. With ttlMs 0 this is just `load()`. */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (!this.found) return load();
    const hit = this.found.get(key);
    if (hit !== undefined) return hit;
    if (this.missing?.get(key)) return null;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const loaded = load().then((value) => {
      if (value !== null) this.found!.set(key, value);
      else this.missing?.set(key, true);
      return value;
    }).finally(() => this.loading.delete(key));
    this.loading.set(key, loaded);
    return loaded;
  }
}
