import { TtlCache } from './ttl-cache';

const counting = <V>(value: (n: number) => V | null) => {
  const load = Object.assign(async () => { load.calls += 1; return value(load.calls); }, { calls: 0 });
  return load;
};

describe('TtlCache', () => {
  it('answers from the cache until the entry expires, then loads again', async () => {
    let now = 1_000_000;   // lru-cache's clock; entries live ttlMs inclusive
    const cache = new TtlCache<string>({ ttlMs: 1000, now: () => now });
    const load = counting((n) => `v${n}`);
    expect(await cache.get('k', load)).toBe('v1');
    now += 1000;
    expect(await cache.get('k', load)).toBe('v1');
    now += 1;
    expect(await cache.get('k', load)).toBe('v2');
    expect(load.calls).toBe(2);
  });

  it('without missTtlMs never caches a miss', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000 });
    const load = counting<string>(() => null);
    expect(await cache.get('k', load)).toBeNull();
    expect(await cache.get('k', load)).toBeNull();
    expect(load.calls).toBe(2);
  });

  it('with missTtlMs remembers a miss for that long, then asks again (a value created meanwhile is found then)', async () => {
    let now = 1_000_000;
    const cache = new TtlCache<string>({ ttlMs: 1000, missTtlMs: 500, now: () => now });
    let exists = false;
    const load = counting(() => (exists ? 'created' : null));
    for (let i = 0; i < 100; i++) expect(await cache.get('k', load)).toBeNull();
    expect(load.calls).toBe(1);
    exists = true;
    now += 500;
    expect(await cache.get('k', load)).toBeNull();
    now += 1;
    expect(await cache.get('k', load)).toBe('created');
    expect(load.calls).toBe(2);
  });

  it('misses cannot evict found values: each has its own bound', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000, missTtlMs: 1000, maxEntries: 10, now: () => 1_000_000 });
    const found = counting((n) => `v${n}`);
    await cache.get('real', found);
    for (let i = 0; i < 1000; i++) await cache.get(`bogus-${i}`, async () => null);
    expect(await cache.get('real', found)).toBe('v1');
    expect(found.calls).toBe(1);
    // the miss cache kept only the 10 most recent
    const again = counting<string>(() => null);
    await cache.get('bogus-0', again);
    await cache.get('bogus-999', again);
    expect(again.calls).toBe(1);
  });

  it('keeps at most maxEntries found values, the least recently used going first', async () => {
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 2, now: () => 1_000_000 });
    let loads = 0;
    const load = (v: number) => async () => { loads += 1; return v; };
    await cache.get('a', load(1)); await cache.get('b', load(2));
    await cache.get('a', load(10));          // a is now the most recently used
    await cache.get('c', load(3));           // evicts b
    expect(loads).toBe(3);
    expect(await cache.get('a', load(100))).toBe(1);
    expect(await cache.get('b', load(20))).toBe(20);
    expect(loads).toBe(4);
  });

  it('concurrent gets of one key share one load', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000, missTtlMs: 1000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const load = Object.assign(async () => { load.calls += 1; await gate; return null; }, { calls: 0 });
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)));
    release();
    expect(await all).toEqual(Array(50).fill(null));
    expect(load.calls).toBe(1);
  });

  it('a failed load is not cached', async () => {
    const cache = new TtlCache<string>({ ttlMs: 1000, missTtlMs: 1000 });
    await expect(cache.get('k', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
    expect(await cache.get('k', async () => 'up')).toBe('up');
  });

  it('with ttlMs 0 always loads, misses too', async () => {
    const cache = new TtlCache<number>({ ttlMs: 0, missTtlMs: 1000 });
    const load = counting((n) => n);
    await cache.get('k', load); await cache.get('k', load);
    const miss = counting<number>(() => null);
    await cache.get('m', miss); await cache.get('m', miss);
    expect([load.calls, miss.calls]).toEqual([2, 2]);
  });

});
