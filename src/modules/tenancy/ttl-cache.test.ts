import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('answers from the cache until the entry expires, then loads again', async () => {
    let now = 0;
    let loads = 0;
    const cache = new TtlCache<string>(1000, 10, () => now);
    const load = async () => { loads += 1; return `v${loads}`; };
    expect(await cache.get('k', load)).toBe('v1');
    now = 999;
    expect(await cache.get('k', load)).toBe('v1');
    now = 1000;
    expect(await cache.get('k', load)).toBe('v2');
    expect(loads).toBe(2);
  });

  it('never caches a miss', async () => {
    const cache = new TtlCache<string>(1000);
    let loads = 0;
    const load = async () => { loads += 1; return null; };
    expect(await cache.get('k', load)).toBeNull();
    expect(await cache.get('k', load)).toBeNull();
    expect(loads).toBe(2);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new TtlCache<number>(1000, 2, () => 0);
    let loads = 0;
    const load = (v: number) => async () => { loads += 1; return v; };
    await cache.get('a', load(1)); await cache.get('b', load(2)); await cache.get('c', load(3));
    expect(loads).toBe(3);
    expect(await cache.get('c', load(30))).toBe(3);
    expect(await cache.get('a', load(10))).toBe(10);
    expect(loads).toBe(4);
  });

  it('with ttlMs 0 always loads', async () => {
    const cache = new TtlCache<number>(0);
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('k', load); await cache.get('k', load);
    expect(loads).toBe(2);
  });
});
