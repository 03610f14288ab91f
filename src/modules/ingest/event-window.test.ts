import { expiredIndices, indexFor } from '../audit-events/event.index';
import { DEFAULT_INGEST_LIMITS } from '../../base/config';
import { DEFAULT_MAX_FUTURE_SKEW_MS, outsideWindow } from './event-window';
import { DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_BYTES_LIMIT } from './log-record';

const NOW = Date.parse('2026-11-30T03:00:00.000Z');
const W = { retentionDays: 30, maxFutureSkewMs: 24 * 3_600_000 };

describe('outsideWindow', () => {
  it.each([
    ['2026-11-30T03:00:00.000Z'], ['2026-10-31T00:00:00.000Z'], ['2026-12-01T03:00:00.000Z'], ['2026-11-29T23:59:59.999Z'],
  ])('accepts %s (from midnight 30 days back to 24 h ahead)', (t) => {
    expect(outsideWindow(t, NOW, W)).toBeNull();
  });

  it.each([
    ['1970-01-01T00:00:00.000Z', /older than the retention/], ['2026-10-30T23:59:59.999Z', /older than the retention/],
    ['2026-12-01T03:00:00.001Z', /ahead of the ingester's clock/], ['2099-12-31T23:59:59.000Z', /ahead/], ['not a time', /not a time/],
  ])('refuses %s', (t, why) => {
    expect(outsideWindow(t, NOW, W)).toMatch(why);
  });

  it('an accepted event never lands in an index the retention sweep of the same moment deletes', () => {
    for (let h = -24 * 40; h <= 48; h += 1) {
      const t = new Date(NOW + h * 3_600_000).toISOString();
      const index = indexFor(t);
      const swept = expiredIndices([index], W.retentionDays, new Date(NOW)).length > 0;
      if (outsideWindow(t, NOW, W) === null) expect(swept).toBe(false);
      else if (h < 0) expect(swept).toBe(true);
    }
  });

  it('bounds the daily indices events can create: retention + 2 days at most', () => {
    const days = new Set<string>();
    for (let ms = NOW - 400 * 86_400_000; ms <= NOW + 400 * 86_400_000; ms += 3_600_000) {
      const t = new Date(ms).toISOString();
      if (outsideWindow(t, NOW, W) === null) days.add(indexFor(t));
    }
    expect(days.size).toBeLessThanOrEqual(W.retentionDays + 2);
  });

  it('a skew of 0 refuses anything after now', () => {
    expect(outsideWindow('2026-11-30T03:00:00.001Z', NOW, { ...W, maxFutureSkewMs: 0 })).toMatch(/ahead/);
    expect(outsideWindow('2026-11-30T03:00:00.000Z', NOW, { ...W, maxFutureSkewMs: 0 })).toBeNull();
  });
});

it('the configuration\'s defaults are the ingest module\'s own', () => {
  expect(DEFAULT_INGEST_LIMITS.maxRecordBytes).toBe(DEFAULT_MAX_RECORD_BYTES);
  expect(DEFAULT_INGEST_LIMITS.maxFutureSkewMs).toBe(DEFAULT_MAX_FUTURE_SKEW_MS);
  expect(MAX_RECORD_BYTES_LIMIT).toBe(32 * 1024 * 1024);
});
