/**
 * Prometheus metrics (prom-client). One `Registry` per process, made by its composition root (`serve` or
 * `ingest`) and handed to what records: no global registry, so a test makes its own and reads it back.
 * Every name starts with `pgaudit_gateway_`; labels take values from small fixed sets only (never a tenant,
 * a service id, a token or user text), so the series count is bounded and metrics reveal no tenant data.
 * Modules record through narrow interfaces they declare themselves (TargetConnectionRecorder,
 * IngestRecorder, KafkaRecorder, SharedRawRecorder); the objects built here satisfy them structurally.
 */
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'pgaudit_gateway_';

export type MetricsRegistry = Registry;

/** A fresh registry; with `defaults` (the processes do, unit tests need not) Node's process metrics too. */
export function createMetricsRegistry(opts: { defaults?: boolean } = {}): MetricsRegistry {
  const registry = new Registry();
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/** What the gateway's HTTP server and GraphQL plugin record. */
export interface GatewayMetrics {
  httpRequests: Counter<'route' | 'method' | 'status'>;
  graphqlOperations: Counter<'operation' | 'type' | 'outcome'>;
  graphqlDuration: Histogram<'operation' | 'type'>;
  graphqlErrors: Counter<'code'>;
  rateLimited: Counter<'kind'>;
  /** POST /export (src/api/export-route.ts): started by format, ended by status, failed by code, what was written. */
  exportsStarted: Counter<'format'>;
  exportsEnded: Counter<'status'>;
  exportsFailed: Counter<'code'>;
  exportEvents: Counter<'format'>;
  exportBytes: Counter<'format'>;
}

/** How a started export ended (the export module's outcomes): each present at 0 from the start. */
export const EXPORT_END_STATUSES = ['complete', 'partial', 'error', 'aborted'] as const;
/** The export formats (the export module's EXPORT_FORMATS; base cannot import it). */
const EXPORT_FORMAT_LABELS = ['ndjson', 'csv'] as const;

export function gatewayMetrics(registry: MetricsRegistry): GatewayMetrics {
  const p = METRIC_PREFIX;
  return {
    httpRequests: new Counter({ name: `${p}http_requests_total`, help: 'HTTP requests answered, by route (a known path or "other"), method and status code',
      labelNames: ['route', 'method', 'status'], registers: [registry] }),
    graphqlOperations: new Counter({ name: `${p}graphql_operations_total`,
      help: 'GraphQL operations by root field (a field of the schema, or "other"), operation type and outcome (ok, user_error, error)',
      labelNames: ['operation', 'type', 'outcome'], registers: [registry] }),
    graphqlDuration: new Histogram({ name: `${p}graphql_request_duration_seconds`, help: 'Time from the start of a GraphQL request to its response, by root field and operation type',
      labelNames: ['operation', 'type'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    graphqlErrors: new Counter({ name: `${p}graphql_errors_total`, help: 'GraphQL errors sent to clients, by extensions.code',
      labelNames: ['code'], registers: [registry] }),
    rateLimited: rateLimitedCounter(registry),
    ...exportCounters(registry),
  };
}

function exportCounters(registry: MetricsRegistry): Pick<GatewayMetrics, 'exportsStarted' | 'exportsEnded' | 'exportsFailed' | 'exportEvents' | 'exportBytes'> {
  const p = METRIC_PREFIX;
  const started = new Counter({ name: `${p}exports_started_total`, help: 'Exports (POST /export) whose answer started, by format',
    labelNames: ['format'], registers: [registry] });
  const ended = new Counter({ name: `${p}exports_ended_total`,
    help: 'Started exports by how they ended: complete, partial (a request bound: resumable), error (stopped by a fault: resumable), aborted (the client went away)',
    labelNames: ['status'], registers: [registry] });
  const failed = new Counter({ name: `${p}exports_failed_total`,
    help: 'Export requests refused before their first byte, or stopped by an error while streaming, by error code',
    labelNames: ['code'], registers: [registry] });
  const events = new Counter({ name: `${p}export_events_total`, help: 'Events written by exports, by format', labelNames: ['format'], registers: [registry] });
  const bytes = new Counter({ name: `${p}export_bytes_total`, help: 'Bytes of export bodies written (header rows and end markers included), by format',
    labelNames: ['format'], registers: [registry] });
  for (const format of EXPORT_FORMAT_LABELS) { started.labels(format).inc(0); events.labels(format).inc(0); bytes.labels(format).inc(0); }
  for (const status of EXPORT_END_STATUSES) ended.labels(status).inc(0);
  return { exportsStarted: started, exportsEnded: ended, exportsFailed: failed, exportEvents: events, exportBytes: bytes };
}

/** The kinds of rate limit (src/api/rate-limit.ts): a token's cost bucket, an address's failed authentications. */
export const RATE_LIMIT_KINDS = ['token', 'address'] as const;

function rateLimitedCounter(registry: MetricsRegistry): Counter<'kind'> {
  const counter = new Counter({ name: `${METRIC_PREFIX}rate_limited_requests_total`,
    help: 'Requests refused with RATE_LIMITED (HTTP 429), by kind: token (its cost bucket was short) or address (too many requests without a valid token)',
    labelNames: ['kind'], registers: [registry] });
  for (const kind of RATE_LIMIT_KINDS) counter.labels(kind).inc(0);
  return counter;
}

/** Satisfies the audit-events module's TailRecorder (live tails, src/modules/audit-events/tail.service.ts). */
export interface TailMetrics {
  opened(): void;
  delivered(): void;
  ended(reason: string): void;
}

/**
 * `endReasons`: why a tail ends (the module's TAIL_END_REASONS; base cannot import it), each present at 0 from
 * the start. Labels only ever hold those reasons.
 */
export function tailMetrics(registry: MetricsRegistry, endReasons: readonly string[]): TailMetrics {
  const p = METRIC_PREFIX;
  const open = new Gauge({ name: `${p}tail_subscriptions_open`, help: 'Live tails (auditEventTail on /graphql/stream) open now', registers: [registry] });
  const delivered = new Counter({ name: `${p}tail_events_delivered_total`, help: 'Events delivered by live tails', registers: [registry] });
  const ended = new Counter({ name: `${p}tail_subscriptions_ended_total`,
    help: 'Live tails ended, by reason: lifetime, idle, token_expired, shutdown (SUBSCRIPTION_ENDED), client_closed, store_unavailable, error',
    labelNames: ['reason'], registers: [registry] });
  for (const reason of endReasons) ended.labels(reason).inc(0);
  return {
    opened: () => open.inc(),
    delivered: () => delivered.inc(),
    ended: (reason) => { open.dec(); ended.labels(endReasons.includes(reason) ? reason : 'error').inc(); },
  };
}

/** Satisfies the audit-policy module's TargetConnectionRecorder. */
export interface TargetConnectionMetrics {
  opened(): void;
  closed(): void;
  refused(): void;
  unreachable(): void;
}

export function targetConnectionMetrics(registry: MetricsRegistry): TargetConnectionMetrics {
  const open = new Gauge({ name: `${METRIC_PREFIX}target_connections_open`, help: 'Connections to managed PostgreSQL services open now', registers: [registry] });
  const total = new Counter({ name: `${METRIC_PREFIX}target_connections_total`,
    help: 'Connection attempts to managed PostgreSQL services: opened, refused (the server answered no), unreachable (no answer in time)',
    labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['opened', 'refused', 'unreachable']) total.labels(outcome).inc(0);
  return {
    opened: () => { open.inc(); total.labels('opened').inc(); },
    closed: () => open.dec(),
    refused: () => total.labels('refused').inc(),
    unreachable: () => total.labels('unreachable').inc(),
  };
}

/**
 * Satisfies the audit-policy module's DriftRecorder (the drift monitor of `serve`). `outcomes`: the check outcomes
 * (the module's DRIFT_CHECK_OUTCOMES; base cannot import it), each present at 0 from the start.
 */
export interface DriftMetrics {
  checked(outcome: string): void;
  detected(): void;
  drifted(count: number): void;
}

export function driftMetrics(registry: MetricsRegistry, outcomes: readonly string[]): DriftMetrics {
  const p = METRIC_PREFIX;
  const gauge = new Gauge({ name: `${p}audit_policies_drifted`,
    help: 'Enabled audit policies whose server settings differ from what the gateway applied, as of their latest drift check', registers: [registry] });
  const detections = new Counter({ name: `${p}audit_policy_drift_detections_total`,
    help: 'Drift found on an audit policy that was not drifted (or drifted differently) at its previous check', registers: [registry] });
  const checks = new Counter({ name: `${p}audit_policy_drift_checks_total`,
    help: 'Drift checks of audit policies, by outcome: in_sync, drifted, unreachable (the server could not be read)',
    labelNames: ['outcome'], registers: [registry] });
  for (const outcome of outcomes) checks.labels(outcome).inc(0);
  return {
    checked: (outcome) => checks.labels(outcome).inc(),
    detected: () => detections.inc(),
    drifted: (count) => gauge.set(count),
  };
}

/** Satisfies the audit-policy module's LapseRecorder. */
export interface LapseMetrics {
  disabled(): void;
  failed(reason: string): void;
  pending(n: number): void;
}

/**
 * `failureReasons`: the lapse failure reasons, each present at 0 from the start (the composition root passes the
 * audit-policy module's LAPSE_FAILURE_REASONS; base cannot import it). Labels only ever hold those reasons.
 */
export function lapseMetrics(registry: MetricsRegistry, failureReasons: readonly string[] = []): LapseMetrics {
  const p = METRIC_PREFIX;
  const pending = new Gauge({ name: `${p}lapse_jobs_pending`,
    help: 'Plan-lapse jobs not finished yet (audit logging still to be disabled on a policy whose plan lapsed), as last counted by this process',
    registers: [registry] });
  const disabled = new Counter({ name: `${p}lapse_policies_disabled_total`,
    help: 'Policies whose audit logging this process disabled because Pro Platform or Pro Features was switched off', registers: [registry] });
  const failed = new Counter({ name: `${p}lapse_job_failures_total`,
    help: 'Attempts of plan-lapse jobs that failed and will be retried, by reason (unreachable, busy, tls_failed, credentials_unreadable, apply_failed, in_progress_elsewhere, error)',
    labelNames: ['reason'], registers: [registry] });
  for (const reason of failureReasons) failed.labels(reason).inc(0);
  return {
    disabled: () => disabled.inc(),
    failed: (reason) => failed.labels(failureReasons.includes(reason) ? reason : 'error').inc(),
    pending: (n) => pending.set(n),
  };
}

/** Satisfies the ingest module's IngestRecorder. */
export interface IngestMetrics {
  bytesRead(n: number): void;
  /** `deadLetters`: counts by reason code (the ingest module's DEAD_LETTER_CODES, a fixed set) */
  acknowledged(events: number, deadLetters: Readonly<Record<string, number | undefined>>, newestEventMs: number | null): void;
  duplicates(n: number): void;
  bulkRetries(n: number): void;
  rejected(n: number): void;
}

/**
 * `deadLetterReasons`: the dead-letter codes, each present at 0 from the start (the composition root
 * passes the ingest module's DEAD_LETTER_CODES; base cannot import it). Labels only ever hold those codes.
 */
export function ingestMetrics(registry: MetricsRegistry, now: () => number = Date.now, deadLetterReasons: readonly string[] = []): IngestMetrics {
  const p = METRIC_PREFIX;
  const events = new Counter({ name: `${p}ingest_events_total`, help: 'Audit events indexed (acknowledged by OpenSearch)', registers: [registry] });
  const deadLetters = new Counter({ name: `${p}ingest_dead_letters_total`, help: 'Lines kept aside in the dead-letter indices, by reason code',
    labelNames: ['reason'], registers: [registry] });
  for (const reason of deadLetterReasons) deadLetters.labels(reason).inc(0);
  const duplicates = new Counter({ name: `${p}ingest_duplicates_total`,
    help: 'Documents already indexed under their id (a replay after a crash, or a line claiming a taken id): the stored one stays', registers: [registry] });
  const bytes = new Counter({ name: `${p}ingest_bytes_total`, help: 'Bytes of log read (a re-read after a failure counts again)', registers: [registry] });
  const retries = new Counter({ name: `${p}ingest_bulk_retries_total`, help: 'Bulk requests sent again after OpenSearch answered 429/5xx or did not answer', registers: [registry] });
  const rejected = new Counter({ name: `${p}ingest_documents_rejected_total`, help: 'Documents OpenSearch rejected for good (e.g. a mapping error)', registers: [registry] });
  let newest: number | null = null;
  new Gauge({ name: `${p}ingest_newest_event_timestamp_seconds`, help: 'Unix time of the newest audit event indexed by this process (0 before the first)',
    registers: [registry], collect() { if (newest !== null) this.set(newest / 1000); } });
  new Gauge({ name: `${p}ingest_lag_seconds`,
    help: 'Seconds between the newest indexed event\'s timestamp and now (0 before the first event; grows while the service logs nothing)',
    registers: [registry], collect() { if (newest !== null) this.set(Math.max(0, (now() - newest) / 1000)); } });
  return {
    bytesRead: (n) => bytes.inc(n),
    acknowledged: (e, d, newestMs) => {
      if (e) events.inc(e);
      for (const [reason, n] of Object.entries(d)) if (n) deadLetters.labels(reason).inc(n);
      if (newestMs !== null && (newest === null || newestMs > newest)) newest = newestMs;
    },
    duplicates: (n) => { if (n > 0) duplicates.inc(n); },
    bulkRetries: (n) => { if (n > 0) retries.inc(n); },
    rejected: (n) => { if (n > 0) rejected.inc(n); },
  };
}

/** Satisfies the ingest module's KafkaRecorder (kafka.source.ts). */
export interface KafkaIngestMetrics {
  committed(ok: boolean): void;
  consumerRestarted(): void;
  partitionsAssigned(n: number): void;
}

/** The Kafka source's own metrics, beside ingestMetrics' (which count its events, dead letters and bytes as for files). */
export function kafkaIngestMetrics(registry: MetricsRegistry): KafkaIngestMetrics {
  const p = METRIC_PREFIX;
  const commits = new Counter({ name: `${p}ingest_kafka_commits_total`,
    help: 'Offset commits after an acknowledged batch: committed, or refused (the partition had moved to another member: it reads again from the last commit)',
    labelNames: ['outcome'], registers: [registry] });
  for (const outcome of ['committed', 'refused']) commits.labels(outcome).inc(0);
  const restarts = new Counter({ name: `${p}ingest_kafka_consumer_restarts_total`,
    help: 'Consumers replaced after kafkajs gave up on one or a batch could not be indexed (the new one reads again from the committed offsets)', registers: [registry] });
  const assigned = new Gauge({ name: `${p}ingest_kafka_partitions_assigned`, help: 'Partitions of the topic this process holds in its group now', registers: [registry] });
  return {
    committed: (ok) => commits.labels(ok ? 'committed' : 'refused').inc(),
    consumerRestarted: () => restarts.inc(),
    partitionsAssigned: (n) => assigned.set(n),
  };
}

/** Satisfies the ingest module's SharedRawRecorder (raw-shared.source.ts). */
export interface RawSharedIngestMetrics {
  unmapped(documents: number): void;
}

/** The shared raw-index mode's own metrics, beside ingestMetrics' (no label: a host is no fixed set, and may name a tenant). */
export function rawSharedIngestMetrics(registry: MetricsRegistry): RawSharedIngestMetrics {
  const unmapped = new Counter({ name: `${METRIC_PREFIX}ingest_raw_unmapped_documents_total`,
    help: 'ingest --raw-hosts: documents of hosts mapped to no service (or of no HOSTNAME) skipped, neither events nor dead letters (a re-read after a failure counts again)',
    registers: [registry] });
  return { unmapped: (n) => { if (n > 0) unmapped.inc(n); } };
}

/**
 * Who may read /metrics: with a token configured, only a request carrying `Authorization: Bearer <token>`
 * (compared in constant time). `token: null` means open (the ingester's dedicated, opt-in port).
 */
export function metricsAuthorized(authorization: string | undefined, token: string | null): boolean {
  if (token === null) return true;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'utf8');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}
