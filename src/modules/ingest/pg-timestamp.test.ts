import { parsePgTimestamp } from './pg-timestamp';

describe('parsePgTimestamp', () => {
  it.each<[string, string | null]>([
    ['2026-11-24 19:25:37.255 UTC', '2026-11-24T19:25:37.255Z'],
    ['2026-11-24 19:25:37 UTC', '2026-11-24T19:25:37.000Z'],
    ['2026-11-24 19:25:37.255123 GMT', '2026-11-24T19:25:37.255Z'],
    ['2026-11-24 19:25:37.2 UTC', '2026-11-24T19:25:37.200Z'],
    ['2026-11-24 01:00:00.000 +03', '2026-11-23T22:00:00.000Z'],
    ['2026-11-24 01:00:00.000 -0330', '2026-11-24T04:30:00.000Z'],
    ['2026-11-24 01:00:00.000 +05:30', '2026-11-23T19:30:00.000Z'],
    ['2026-11-24 19:25:37.255 CET', null],
    ['2026-02-30 00:00:00 UTC', null],
    ['2026-11-24 24:00:00 UTC', null],
    ['2026-11-24T19:25:37Z', null],
    ['0099-01-01 00:00:00 UTC', null],
    ['', null],
  ])('%j -> %j', (text, iso) => {
    expect(parsePgTimestamp(text)).toBe(iso);
  });
  it.each<[string, string | null]>([
    // The UTC fast path: calendar checks, fraction lengths, zone spellings; anything it declines goes the general way.
    ['2024-02-29 23:59:59.999 UTC', '2024-02-29T23:59:59.999Z'],
    ['2100-02-29 00:00:00 UTC', null],
    ['2000-02-29 00:00:00 UTC', '2000-02-29T00:00:00.000Z'],
    ['2026-04-31 00:00:00 UTC', null],
    ['1000-01-01 00:00:00.5 Zulu', '1000-01-01T00:00:00.500Z'],
    ['9999-12-31 23:59:59.99999 GMT', '9999-12-31T23:59:59.999Z'],
    ['2026-11-24 19:25:37.1234567 UTC', null],
    ['2026-11-24 19:25:37. UTC', null],
    ['2026-11-24 19:25:37.255 UTC ', null],
    ['2026-11-24 19:25:37.255  UTC', null],
    ['2026-11-24 19:25:37.255 utc', null],
    ['2O26-11-24 19:25:37.255 UTC', null],
  ])('%j -> %j', (text, iso) => {
    expect(parsePgTimestamp(text)).toBe(iso);
  });
  it('the same second again, with another fraction, zone or tail', () => {
    expect(parsePgTimestamp('2026-11-24 19:25:37.001 UTC')).toBe('2026-11-24T19:25:37.001Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37.2 UTC')).toBe('2026-11-24T19:25:37.200Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37 +01')).toBe('2026-11-24T18:25:37.000Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37.3x UTC')).toBeNull();
    expect(parsePgTimestamp('2026-11-24 19:25:37.004 UT')).toBe('2026-11-24T19:25:37.004Z');
  });
  it('named zones through zoneAbbreviations', () => {
    expect(parsePgTimestamp('2026-07-01 12:00:00.000 CEST', { CEST: 120 })).toBe('2026-07-01T10:00:00.000Z');
    expect(parsePgTimestamp('2026-07-01 12:00:00.000 toString', { CEST: 120 })).toBeNull();
  });
});
