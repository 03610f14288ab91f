import { ConfigError, DEFAULT_ANSWER_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_RATE_LIMITS, loadConfig } from './config';

const BASE = { DATABASE_URL: 'postgres://u@localhost:5432/db' };

describe('answer bounds in the configuration', () => {
  it('defaults', () => {
    const c = loadConfig(BASE);
    expect(c.maxResponseBytes).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    expect(c.maxResponseBytes).toBe(8 * 1024 * 1024);
    expect(c.answers).toEqual(DEFAULT_ANSWER_LIMITS);
    expect(c.answers).toEqual({ eventTextMaxBytes: 4096, eventMaxParameters: 100, statsDefaultWindowHours: 24 });
  });
  it('set from the environment', () => {
    const c = loadConfig({ ...BASE, MAX_RESPONSE_BYTES: '2048', EVENT_TEXT_MAX_BYTES: '100', EVENT_MAX_PARAMETERS: '5', STATS_DEFAULT_WINDOW_HOURS: '48' });
    expect(c.maxResponseBytes).toBe(2048);
    expect(c.answers).toEqual({ eventTextMaxBytes: 100, eventMaxParameters: 5, statsDefaultWindowHours: 48 });
  });
  it.each([
    ['MAX_RESPONSE_BYTES', '100'], ['EVENT_TEXT_MAX_BYTES', '0'], ['EVENT_TEXT_MAX_BYTES', '4k'], ['EVENT_MAX_PARAMETERS', '0'],
    ['STATS_DEFAULT_WINDOW_HOURS', '2000'], ['STATS_DEFAULT_WINDOW_HOURS', '-1'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(name);
  });
});

describe('rate limits in the configuration', () => {
  it('defaults: a bucket of 2000 points restoring 100/s per token, 60 failed authentications a minute per address', () => {
    const c = loadConfig(BASE);
    expect(c.rateLimit).toEqual(DEFAULT_RATE_LIMITS);
    expect(c.rateLimit).toEqual({ tokenBucketPoints: 2000, tokenRestorePerSecond: 100, addressBucketPoints: 60, addressRestorePerSecond: 1,
      maxKeys: 100_000, trustProxyHops: 0 });
  });
  it('set from the environment; 0 turns a limit off; the default bucket follows a larger GRAPHQL_MAX_COST', () => {
    const c = loadConfig({ ...BASE, RATE_LIMIT_BUCKET_POINTS: '0', RATE_LIMIT_RESTORE_PER_SECOND: '0.5', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '30',
      RATE_LIMIT_MAX_KEYS: '500', TRUST_PROXY_HOPS: '1' });
    expect(c.rateLimit).toEqual({ tokenBucketPoints: 0, tokenRestorePerSecond: 0.5, addressBucketPoints: 30, addressRestorePerSecond: 0.5, maxKeys: 500, trustProxyHops: 1 });
    expect(loadConfig({ ...BASE, GRAPHQL_MAX_COST: '5000' }).rateLimit.tokenBucketPoints).toBe(5000);
  });
  it.each([
    ['RATE_LIMIT_BUCKET_POINTS', '999'], ['RATE_LIMIT_BUCKET_POINTS', '-1'], ['RATE_LIMIT_RESTORE_PER_SECOND', '0'], ['RATE_LIMIT_RESTORE_PER_SECOND', '1e3'],
    ['RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 'x'], ['RATE_LIMIT_MAX_KEYS', '10'], ['TRUST_PROXY_HOPS', '11'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(name);
  });
});
