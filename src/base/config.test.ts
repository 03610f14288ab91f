import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_ANSWER_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_RATE_LIMITS, loadConfig, requireMasterKeys } from './config';

const BASE = { DATABASE_URL: 'postgres://u@localhost:5432/db' };

describe('LAPSE_RETRY_INTERVAL_MS', () => {
  it('defaults to 30 s, set from the environment within 100 ms .. 1 h', () => {
    expect(loadConfig(BASE).lapseRetryIntervalMs).toBe(30_000);
    expect(loadConfig({ ...BASE, LAPSE_RETRY_INTERVAL_MS: '250' }).lapseRetryIntervalMs).toBe(250);
  });
  it.each(['99', '3600001', '1s', '-5'])('refuses %s naming the variable', (value) => {
    expect(() => loadConfig({ ...BASE, LAPSE_RETRY_INTERVAL_MS: value })).toThrow('LAPSE_RETRY_INTERVAL_MS');
  });
});

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

describe('ingest bounds in the configuration', () => {
  it('defaults: 1 MiB records, 24 h ahead, dead letters kept 30 days', () => {
    expect(loadConfig(BASE).ingest).toEqual({ maxRecordBytes: 1024 * 1024, maxFutureSkewMs: 86_400_000, deadLetterRetentionDays: 30,
      redactionRefreshMs: 5000, rawMaxHosts: 10_000 });
  });
  it('set from the environment', () => {
    expect(loadConfig({ ...BASE, INGEST_MAX_RECORD_BYTES: '65536', INGEST_MAX_FUTURE_SKEW_MS: '0', DEAD_LETTER_RETENTION_DAYS: '7', INGEST_RAW_MAX_HOSTS: '2' }).ingest)
      .toEqual({ maxRecordBytes: 65536, maxFutureSkewMs: 0, deadLetterRetentionDays: 7, redactionRefreshMs: 5000, rawMaxHosts: 2 });
  });
  it.each([
    ['INGEST_MAX_RECORD_BYTES', '100'], ['INGEST_MAX_RECORD_BYTES', String(32 * 1024 * 1024 + 1)], ['INGEST_MAX_FUTURE_SKEW_MS', '-1'],
    ['INGEST_MAX_FUTURE_SKEW_MS', String(8 * 86_400_000)], ['DEAD_LETTER_RETENTION_DAYS', '0'], ['DEAD_LETTER_RETENTION_DAYS', '1d'],
    ['INGEST_RAW_MAX_HOSTS', '0'], ['INGEST_RAW_MAX_HOSTS', '100001'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(name);
  });
});

describe('credentials master keys in the configuration', () => {
  const key = randomBytes(32).toString('base64');

  it('unset: null, and the commands that need them get a clear refusal naming the variable', () => {
    const c = loadConfig(BASE);
    expect(c.credentialsMasterKeys).toBeNull();
    expect(() => requireMasterKeys(c)).toThrow(ConfigError);
    expect(() => requireMasterKeys(c)).toThrow(/CREDENTIALS_MASTER_KEYS is not set/);
  });

  it('from CREDENTIALS_MASTER_KEYS, first entry current', () => {
    const c = loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS: `2:${key},1:${randomBytes(32).toString('base64')}` });
    expect(requireMasterKeys(c).current).toBe(2);
    expect(c.credentialsMasterKeys!.versions).toEqual([2, 1]);
  });

  it('from CREDENTIALS_MASTER_KEYS_FILE; both at once, or an unreadable file, refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-keys-'));
    const file = path.join(dir, 'keys');
    fs.writeFileSync(file, `3:${key}\n`, { mode: 0o600 });
    try {
      expect(loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS_FILE: file }).credentialsMasterKeys!.current).toBe(3);
      expect(() => loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS_FILE: file, CREDENTIALS_MASTER_KEYS: `1:${key}` })).toThrow(/not both/);
      expect(() => loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS_FILE: path.join(dir, 'missing') })).toThrow(/CREDENTIALS_MASTER_KEYS_FILE cannot be read \(ENOENT\)/);
      fs.writeFileSync(file, `3:${key.slice(1)}\n`);
      expect(() => loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS_FILE: file })).toThrow(/CREDENTIALS_MASTER_KEYS_FILE entry 1/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it.each([[`1:${key.slice(2)}`], [`x:${key}`], [key], [`1:${key},1:${key}`]])('a malformed value is a ConfigError without the key', (value) => {
    let error: unknown;
    try { loadConfig({ ...BASE, CREDENTIALS_MASTER_KEYS: value }); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^CREDENTIALS_MASTER_KEYS/);
    expect((error as Error).message).not.toContain(key.slice(2, 20));
  });
});

describe('TLS toward managed services in the configuration', () => {

  it('defaults to verify-full with Node\'s public roots', () => {
    expect(loadConfig(BASE).targetTls).toEqual({ sslMode: 'verify-full', ca: null });
  });

  it.each(['disable', 'require', 'verify-ca', 'verify-full'])('takes TARGET_SSLMODE=%s', (mode) => {
    expect(loadConfig({ ...BASE, TARGET_SSLMODE: mode }).targetTls.sslMode).toBe(mode);
  });

  it.each(['prefer', 'allow', 'VERIFY-FULL', 'true', 'verify_full'])('refuses TARGET_SSLMODE=%s naming the variable', (mode) => {
    expect(() => loadConfig({ ...BASE, TARGET_SSLMODE: mode })).toThrow(/^TARGET_SSLMODE must be disable, require, verify-ca, verify-full/);
  });

  it('reads TARGET_SSL_CA_FILE (PEM) at start-up; a missing or non-PEM file is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-ca-'));
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    try {
      fs.writeFileSync(path.join(dir, 'ca.pem'), pem);
      fs.writeFileSync(path.join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----\n');
      expect(loadConfig({ ...BASE, TARGET_SSL_CA_FILE: path.join(dir, 'ca.pem') }).targetTls.ca).toBe(pem);
      expect(() => loadConfig({ ...BASE, TARGET_SSL_CA_FILE: path.join(dir, 'none.pem') })).toThrow(/^TARGET_SSL_CA_FILE cannot be read \(ENOENT\)$/);
      expect(() => loadConfig({ ...BASE, TARGET_SSL_CA_FILE: path.join(dir, 'key.pem') })).toThrow(/^TARGET_SSL_CA_FILE must hold PEM certificates/);
      expect(() => loadConfig({ ...BASE, TARGET_SSL_CA_FILE: path.join(dir, 'key.pem') })).not.toThrow(/secret-key-bytes/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('drift checks in the configuration', () => {
  it('every 5 minutes by default; 0 turns them off; set from the environment', () => {
    expect(loadConfig(BASE).driftCheckIntervalMs).toBe(300_000);
    expect(loadConfig({ ...BASE, DRIFT_CHECK_INTERVAL_MS: '0' }).driftCheckIntervalMs).toBe(0);
    expect(loadConfig({ ...BASE, DRIFT_CHECK_INTERVAL_MS: '250' }).driftCheckIntervalMs).toBe(250);
  });
  it.each(['50', '86400001', '-1', '5m'])('refuses DRIFT_CHECK_INTERVAL_MS=%s naming the variable', (value) => {
    expect(() => loadConfig({ ...BASE, DRIFT_CHECK_INTERVAL_MS: value })).toThrow('DRIFT_CHECK_INTERVAL_MS');
  });
});

describe('OpenSearch in the configuration', () => {
  it('one URL, as before: the same node, no replicas by default', () => {
    expect(loadConfig(BASE)).toMatchObject({ opensearchUrl: null, opensearchNodes: [], opensearchReplicas: 0 });
    expect(loadConfig({ ...BASE, OPENSEARCH_URL: 'https://u:p@search.example:9200/prefix' }))
      .toMatchObject({ opensearchUrl: 'https://u:p@search.example:9200/prefix', opensearchNodes: ['https://u:p@search.example:9200/prefix'] });
  });
  it('a comma-separated list of nodes of one cluster (spaces around commas ignored)', () => {
    const c = loadConfig({ ...BASE, OPENSEARCH_URL: 'http://127.0.0.1:9200, http://127.0.0.1:9201,http://127.0.0.1:9202' });
    expect(c.opensearchNodes).toEqual(['http://127.0.0.1:9200', 'http://127.0.0.1:9201', 'http://127.0.0.1:9202']);
  });
  it.each([
    ['a trailing comma', 'http://a:9200,', /^OPENSEARCH_URL \(node 2 of 2\) is empty/],
    ['an empty entry', 'http://a:9200,,http://b:9200', /^OPENSEARCH_URL \(node 2 of 3\) is empty/],
    ['no URL', 'not a url', /^OPENSEARCH_URL is not a valid URL$/],
    ['an entry without a scheme', 'http://a:9200,b:9200', /^OPENSEARCH_URL \(node 2 of 2\) must be an http:\/\/ or https:\/\/ URL$/],
    ['another scheme', 'ftp://a', /^OPENSEARCH_URL must be an http:\/\/ or https:\/\/ URL$/],
    ['a node twice', 'http://a:9200,http://b:9200,http://a:9200', /^OPENSEARCH_URL \(node 3 of 3\) repeats node 1$/],
    ['33 nodes', Array.from({ length: 33 }, (_, i) => `http://n${i}:9200`).join(','), /^OPENSEARCH_URL lists 33 nodes, at most 32$/],
  ])('refuses %s, naming the variable (never the value)', (_what, value, message) => {
    expect(() => loadConfig({ ...BASE, OPENSEARCH_URL: value })).toThrow(message);
  });
  it('a password is never quoted in an error', () => {
    expect(() => loadConfig({ ...BASE, OPENSEARCH_URL: 'http://u:s3cret@a:9200,mailto:s3cret' })).not.toThrow(/s3cret/);
    expect(() => loadConfig({ ...BASE, OPENSEARCH_URL: 'http://u:s3cret@a:9200,mailto:s3cret' })).toThrow(ConfigError);
  });
  it('OPENSEARCH_EVENT_SHARDS: 1 to 64, default 1', () => {
    expect(loadConfig(BASE).opensearchEventShards).toBe(1);
    expect(loadConfig({ ...BASE, OPENSEARCH_EVENT_SHARDS: '24' }).opensearchEventShards).toBe(24);
    for (const bad of ['0', '65', 'two', '1.5']) expect(() => loadConfig({ ...BASE, OPENSEARCH_EVENT_SHARDS: bad })).toThrow(/^OPENSEARCH_EVENT_SHARDS must be an integer from 1 to 64/);
  });

  it('OPENSEARCH_REPLICAS: 0 to 5', () => {
    expect(loadConfig({ ...BASE, OPENSEARCH_REPLICAS: '1' }).opensearchReplicas).toBe(1);
    expect(loadConfig({ ...BASE, OPENSEARCH_REPLICAS: '5' }).opensearchReplicas).toBe(5);
    for (const bad of ['6', '-1', 'one', '1.5']) expect(() => loadConfig({ ...BASE, OPENSEARCH_REPLICAS: bad })).toThrow(/^OPENSEARCH_REPLICAS must be an integer from 0 to 5/);
  });
});
