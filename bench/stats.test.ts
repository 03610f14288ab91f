import { median, parseCount, percentile, percentiles } from './stats';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 95)).toBe(95);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentiles([3, 1, 2])).toEqual({ p50: 2, p95: 3, p99: 3 });
    expect(median([5, 1, 9])).toBe(5);
    expect(() => percentile([], 50)).toThrow('no samples');
  });
});

describe('parseCount', () => {
  it('reads 20000, 200k, 1.5m; refuses anything else, naming the option', () => {
    expect([parseCount('events', '20000'), parseCount('events', '200k'), parseCount('sizes', '1.5m'), parseCount('sizes', ' 10K ')]).toEqual([20_000, 200_000, 1_500_000, 10_000]);
    for (const bad of ['', 'many', '10q', '-5', '1e6']) expect(() => parseCount('sizes', bad)).toThrow(/^--sizes: ".*" is not a number like/);
  });
});
