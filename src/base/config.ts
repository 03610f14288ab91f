/**
 * The one configuration object, built from the environment once at start-up and validated there:
 * a bad value stops the process with a message naming the variable, never a failure later.
 */
import { readFileSync } from 'node:fs';
import { MasterKeyring, MasterKeysError, parseMasterKeys } from './crypto/master-keys';
import { BaseError, BaseErrorCode } from './domain-error';

/**
 * TLS toward managed PostgreSQL services, the modes the `pg` client really implements (no `prefer`/`allow`:
 * it cannot fall back to plain text). In order of strength; a service URL's own `sslmode` can only raise it.
 *   disable      no TLS
 *   require      TLS, the certificate not checked (protects against a passive listener only)
 *   verify-ca    TLS, the certificate chain checked against the CA (TARGET_SSL_CA_FILE, else Node's public roots)
 *   verify-full  verify-ca, and the certificate must name the host of the URL
 */
export const TARGET_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type TargetSslMode = typeof TARGET_SSL_MODES[number];
export const DEFAULT_TARGET_SSL_MODE: TargetSslMode = 'verify-full';

export interface TargetTls {
  /** The weakest TLS mode any target connection may use (TARGET_SSLMODE). */
  sslMode: TargetSslMode;
  /** PEM CA certificates trusted for verify-ca/verify-full (TARGET_SSL_CA_FILE); null: Node's public roots. */
  ca: string | null;
}

export interface GatewayConfig {
  /** The gateway's own PostgreSQL (tenants, services, tokens, policy history). */
  databaseUrl: string;
  /** HTTP port of `serve`. */
  port: number;
  /** OpenSearch for audit events (used by the ingest and query paths): OPENSEARCH_URL as given; null when unset. */
  opensearchUrl: string | null;
  /** The node URLs OPENSEARCH_URL lists (one, or several nodes of one cluster, comma-separated); empty when unset. */
  opensearchNodes: string[];
  /** Replicas of every index the gateway creates (OPENSEARCH_REPLICAS): its index templates say so. */
  opensearchReplicas: number;
  /**
   * Primary shards of each daily event index (OPENSEARCH_EVENT_SHARDS): one for up to some 40 GB of events a day,
   * more on a cluster whose daily index would be larger (bench/README.md, cost model).
   */
  opensearchEventShards: number;
  /** Audit events are kept this many days; older daily indices are deleted whole by the ingester. */
  eventRetentionDays: number;
  /** Bounds of the ingester (README, Ingest bounds). */
  ingest: IngestLimits;
  /** How long to wait for a target PostgreSQL service to accept a connection. */
  targetConnectTimeoutMs: number;
  /** statement_timeout for every statement run on a target service. */
  targetStatementTimeoutMs: number;
  /** lock_timeout for every statement run on a target service: a change never queues behind a customer's locks for long. */
  targetLockTimeoutMs: number;
  /** Requests of this process that may hold connections to one service at once (each holds at most two). */
  targetMaxConnectionsPerService: number;
  /** How long a service-level change may take to become visible after pg_reload_conf(). */
  applyReadbackTimeoutMs: number;
  /** Time between two drift checks of every enabled policy by `serve` (policy.drift-monitor.ts); 0: no checks. */
  driftCheckIntervalMs: number;
  /**
   * `serve`'s lapse worker works the due plan-lapse jobs this often; a failed job waits this long after its first
   * failure, doubling with each further one, at most an hour (LAPSE_RETRY_INTERVAL_MS).
   */
  lapseRetryIntervalMs: number;
  /**
   * How long a token's identity, or the fact that a token is unknown (so is revoked or not yet created), and a
   * service's project are reused before asking the database again; 0: always ask. A revocation takes effect within it.
   */
  authCacheTtlMs: number;
  /** Entries each auth cache keeps (known tokens, unknown tokens, services), least recently used going first. */
  authCacheMaxEntries: number;
  /** Largest HTTP request body accepted on /graphql. */
  maxBodyBytes: number;
  /** Largest GraphQL response sent; a larger one is replaced by a RESPONSE_TOO_LARGE error. */
  maxResponseBytes: number;
  /** Bounds on what the query path answers. */
  answers: AnswerLimits;
  /** Bounds of live tails (auditEventTail; README, Live tail). */
  tail: TailLimits;
  /** The HTTP server's own bounds on a client: header size and how long headers, a whole request and an idle keep-alive may take. */
  http: HttpLimits;
  /** What one GraphQL request may ask for, checked before anything runs (src/api/limits.ts). */
  graphql: GraphQLLimits;
  /** How much a token (in cost points) and an address (in failed authentications) may ask for over time (src/api/rate-limit.ts). */
  rateLimit: RateLimits;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Bearer token that GET /metrics requires; null: the gateway does not serve /metrics (404). */
  metricsToken: string | null;
  /**
   * The master keys that wrap every service's credential data key (CREDENTIALS_MASTER_KEYS or
   * CREDENTIALS_MASTER_KEYS_FILE; the first is current). null when neither is set: then `serve`, `migrate`
   * and `admin` refuse to start (requireMasterKeys); `ingest` does not need them.
   */
  credentialsMasterKeys: MasterKeyring | null;
  /** TLS toward managed services. */
  targetTls: TargetTls;
  /** Bounds of exports (README, Export). */
  exports: ExportLimits;
}

/** Bounds of exports (src/modules/audit-events/export.service.ts; README, Export; EXPORT_*). */
export interface ExportLimits {
  /** Events read per OpenSearch request (EXPORT_PAGE_SIZE). */
  pageSize: number;
  /** How long the PIT lives after each read (EXPORT_PIT_KEEP_ALIVE_SECONDS); a partial export's PIT lives this long for its resume. */
  pitKeepAliveSeconds: number;
  /** Exports one token may run at once (EXPORT_MAX_CONCURRENT_PER_TOKEN); one more is EXPORT_BUSY. */
  maxConcurrentPerToken: number;
  /** Events one request writes at most (EXPORT_MAX_EVENTS); then it ends `partial` with a resume token. */
  maxEventsPerRequest: number;
  /** How long one request streams at most (EXPORT_MAX_SECONDS); then it ends `partial` with a resume token. */
  maxSeconds: number;
}

export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  pageSize: 1000, pitKeepAliveSeconds: 120, maxConcurrentPerToken: 2, maxEventsPerRequest: 1_000_000, maxSeconds: 900,
};

/** What the ingester accepts: bounds no log line can push past (README, Ingest bounds). */
export interface IngestLimits {
  /** Largest record read (csvlog row, jsonlog line, stderr record with its lines, managed NDJSON document); longer: a dead letter. */
  maxRecordBytes: number;
  /** Events more than this far ahead of the ingester's clock are dead letters (older than the retention are too). */
  maxFutureSkewMs: number;
  /** Dead letters are kept this many days (daily indices, deleted whole by the ingester's sweep). */
  deadLetterRetentionDays: number;
  /** How often the ingester reads its service's redaction rules' version (ms): a change applies to what is read from then on. */
  redactionRefreshMs: number;
  /** Mapped hosts of one shared raw index pattern at most (admin raw-host refuses more; ingest --raw-hosts refuses to read a pattern with more). */
  rawMaxHosts: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxRecordBytes: 1024 * 1024, maxFutureSkewMs: 24 * 3_600_000, deadLetterRetentionDays: 30,
  redactionRefreshMs: 5000, rawMaxHosts: 10_000 };

/** A bad environment: the process stops at start-up with this message, which names the variable. */
export interface HttpLimits {
  /** Largest request head (request line + headers); larger: 431. */
  maxHeaderBytes: number;
  /** Time to receive the whole request head; slower: 408. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included; slower: 408. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open. */
  keepAliveTimeoutMs: number;
}

export interface GraphQLLimits {
  /** Deepest selection nesting (fragments flattened). */
  maxDepth: number;
  /** Aliases in one operation. */
  maxAliases: number;
  /** Fields at the root of one operation (fragments flattened). */
  maxRootFields: number;
  /** Lexical tokens of the whole document: refused at parse time, before anything else. */
  maxTokens: number;
  /** Directives in one document. */
  maxDirectives: number;
  /** Largest cost of one operation under the cost model (src/api/limits.ts, FIELD_COST). */
  maxCost: number;
}

export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = { maxDepth: 12, maxAliases: 10, maxRootFields: 10, maxTokens: 2000, maxDirectives: 20, maxCost: 1000 };

/**
 * Rate limits, as leaky buckets (src/api/rate-limit.ts): each token has a bucket of `tokenBucketPoints` cost
 * points restoring at `tokenRestorePerSecond`; each client address a bucket of `addressBucketPoints` failed
 * authentications restoring at `addressRestorePerSecond`. A bucket size of 0 turns that limit off.
 */
export interface RateLimits {
  /** Cost points a token may spend at once (0: no per-token limit); at least GRAPHQL_MAX_COST otherwise. */
  tokenBucketPoints: number;
  /** Cost points restored to a token's bucket per second. */
  tokenRestorePerSecond: number;
  /** Requests without a valid token an address may send at once (0: no per-address limit). */
  addressBucketPoints: number;
  /** Of those, restored per second (RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE / 60). */
  addressRestorePerSecond: number;
  /** Buckets kept per kind (tokens, addresses); the least recently used is forgotten first (it starts full again). */
  maxKeys: number;
  /** Proxies in front of the gateway that append the client's address to X-Forwarded-For (0: the header is ignored). */
  trustProxyHops: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  tokenBucketPoints: 2000, tokenRestorePerSecond: 100, addressBucketPoints: 60, addressRestorePerSecond: 1, maxKeys: 100_000, trustProxyHops: 0,
};
/** Bounds on the answers of the event queries. */
export interface AnswerLimits {
  /** auditEvents cuts each statement and parameter at this many UTF-8 bytes (auditEvent does not). */
  eventTextMaxBytes: number;
  /** auditEvents returns at most this many parameters per event. */
  eventMaxParameters: number;
  /** auditEventStats without filter.from covers this many hours before filter.to (or now). */
  statsDefaultWindowHours: number;
}

export const DEFAULT_ANSWER_LIMITS: AnswerLimits = { eventTextMaxBytes: 4096, eventMaxParameters: 100, statsDefaultWindowHours: 24 };
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Bounds of live tails (src/modules/audit-events/event.tail.ts; README, Live tail). */
export interface TailLimits {
  /** Time between two polls of one subscription (TAIL_POLL_INTERVAL_MS). */
  pollIntervalMs: number;
  /** An event is delivered once its ingestedAt is this old (TAIL_SETTLE_MS): covers refresh, bulk latency and clock skew. */
  settleMs: number;
  /** Events one poll delivers at most (TAIL_MAX_EVENTS_PER_POLL): at most this many per pollIntervalMs per subscription. */
  maxBatch: number;
  /** Open subscriptions per API token (TAIL_MAX_PER_TOKEN). */
  maxPerToken: number;
  /** Open subscriptions per gateway process (TAIL_MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** A subscription ends after this long (TAIL_MAX_LIFETIME_MS). */
  maxLifetimeMs: number;
  /** A subscription that delivered nothing for this long ends (TAIL_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** How old a resume cursor may be (TAIL_RESUME_WINDOW_HOURS). */
  resumeWindowMs: number;
}

export const DEFAULT_TAIL_LIMITS: TailLimits = {
  pollIntervalMs: 500, settleMs: 3000, maxBatch: 500, maxPerToken: 5, maxSubscriptions: 200,
  maxLifetimeMs: 3_600_000, idleTimeoutMs: 900_000, resumeWindowMs: 24 * 3_600_000,
};

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxHeaderBytes: 16 * 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

export class ConfigError extends BaseError {
  constructor(message: string) { super(BaseErrorCode.INVALID_CONFIG, message); }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** A positive decimal number such as `100` or `0.5`. */
function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function rateLimits(env: Env, maxCost: number): RateLimits {
  const points = int(env, 'RATE_LIMIT_BUCKET_POINTS', Math.max(DEFAULT_RATE_LIMITS.tokenBucketPoints, maxCost), 0, 100_000_000);
  if (points > 0 && points < maxCost) {
    throw new ConfigError(`RATE_LIMIT_BUCKET_POINTS must be 0 (off) or at least GRAPHQL_MAX_COST (${maxCost}), got "${points}": `
      + 'a request within the cost limit could otherwise never run');
  }
  const perMinute = int(env, 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', DEFAULT_RATE_LIMITS.addressBucketPoints, 0, 1_000_000);
  return {
    tokenBucketPoints: points,
    tokenRestorePerSecond: decimal(env, 'RATE_LIMIT_RESTORE_PER_SECOND', DEFAULT_RATE_LIMITS.tokenRestorePerSecond, 0.001, 100_000_000),
    addressBucketPoints: perMinute,
    addressRestorePerSecond: perMinute / 60,
    maxKeys: int(env, 'RATE_LIMIT_MAX_KEYS', DEFAULT_RATE_LIMITS.maxKeys, 100, 10_000_000),
    trustProxyHops: int(env, 'TRUST_PROXY_HOPS', DEFAULT_RATE_LIMITS.trustProxyHops, 0, 10),
  };
}

export const DEFAULT_DRIFT_CHECK_INTERVAL_MS = 300_000;

/** 0 (off), or 100 ms to a day. */
function driftCheckInterval(env: Env): number {
  const ms = int(env, 'DRIFT_CHECK_INTERVAL_MS', DEFAULT_DRIFT_CHECK_INTERVAL_MS, 0, 86_400_000);
  if (ms > 0 && ms < 100) throw new ConfigError(`DRIFT_CHECK_INTERVAL_MS must be 0 (off) or from 100 to 86400000, got "${ms}"`);
  return ms;
}

function postgresUrl(env: Env, name: string): string {
  const raw = env[name];
  if (!raw) throw new ConfigError(`${name} is not set (postgres://user@host:port/database)`);
  let url: URL;
  try { url = new URL(raw); } catch { throw new ConfigError(`${name} is not a valid URL`); }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`${name} must be a postgres:// URL`);
  }
  return raw;
}

/** Nodes one OPENSEARCH_URL may list. */
export const MAX_OPENSEARCH_NODES = 32;

/**
 * OPENSEARCH_URL: one http(s) URL, or a comma-separated list of the URLs of several nodes of the same cluster
 * (reads and writes go to the next node when one cannot be reached). A comma inside a URL (a password) is
 * written %2C. Errors never quote the value: it may hold a password.
 */
function opensearchNodes(env: Env): string[] {
  const raw = env.OPENSEARCH_URL;
  if (!raw) return [];
  const nodes = raw.split(',').map((n) => n.trim());
  if (nodes.length > MAX_OPENSEARCH_NODES) throw new ConfigError(`OPENSEARCH_URL lists ${nodes.length} nodes, at most ${MAX_OPENSEARCH_NODES}`);
  nodes.forEach((node, i) => {
    const which = nodes.length > 1 ? ` (node ${i + 1} of ${nodes.length})` : '';
    if (node === '') throw new ConfigError(`OPENSEARCH_URL${which} is empty: a comma-separated list of http(s) URLs`);
    let url: URL;
    try { url = new URL(node); } catch { throw new ConfigError(`OPENSEARCH_URL${which} is not a valid URL`); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`OPENSEARCH_URL${which} must be an http:// or https:// URL`);
    if (nodes.indexOf(node) !== i) throw new ConfigError(`OPENSEARCH_URL${which} repeats node ${nodes.indexOf(node) + 1}`);
  });
  return nodes;
}

function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new ConfigError('METRICS_TOKEN must be 16 to 256 visible ASCII characters (no spaces)');
  return raw;
}

/** CREDENTIALS_MASTER_KEYS, or the file CREDENTIALS_MASTER_KEYS_FILE names (never both); null when neither is set. */
function masterKeys(env: Env): MasterKeyring | null {
  const inline = env.CREDENTIALS_MASTER_KEYS;
  const file = env.CREDENTIALS_MASTER_KEYS_FILE;
  if (inline && file) throw new ConfigError('set CREDENTIALS_MASTER_KEYS or CREDENTIALS_MASTER_KEYS_FILE, not both');
  let text: string;
  let source: string;
  if (inline) { text = inline; source = 'CREDENTIALS_MASTER_KEYS'; }
  else if (file) {
    try { text = readFileSync(file, 'utf8'); } catch (err) {
      throw new ConfigError(`CREDENTIALS_MASTER_KEYS_FILE cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    source = 'CREDENTIALS_MASTER_KEYS_FILE';
  } else return null;
  try { return parseMasterKeys(text, source); } catch (err) {
    if (err instanceof MasterKeysError) throw new ConfigError(err.message);
    throw err;
  }
}

function targetTls(env: Env): TargetTls {
  const mode = env.TARGET_SSLMODE || DEFAULT_TARGET_SSL_MODE;
  if (!(TARGET_SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`TARGET_SSLMODE must be ${TARGET_SSL_MODES.join(', ')} (prefer and allow cannot be honoured by the client), got "${mode.slice(0, 40)}"`);
  }
  const caFile = env.TARGET_SSL_CA_FILE;
  let ca: string | null = null;
  if (caFile) {
    try { ca = readFileSync(caFile, 'utf8'); } catch (err) {
      throw new ConfigError(`TARGET_SSL_CA_FILE cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (ca.length > 1024 * 1024 || !/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(ca)) {
      throw new ConfigError('TARGET_SSL_CA_FILE must hold PEM certificates (-----BEGIN CERTIFICATE-----), at most 1 MiB');
    }
  }
  return { sslMode: mode as TargetSslMode, ca };
}

/** The master keys, for the commands that seal or open credentials (serve, migrate, admin); a clear refusal without them. */
export function requireMasterKeys(config: Pick<GatewayConfig, 'credentialsMasterKeys'>): MasterKeyring {
  if (!config.credentialsMasterKeys) {
    throw new ConfigError('CREDENTIALS_MASTER_KEYS is not set: service credentials are encrypted with it ' +
      '(version:base64 of 32 random bytes, e.g. 1:$(openssl rand -base64 32); or CREDENTIALS_MASTER_KEYS_FILE); `npm start` makes a local one');
  }
  return config.credentialsMasterKeys;
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);
  }
  const maxCost = int(env, 'GRAPHQL_MAX_COST', DEFAULT_GRAPHQL_LIMITS.maxCost, 10, 1_000_000);
  return {
    databaseUrl: postgresUrl(env, 'DATABASE_URL'),
    port: int(env, 'PORT', 4000, 0, 65535),
    opensearchUrl: env.OPENSEARCH_URL || null,
    opensearchNodes: opensearchNodes(env),
    opensearchReplicas: int(env, 'OPENSEARCH_REPLICAS', 0, 0, 5),
    opensearchEventShards: int(env, 'OPENSEARCH_EVENT_SHARDS', 1, 1, 64),
    eventRetentionDays: int(env, 'EVENT_RETENTION_DAYS', 30, 1, 3650),
    ingest: {
      maxRecordBytes: int(env, 'INGEST_MAX_RECORD_BYTES', DEFAULT_INGEST_LIMITS.maxRecordBytes, 4096, 32 * 1024 * 1024),
      maxFutureSkewMs: int(env, 'INGEST_MAX_FUTURE_SKEW_MS', DEFAULT_INGEST_LIMITS.maxFutureSkewMs, 0, 7 * 24 * 3_600_000),
      deadLetterRetentionDays: int(env, 'DEAD_LETTER_RETENTION_DAYS', DEFAULT_INGEST_LIMITS.deadLetterRetentionDays, 1, 3650),
      redactionRefreshMs: int(env, 'INGEST_REDACTION_REFRESH_MS', DEFAULT_INGEST_LIMITS.redactionRefreshMs, 100, 60_000),
      rawMaxHosts: int(env, 'INGEST_RAW_MAX_HOSTS', DEFAULT_INGEST_LIMITS.rawMaxHosts, 1, 100_000),
    },
    targetConnectTimeoutMs: int(env, 'TARGET_CONNECT_TIMEOUT_MS', 5000, 100, 120000),
    targetStatementTimeoutMs: int(env, 'TARGET_STATEMENT_TIMEOUT_MS', 15000, 100, 600000),
    targetLockTimeoutMs: int(env, 'TARGET_LOCK_TIMEOUT_MS', 3000, 100, 600000),
    targetMaxConnectionsPerService: int(env, 'TARGET_MAX_CONNECTIONS_PER_SERVICE', 4, 1, 100),
    applyReadbackTimeoutMs: int(env, 'APPLY_READBACK_TIMEOUT_MS', 5000, 100, 120000),
    driftCheckIntervalMs: driftCheckInterval(env),
    lapseRetryIntervalMs: int(env, 'LAPSE_RETRY_INTERVAL_MS', 30_000, 100, 3_600_000),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_MS', 2000, 0, 60000),
    authCacheMaxEntries: int(env, 'AUTH_CACHE_MAX_ENTRIES', 10_000, 10, 1_000_000),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxResponseBytes: int(env, 'MAX_RESPONSE_BYTES', DEFAULT_MAX_RESPONSE_BYTES, 1024, 1024 * 1024 * 1024),
    answers: {
      eventTextMaxBytes: int(env, 'EVENT_TEXT_MAX_BYTES', DEFAULT_ANSWER_LIMITS.eventTextMaxBytes, 16, 32 * 1024 * 1024),
      eventMaxParameters: int(env, 'EVENT_MAX_PARAMETERS', DEFAULT_ANSWER_LIMITS.eventMaxParameters, 1, 65535),
      // at most 1999: the default interval (1h) then always fits in the 2000 buckets of a histogram
      statsDefaultWindowHours: int(env, 'STATS_DEFAULT_WINDOW_HOURS', DEFAULT_ANSWER_LIMITS.statsDefaultWindowHours, 1, 1999),
    },
    tail: {
      pollIntervalMs: int(env, 'TAIL_POLL_INTERVAL_MS', DEFAULT_TAIL_LIMITS.pollIntervalMs, 100, 60_000),
      settleMs: int(env, 'TAIL_SETTLE_MS', DEFAULT_TAIL_LIMITS.settleMs, 0, 600_000),
      maxBatch: int(env, 'TAIL_MAX_EVENTS_PER_POLL', DEFAULT_TAIL_LIMITS.maxBatch, 1, 10_000),
      maxPerToken: int(env, 'TAIL_MAX_PER_TOKEN', DEFAULT_TAIL_LIMITS.maxPerToken, 1, 10_000),
      maxSubscriptions: int(env, 'TAIL_MAX_SUBSCRIPTIONS', DEFAULT_TAIL_LIMITS.maxSubscriptions, 1, 100_000),
      maxLifetimeMs: int(env, 'TAIL_MAX_LIFETIME_MS', DEFAULT_TAIL_LIMITS.maxLifetimeMs, 1000, 7 * 24 * 3_600_000),
      idleTimeoutMs: int(env, 'TAIL_IDLE_TIMEOUT_MS', DEFAULT_TAIL_LIMITS.idleTimeoutMs, 1000, 7 * 24 * 3_600_000),
      resumeWindowMs: int(env, 'TAIL_RESUME_WINDOW_HOURS', DEFAULT_TAIL_LIMITS.resumeWindowMs / 3_600_000, 1, 24 * 365) * 3_600_000,
    },
    http: {
      maxHeaderBytes: int(env, 'HTTP_MAX_HEADER_BYTES', DEFAULT_HTTP_LIMITS.maxHeaderBytes, 1024, 1024 * 1024),
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 100, 600_000),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 100, 3_600_000),
      keepAliveTimeoutMs: int(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 100, 600_000),
    },
    graphql: {
      maxDepth: int(env, 'GRAPHQL_MAX_DEPTH', DEFAULT_GRAPHQL_LIMITS.maxDepth, 3, 100),
      maxAliases: int(env, 'GRAPHQL_MAX_ALIASES', DEFAULT_GRAPHQL_LIMITS.maxAliases, 0, 1000),
      maxRootFields: int(env, 'GRAPHQL_MAX_ROOT_FIELDS', DEFAULT_GRAPHQL_LIMITS.maxRootFields, 1, 1000),
      maxTokens: int(env, 'GRAPHQL_MAX_TOKENS', DEFAULT_GRAPHQL_LIMITS.maxTokens, 100, 1_000_000),
      maxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', DEFAULT_GRAPHQL_LIMITS.maxDirectives, 0, 1000),
      maxCost,
    },
    rateLimit: rateLimits(env, maxCost),
    logLevel: logLevel as GatewayConfig['logLevel'],
    metricsToken: metricsToken(env),
    credentialsMasterKeys: masterKeys(env),
    targetTls: targetTls(env),
    exports: {
      pageSize: int(env, 'EXPORT_PAGE_SIZE', DEFAULT_EXPORT_LIMITS.pageSize, 1, 10_000),
      pitKeepAliveSeconds: int(env, 'EXPORT_PIT_KEEP_ALIVE_SECONDS', DEFAULT_EXPORT_LIMITS.pitKeepAliveSeconds, 10, 3600),
      maxConcurrentPerToken: int(env, 'EXPORT_MAX_CONCURRENT_PER_TOKEN', DEFAULT_EXPORT_LIMITS.maxConcurrentPerToken, 1, 100),
      maxEventsPerRequest: int(env, 'EXPORT_MAX_EVENTS', DEFAULT_EXPORT_LIMITS.maxEventsPerRequest, 1, 100_000_000),
      maxSeconds: int(env, 'EXPORT_MAX_SECONDS', DEFAULT_EXPORT_LIMITS.maxSeconds, 1, 86_400),
    },
  };
}
