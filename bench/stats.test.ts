import { median, percentile, percentiles } from './stats';

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
