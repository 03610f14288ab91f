/**
 * A small in-process cache of lookups that are safe to repeat for a short while (who a token is, that a
 * service belongs to a project). Entries live `ttlMs`; at most `maxEntries` are kept (the oldest go
 * first). Only found values are cached: a miss always asks again. Pure apart from the clock.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000, private readonly now: () => number = Date.now) {}

  /** The cached value, or `load()`'s (cached when not null). With ttlMs 0 this is just `load()`. */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (this.ttlMs <= 0) return load();
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    if (hit) this.entries.delete(key);
    const value = await load();
    if (value !== null) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    }
    return value;
  }
}
