import { ConfigError, DEFAULT_ANSWER_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, loadConfig } from './config';

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

describe('ingest bounds in the configuration', () => {
  it('defaults: 1 MiB records, 24 h ahead, dead letters kept 30 days', () => {
    expect(loadConfig(BASE).ingest).toEqual({ maxRecordBytes: 1024 * 1024, maxFutureSkewMs: 86_400_000, deadLetterRetentionDays: 30 });
  });
  it('set from the environment', () => {
    expect(loadConfig({ ...BASE, INGEST_MAX_RECORD_BYTES: '65536', INGEST_MAX_FUTURE_SKEW_MS: '0', DEAD_LETTER_RETENTION_DAYS: '7' }).ingest)
      .toEqual({ maxRecordBytes: 65536, maxFutureSkewMs: 0, deadLetterRetentionDays: 7 });
  });
  it.each([
    ['INGEST_MAX_RECORD_BYTES', '100'], ['INGEST_MAX_RECORD_BYTES', String(32 * 1024 * 1024 + 1)], ['INGEST_MAX_FUTURE_SKEW_MS', '-1'],
    ['INGEST_MAX_FUTURE_SKEW_MS', String(8 * 86_400_000)], ['DEAD_LETTER_RETENTION_DAYS', '0'], ['DEAD_LETTER_RETENTION_DAYS', '1d'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(name);
  });
});
