/**
 * The one configuration object, built from the environment once at start-up and validated there:
 * a bad value stops the process with a message naming the variable, never a failure later.
 */
import { BaseError, BaseErrorCode } from './domain-error';

export interface GatewayConfig {
  /** The gateway's own PostgreSQL (tenants, services, tokens, policy history). */
  databaseUrl: string;
  /** HTTP port of `serve`. */
  port: number;
  /** OpenSearch for audit events (used by the ingest and query paths). */
  opensearchUrl: string | null;
  /** Audit events are kept this many days; older daily indices are deleted whole by the ingester. */
  eventRetentionDays: number;
  /** How long to wait for a target PostgreSQL service to accept a connection. */
  targetConnectTimeoutMs: number;
  /** statement_timeout for every statement run on a target service. */
  targetStatementTimeoutMs: number;
  /** How long a service-level change may take to become visible after pg_reload_conf(). */
  applyReadbackTimeoutMs: number;
  /** How long a token's identity (and a service's project) is reused before asking the database again; 0: always ask. */
  authCacheTtlMs: number;
  /** Largest HTTP request body accepted on /graphql. */
  maxBodyBytes: number;
  /** The HTTP server's own bounds on a client: header size and how long headers, a whole request and an idle keep-alive may take. */
  http: HttpLimits;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Bearer token that GET /metrics requires; null: the gateway does not serve /metrics (404). */
  metricsToken: string | null;
}

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

function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new ConfigError('METRICS_TOKEN must be 16 to 256 visible ASCII characters (no spaces)');
  return raw;
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);
  }
  return {
    databaseUrl: postgresUrl(env, 'DATABASE_URL'),
    port: int(env, 'PORT', 4000, 0, 65535),
    opensearchUrl: env.OPENSEARCH_URL || null,
    eventRetentionDays: int(env, 'EVENT_RETENTION_DAYS', 30, 1, 3650),
    targetConnectTimeoutMs: int(env, 'TARGET_CONNECT_TIMEOUT_MS', 5000, 100, 120000),
    targetStatementTimeoutMs: int(env, 'TARGET_STATEMENT_TIMEOUT_MS', 15000, 100, 600000),
    applyReadbackTimeoutMs: int(env, 'APPLY_READBACK_TIMEOUT_MS', 5000, 100, 120000),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_MS', 2000, 0, 60000),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    http: {
      maxHeaderBytes: int(env, 'HTTP_MAX_HEADER_BYTES', DEFAULT_HTTP_LIMITS.maxHeaderBytes, 1024, 1024 * 1024),
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.headersTimeoutMs, 100, 600_000),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.requestTimeoutMs, 100, 3_600_000),
      keepAliveTimeoutMs: int(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 100, 600_000),
    },
    logLevel: logLevel as GatewayConfig['logLevel'],
    metricsToken: metricsToken(env),
  };
}
