import { isExpired, tokenExpiry, tokenStatus } from './expiry';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const at = (opts: { expiresIn?: string; expiresAt?: string }) => {
  const r = tokenExpiry(opts, NOW);
  return 'problem' in r ? r.problem : r.expiresAt?.toISOString() ?? null;
};

describe('tokenExpiry', () => {
  it('neither option: never expires', () => {
    expect(at({})).toBeNull();
  });

  it.each([
    ['30m', '2026-11-30T12:30:00.000Z'],
    ['12h', '2026-12-01T00:00:00.000Z'],
    ['90d', '2027-02-28T12:00:00.000Z'],
    ['2w', '2026-12-14T12:00:00.000Z'],
    [' 1d ', '2026-12-01T12:00:00.000Z'],
  ])('--expires-in %s', (text, expected) => {
    expect(at({ expiresIn: text })).toBe(expected);
  });

  it.each(['0d', '-1d', '1', 'd', '1y', '1.5h', '1 d', '1D', '10000000d', '', '99999999d'])('--expires-in %j is refused', (text) => {
    expect(at({ expiresIn: text })).toMatch(/--expires-in/);
  });

  it.each([
    ['2027-01-31T00:00:00Z', '2027-01-31T00:00:00.000Z'],
    ['2027-01-31T02:00:00+02:00', '2027-01-31T00:00:00.000Z'],
    ['2027-01-31T00:00Z', '2027-01-31T00:00:00.000Z'],
    ['2027-01-31T00:00:00.123456Z', '2027-01-31T00:00:00.123Z'],
    ['2027-01-31', '2027-01-31T00:00:00.000Z'],
    ['2026-11-30T12:00:00.001Z', '2026-11-30T12:00:00.001Z'],
  ])('--expires-at %s', (text, expected) => {
    expect(at({ expiresAt: text })).toBe(expected);
  });

  it.each(['2027-01-31T00:00:00', '2027-02-30', '2027-13-01T00:00:00Z', 'tomorrow', '1738281600', '2027-1-31', ''])(
    '--expires-at %j (no time zone, not a real date, not ISO 8601) is refused', (text) => {
      expect(at({ expiresAt: text })).toMatch(/ISO 8601/);
    });

  it('--expires-at now or in the past is refused', () => {
    expect(at({ expiresAt: NOW.toISOString() })).toMatch(/in the future/);
    expect(at({ expiresAt: '2020-01-01' })).toMatch(/in the future/);
  });

  it('both options are refused', () => {
    expect(at({ expiresIn: '1d', expiresAt: '2027-01-01' })).toMatch(/not both/);
  });

  it('past year 9999 is refused', () => {
    expect(at({ expiresAt: '+010000-01-01T00:00:00Z' })).toMatch(/ISO 8601/);
  });
});

describe('isExpired', () => {
  it('never for null; from the expiry instant on', () => {
    expect(isExpired(null, Number.MAX_SAFE_INTEGER)).toBe(false);
    const t = new Date(1000);
    expect(isExpired(t, 999)).toBe(false);
    expect(isExpired(t, 1000)).toBe(true);
  });
});

describe('tokenStatus', () => {
  it('revoked wins over expired; expired from the instant on', () => {
    expect(tokenStatus({ revokedAt: new Date(5), expiresAt: new Date(1) }, 10)).toBe('revoked');
    expect(tokenStatus({ revokedAt: null, expiresAt: new Date(10) }, 10)).toBe('expired');
    expect(tokenStatus({ revokedAt: null, expiresAt: new Date(11) }, 10)).toBe('active');
    expect(tokenStatus({ revokedAt: null, expiresAt: null }, 10)).toBe('active');
  });
});
