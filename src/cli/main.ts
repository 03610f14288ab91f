#!/usr/bin/env node
/**
 * pg-audit-gateway: one executable for operators and automation (see ../shared/design/cli.md).
 *   migrate | serve | emit-schema [--check] | ingest | export | admin <create-organization|create-project|register-service|create-token|list-tokens|revoke-token|set-plan|rotate-key|ingest-key|raw-host|list-raw-hosts|verify-history>
 * Configuration from the environment; flags override it. `--json` prints one JSON object on stdout.
 * A failure prints one line on stderr and exits non-zero.
 */
import 'reflect-metadata';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { createGateway, migrateGatewayDb } from '../api/gateway';
import { ConfigError, loadConfig, requireMasterKeys } from '../base/config';
import { createLogger, Logger, silentLogger } from '../base/logger';
import { pause } from '../base/pause';
import { capYoungGeneration } from '../base/young-generation';
import { CheckpointRepository } from '../modules/ingest/checkpoint.repository';
import { Ingester, type IngestOptions } from '../modules/ingest/ingester';
import { ingestKey } from '../modules/ingest/kafka.record';
import { FleetFollower } from '../modules/ingest/fleet.follower';
import { LeaseRepository } from '../modules/ingest/lease.repository';
import { RawIndexSource } from '../modules/ingest/raw-index.source';
import { RawIndexRepository } from '../modules/ingest/raw-index.repository';
import { RawHostRegistry } from '../modules/ingest/raw-host.registry';
import { isRawIndexPattern } from '../modules/ingest/raw-hosts';
import { SharedRawIndexSource } from '../modules/ingest/raw-shared.source';
import { IngestError } from '../modules/ingest/ingest.errors';
import { RedactionWatcher } from '../modules/redaction/redaction.watcher';
import { DEAD_LETTER_CODES } from '../modules/audit-events/event.index';
import { TenancyError } from '../modules/tenancy/tenancy.errors';
import { AuditEventsError } from '../modules/audit-events/audit-events.errors';
import { tokenStatus } from '../modules/tenancy/expiry';
import { projectRoot } from '../base/paths';
import { createMetricsRegistry, ingestMetrics, kafkaIngestMetrics, rawSharedIngestMetrics } from '../base/metrics';
import type { LapseSummary } from '../modules/audit-policy/lapse.service';
import { LapseWorker } from '../modules/audit-policy/lapse.worker';
import { serveMetrics } from '../base/metrics-server';

class UsageError extends Error {}
/** A command that ran but could not do all of it (exit 1, one line on stderr). */
class CommandFailed extends Error {}

const USAGE = `usage: pg-audit-gateway <command> [options]
  migrate                                   apply the gateway database migrations
  serve [--port N]                          run the GraphQL server
  emit-schema [--check]                     write (or check) schema.graphql
  ingest --service ID --log-dir DIR [--once] [--metrics-port N]
                                            index the service's pgaudit events (csvlog/jsonlog) into OpenSearch;
                                            --metrics-port serves GET /metrics (Prometheus) on that port while it runs
  ingest --service ID --stdin --source NAME [--format stderr|managed] [--log-line-prefix P]
                                            index raw log lines from stdin (stderr format, or NDJSON with MESSAGE)
  ingest --service ID --raw-index PATTERN [--raw-url URL] [--log-line-prefix P] [--once]
                                            read the service's raw documents of a log integration's indices (MESSAGE,
                                            syslog pieces put back together) from OpenSearch at URL (else OPENSEARCH_URL)
  ingest --raw-index PATTERN --raw-hosts [--raw-url URL] [--log-line-prefix P] [--once]
                                            read a pattern many services share once, each document to the service its
                                            HOSTNAME is mapped to (admin raw-host); an unmapped host's documents are
                                            skipped and counted (a warning per pass names the most frequent hosts)
  ingest --fleet --log-root DIR [--lease-seconds N] [--max-services N] [--metrics-port N]
                                            follow <DIR>/<service id>/ of many services, sharing them with the other
                                            --fleet processes of the same gateway database (leases)
  ingest --kafka-brokers H:P[,H:P] --kafka-topic T --kafka-group G [--metrics-port N]
                                            join consumer group G on topic T (many services' signed log records:
                                            README, Ingest from Kafka) and index them until a signal
  export --service ID [--format ndjson|csv] [--from ISO] [--to ISO] [--filter JSON] [--out FILE] [--resume TOKEN [--after EVENT_ID]] [--limit N]
                                            stream the service's events matching the filter (AuditEventFilter as JSON)
                                            from OpenSearch to FILE (appended with --resume) or stdout; prints how it
                                            ended ({status, events, resume}) on stdout with --out, else on stderr
  admin create-organization --name N [--pro-platform]
  admin create-project --organization ID --name N [--pro-features]
  admin register-service --project ID --name N --url-file PATH|-
                                            the service's postgres:// URL from a file, or stdin with -
                                            (--url URL still works but is deprecated: argv is visible to other users)
  admin create-token --project ID --name N --database-role ROLE [--scopes S,S] [--expires-in DURATION | --expires-at ISO]
                                            scopes: read:events, read:policy, write:policy (default: all three);
                                            DURATION: 30m, 12h, 90d, 2w; ISO: 2027-01-31T00:00:00Z (default: never expires)
  admin list-tokens --project ID            the project's tokens: id, name, role, scopes, created, expires, revoked (never the secret)
  admin revoke-token --token-id ID          revoke a token (idempotent); refused within AUTH_CACHE_TTL_MS
  admin set-plan --organization ID --pro-platform true|false
  admin set-plan --project ID --pro-features true|false
                                            false: audit logging is disabled on every enabled policy it covers: one job per
                                            policy, written with the flag, worked at once; the summary lists disabled,
                                            alreadyDisabled, superseded and pending (e.g. unreachable). Exit 0 with pending
                                            jobs: every \`serve\` retries them (LAPSE_RETRY_INTERVAL_MS). true re-enables nothing
  admin rotate-key                          re-wrap every service's credential under the current master key
  admin ingest-key --service ID             the service's ingest key (current master key version) for its servers' log
                                            shipper: it signs each Kafka log record (pga-signature); a secret
  admin raw-host --raw-index PATTERN --host HOST --service ID
                                            map a host of a shared raw index pattern to a service (ingest --raw-hosts)
  admin raw-host --raw-index PATTERN --host HOST --remove [--service ID]
                                            remove that mapping (only if it is that service's, with --service)
  admin list-raw-hosts [--raw-index PATTERN]
                                            the mapped hosts: pattern, host, service, created
  admin verify-history [--service ID]       check every policy history's hash chain; exits 1 naming the first broken revision
common: --database-url URL (else DATABASE_URL), --json`;

const OPTIONS = {
  'database-url': { type: 'string' }, port: { type: 'string' }, json: { type: 'boolean' }, check: { type: 'boolean' },
  name: { type: 'string' }, organization: { type: 'string' }, project: { type: 'string' }, url: { type: 'string' }, 'url-file': { type: 'string' },
  'database-role': { type: 'string' }, 'pro-platform': { type: 'string' }, 'pro-features': { type: 'string' },
  help: { type: 'boolean', short: 'h' }, service: { type: 'string' }, 'log-dir': { type: 'string' }, once: { type: 'boolean' },
  'opensearch-url': { type: 'string' }, stdin: { type: 'boolean' }, source: { type: 'string' }, format: { type: 'string' },
  'log-line-prefix': { type: 'string' }, 'metrics-port': { type: 'string' },
  from: { type: 'string' }, to: { type: 'string' }, filter: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
  after: { type: 'string' }, limit: { type: 'string' },
  scopes: { type: 'string' }, 'expires-in': { type: 'string' }, 'expires-at': { type: 'string' }, 'token-id': { type: 'string' },
  'kafka-brokers': { type: 'string' }, 'kafka-topic': { type: 'string' }, 'kafka-group': { type: 'string' },
  'raw-index': { type: 'string' }, 'raw-url': { type: 'string' }, 'raw-hosts': { type: 'boolean' }, host: { type: 'string' }, remove: { type: 'boolean' },
  fleet: { type: 'boolean' }, 'log-root': { type: 'string' }, 'lease-seconds': { type: 'string' }, 'max-services': { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  // --pro-platform / --pro-features are flags on create-* and take true|false on set-plan. Only a bare
  // flag (last, or followed by another option) means true: `--pro-platform fasle` must not enable anything.
  const normalised = argv.flatMap((a, i) => (a === '--pro-platform' || a === '--pro-features') && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-')) ? [`${a}=true`] : [a]);
  return parseArgs({ args: normalised, options: OPTIONS, allowPositionals: true, strict: true });
}

function required(values: Values, name: keyof Values): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${String(name)} is required`);
  return v;
}

function bool(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (value !== 'true' && value !== 'false') throw new UsageError(`--${name} takes true or false`);
  return value === 'true';
}

function env(values: Values): NodeJS.ProcessEnv {
  return { ...process.env, ...(values['database-url'] ? { DATABASE_URL: values['database-url'] } : {}),
    ...(values.port ? { PORT: values.port } : {}), ...(values['opensearch-url'] ? { OPENSEARCH_URL: values['opensearch-url'] } : {}) };
}

function print(values: Values, result: Record<string, unknown>, human: string): void {
  process.stdout.write(values.json ? JSON.stringify(result) + '\n' : human + '\n');
}

/** The largest service URL read from --url-file (a URL is a few hundred bytes). */
const MAX_URL_FILE_BYTES = 64 * 1024;

/**
 * The service URL of register-service: from --url-file (a path, or - for stdin), or the deprecated --url,
 * which puts the password where every local user can read it (ps, /proc/<pid>/cmdline): a warning on stderr.
 */
async function serviceUrl(values: Values): Promise<string> {
  const file = values['url-file'];
  if (file !== undefined && values.url !== undefined) throw new UsageError('give --url-file or --url, not both');
  if (file === undefined) {
    if (values.url === undefined || values.url === '') throw new UsageError('--url-file is required (a file holding the postgres:// URL, or - for stdin)');
    process.stderr.write('pg-audit-gateway: warning: --url is deprecated: the URL and its password are visible to other local users (ps, /proc/<pid>/cmdline); use --url-file PATH or --url-file - (stdin)\n');
    return values.url;
  }
  if (file === '') throw new UsageError('--url-file takes a path, or - for stdin');
  let bytes: Buffer;
  try {
    bytes = file === '-' ? await readStdin(MAX_URL_FILE_BYTES + 1) : await readFile(file);
  } catch (err) {
    throw new UsageError(`--url-file cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length > MAX_URL_FILE_BYTES) throw new UsageError(`--url-file holds more than ${MAX_URL_FILE_BYTES} bytes; it must hold one URL`);
  const lines = bytes.toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 1) throw new UsageError(`--url-file must hold exactly one URL (one line), found ${lines.length} lines`);
  return lines[0]!;
}

async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks);
}

async function admin(sub: string | undefined, values: Values): Promise<void> {
  const config = loadConfig(env(values));
  requireMasterKeys(config);
  const gateway = createGateway(config, silentLogger);
  try {
    const t = gateway.tenancy;
    switch (sub) {
      case 'create-organization': {
        const r = await t.createOrganization(required(values, 'name'), bool(values['pro-platform'], 'pro-platform'));
        return print(values, { id: r.id }, `organization ${r.id}`);
      }
      case 'create-project': {
        const r = await t.createProject(required(values, 'organization'), required(values, 'name'), bool(values['pro-features'], 'pro-features'));
        return print(values, { id: r.id }, `project ${r.id}`);
      }
      case 'register-service': {
        const projectId = required(values, 'project');
        const name = required(values, 'name');
        const r = await t.registerService(projectId, name, await serviceUrl(values));
        return print(values, { id: r.id }, `service ${r.id}`);
      }
      case 'rotate-key': {
        const r = await t.rotateCredentialKeys();
        if (r.failed.length > 0) {
          throw new CommandFailed(`rotated ${r.rotated} service(s) to master key version ${r.keyVersion}; ${r.failed.length} could not be decrypted and were left as they are: ${r.failed.slice(0, 20).join(', ')}${r.failed.length > 20 ? ', ...' : ''}`);
        }
        return print(values, { keyVersion: r.keyVersion, rotated: r.rotated, alreadyCurrent: r.alreadyCurrent },
          `rotated ${r.rotated} service(s) to master key version ${r.keyVersion}; ${r.alreadyCurrent} already there`);
      }
      case 'ingest-key': {
        const service = await t.serviceById(required(values, 'service'));
        if (!service) throw new UsageError('no such service');
        const keys = requireMasterKeys(config);
        const key = ingestKey(keys, keys.current, service.id)!;
        return print(values, { serviceId: service.id, keyVersion: keys.current, key: key.toString('base64') },
          `ingest key of service ${service.id}, master key version ${keys.current}:\n${key.toString('base64')}\n(a secret: give it to that service's log shipper only; sign each record's value with HMAC-SHA256 under it, header pga-signature: ${keys.current}.<base64url>)`);
      }
      case 'raw-host': {
        const hosts = rawHostRegistry(gateway, config);
        const [indexPattern, host] = [required(values, 'raw-index'), required(values, 'host')];
        if (values.remove) {
          const r = await hosts.unmap(indexPattern, host, values.service);
          return print(values, { indexPattern: r.indexPattern, host: r.host, serviceId: r.serviceId, removed: true },
            `host ${r.host} of ${r.indexPattern} is no longer mapped (it was service ${r.serviceId}'s)`);
        }
        const { mapping: m, alreadyMapped } = await hosts.map(indexPattern, host, required(values, 'service'));
        return print(values, { indexPattern: m.indexPattern, host: m.host, serviceId: m.serviceId, createdAt: m.createdAt.toISOString(), alreadyMapped },
          `host ${m.host} of ${m.indexPattern} ${alreadyMapped ? 'was already' : 'is now'} mapped to service ${m.serviceId}`);
      }
      case 'list-raw-hosts': {
        const hosts = (await rawHostRegistry(gateway, config).list(values['raw-index'])).map((m) => ({
          indexPattern: m.indexPattern, host: m.host, serviceId: m.serviceId, createdAt: m.createdAt.toISOString() }));
        const human = hosts.map((m) => [m.indexPattern, m.host, `service ${m.serviceId}`, `created ${m.createdAt}`].join('  '));
        return print(values, { hosts }, human.length > 0 ? human.join('\n') : 'no mapped hosts');
      }
      case 'verify-history': {
        if (values.service !== undefined && !/^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(values.service)) {
          throw new UsageError('--service takes a service id (a UUID)');
        }
        const verdicts = await gateway.policies.verifyHistories(values.service ?? null);
        const broken = verdicts.filter((v) => !v.intact);
        const human = verdicts.map((v) => [v.policyId, `service ${v.serviceId}`, `database ${v.database ?? '(service)'}`,
          `${v.revisions} revision(s)`, v.intact ? 'intact' : `BROKEN at version ${v.firstBroken!.version}: ${v.firstBroken!.problem}`,
          `head ${v.headHash ?? '-'}`].join('  '));
        print(values, { intact: broken.length === 0, policies: verdicts },
          human.length > 0 ? human.join('\n') : 'no policy has a history');
        if (broken.length > 0) throw new CommandFailed(`${broken.length} of ${verdicts.length} policy histories are broken`);
        return;
      }
      case 'create-token': {
        const r = await t.createToken(required(values, 'project'), required(values, 'name'), required(values, 'database-role'),
          { scopes: values.scopes, expiresIn: values['expires-in'], expiresAt: values['expires-at'] });
        const expires = r.expiresAt?.toISOString() ?? null;
        return print(values, { token: r.token, id: r.id, scopes: r.scopes, expiresAt: expires },
          `token ${r.token}\n(shown once: only its hash is stored; id ${r.id}; scopes ${r.scopes.join(',')}; expires ${expires ?? 'never'})`);
      }
      case 'list-tokens': {
        const now = Date.now();
        const tokens = (await t.listTokens(required(values, 'project'))).map((k) => ({
          id: k.id, name: k.name, databaseRole: k.databaseRole, scopes: k.scopes, createdAt: k.createdAt.toISOString(),
          expiresAt: k.expiresAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null,
          status: tokenStatus(k, now),
        }));
        const human = tokens.map((k) => [k.id, k.status, k.databaseRole, k.scopes.join(','), `created ${k.createdAt}`,
          `expires ${k.expiresAt ?? 'never'}`, ...(k.revokedAt ? [`revoked ${k.revokedAt}`] : []), JSON.stringify(k.name)].join('  '));
        return print(values, { tokens }, human.length > 0 ? human.join('\n') : 'no tokens');
      }
      case 'revoke-token': {
        const { token: k, revokedNow } = await t.revokeToken(required(values, 'token-id'));
        const at = k.revokedAt!.toISOString();
        return print(values, { id: k.id, revokedAt: at, alreadyRevoked: !revokedNow },
          revokedNow ? `token ${k.id} revoked at ${at}` : `token ${k.id} was already revoked at ${at}`);
      }
      case 'set-plan': {
        // Switched off, the plan's lapse jobs are written in the flag's transaction, then worked once right away.
        if (values.organization && values['pro-platform'] !== undefined && !values.project) {
          const on = bool(values['pro-platform'], 'pro-platform');
          const jobs = await gateway.lapses.setProPlatform(values.organization, on);
          if (on) return print(values, { id: values.organization, proPlatform: true }, 'updated');
          const summary = await gateway.lapses.work(jobs);
          return print(values, { id: values.organization, proPlatform: false, ...summary }, lapseText(summary));
        }
        if (values.project && values['pro-features'] !== undefined && !values.organization) {
          const on = bool(values['pro-features'], 'pro-features');
          const jobs = await gateway.lapses.setProFeatures(values.project, on);
          if (on) return print(values, { id: values.project, proFeatures: true }, 'updated');
          const summary = await gateway.lapses.work(jobs);
          return print(values, { id: values.project, proFeatures: false, ...summary }, lapseText(summary));
        }
        throw new UsageError('set-plan takes --organization ID --pro-platform true|false, or --project ID --pro-features true|false');
      }
      default:
        throw new UsageError(`unknown admin command ${sub ?? '(none)'}`);
    }
  } finally {
    await gateway.close();
  }
}

/** The shared raw-index mode's host mapping, as the admin commands change it. */
function rawHostRegistry(gateway: ReturnType<typeof createGateway>, config: ReturnType<typeof loadConfig>): RawHostRegistry {
  return new RawHostRegistry(new RawIndexRepository(gateway.db.prisma), async (id) => (await gateway.tenancy.serviceById(id)) !== null,
    config.ingest.rawMaxHosts);
}

/** set-plan's human summary of a lapse: counts, then one line per policy still pending. */
function lapseText(s: LapseSummary): string {
  const head = `updated; audit logging disabled on ${s.disabled.length} polic${s.disabled.length === 1 ? 'y' : 'ies'}, `
    + `${s.alreadyDisabled.length} already disabled, ${s.superseded.length} changed since, ${s.pending.length} pending`
    + (s.pending.length > 0 ? ' (retried by serve)' : '');
  return [head, ...s.pending.map((p) => `pending  service ${p.serviceId}  database ${p.database ?? '(service)'}  ${p.reason}`)].join('\n');
}

/** Starts the server; resolves once it listens. The returned close() drains HTTP and the database pool. */
export async function serve(values: Values = {} as Values): Promise<{ port: number; close(): Promise<void> }> {
  // Prisma's query compiler (WebAssembly) on V8's baseline tier: less RSS, and with the auth cache the
  // query path rarely plans a Prisma query at all. The old generation grows by at most 50% between full
  // collections (V8's default lets it double or more under load). Figures: bench/README.md.
  v8.setFlagsFromString('--liftoff-only');
  v8.setFlagsFromString('--heap-growing-percent=50');
  const config = loadConfig(env(values));
  const keys = requireMasterKeys(config);
  const logger = createLogger(config.logLevel, { service: 'pg-audit-gateway' });
  const gateway = createGateway(config, logger);
  const migrated = await migrateGatewayDb(config.databaseUrl, keys);
  if (migrated.sealedServiceUrls > 0) logger.info('service URLs encrypted', { services: migrated.sealedServiceUrls, keyVersion: keys.current });
  // Loaded here, not at the top: `ingest` and `admin` never load Apollo, type-graphql and the schema.
  const { startHttpServer } = await import('../api/http-server');
  const http = await startHttpServer({ ...gateway, logger, maxBodyBytes: config.maxBodyBytes, maxResponseBytes: config.maxResponseBytes, http: config.http, graphql: config.graphql, rateLimit: config.rateLimit }, config.port);
  guardProcess(logger, http.close);
  logger.info('listening', { port: http.port, path: '/graphql' });
  gateway.driftMonitor?.start();
  // The event store's templates are created idempotently at start-up; if OpenSearch is down the control
  // path still serves, event queries answer SERVICE_UNAVAILABLE, and `ingest` creates them before writing.
  // Not awaited: start-up never waits on OpenSearch.
  void gateway.eventStore?.ensureTemplate().catch((err: Error) => logger.warn('OpenSearch not ready at start-up', { error: err.message }));
  // Plan lapses whose disable could not be done at once (admin set-plan) are retried here, by every replica.
  const lapseWorker = new LapseWorker(gateway.lapses, config.lapseRetryIntervalMs, logger);
  lapseWorker.start();
  return { port: http.port, async close() { await lapseWorker.stop(); await http.close(); await gateway.close(); } };
}

/**
 * Process-level handlers for what request handling should never let through. A rejected promise nobody
 * awaited is a bug to log, not a reason to drop every other caller's request: logged, the process goes on.
 * An uncaught exception leaves the process in an unknown state: logged, the server closed, exit 1 (an
 * orchestrator restarts it).
 */
function guardProcess(logger: Logger, close: () => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason),
      stack: reason instanceof Error ? reason.stack : undefined });
  });
  process.once('uncaughtException', (err) => {
    logger.error('uncaught exception: exiting', { error: err.message, stack: err.stack });
    const timer = setTimeout(() => process.exit(1), 5000);
    timer.unref();
    close().finally(() => process.exit(1));
  });
}

/**
 * The ingester runs beside PostgreSQL for as long as the service lives: it trades a little speed for a
 * small, flat footprint. Set before anything is compiled or allocated in quantity: Prisma's query
 * compiler (WebAssembly) stays on V8's baseline tier (it plans one checkpoint write per batch), the old
 * generation grows by 15% between full collections instead of up to 4x, and V8 favours size over speed
 * where it has the choice (batches wait for OpenSearch in reused buffers outside the heap, bulk-body.ts).
 * What each flag is worth: bench/README.md; `npm run bench` reports the ingester's peak RSS.
 */
function lowMemory(youngGenerationBytes?: number): void {
  v8.setFlagsFromString('--liftoff-only');
  v8.setFlagsFromString('--heap-growing-percent=15');
  // ingest: a 16 MB young generation, not --optimize-for-size (4 MB, and V8 compiling for size: 39 against 25 µs of CPU
  // per ingested event; young-generation.ts). export keeps --optimize-for-size: its peak RSS figures were measured with it.
  if (youngGenerationBytes === undefined) v8.setFlagsFromString('--optimize-for-size');
  else capYoungGeneration(youngGenerationBytes);
}

/** The young generation of ingest (capYoungGeneration): peak RSS under 150 MB (bench/README.md). */
const INGEST_YOUNG_GENERATION_BYTES = 16 << 20;

/** --source names a stream in every dead letter and in its events' ids: a short name. */
const MAX_SOURCE_CHARS = 256;

/** `ingest`: index a service's log directory; with --once, what is there now, else follow it until a signal. */
async function ingest(values: Values): Promise<void> {
  lowMemory(INGEST_YOUNG_GENERATION_BYTES);
  const config = loadConfig(env(values));
  if (!config.opensearchUrl) throw new UsageError('ingest needs OPENSEARCH_URL (or --opensearch-url)');
  if (values['kafka-brokers'] !== undefined) return ingestKafka(values, config);
  if (values.fleet) return ingestFleet(values, config);
  if (values['raw-hosts']) {
    if (values.service !== undefined) throw new UsageError('--raw-hosts reads many services (routed by host): give it without --service');
    return ingestRawIndex(values, config, null);
  }
  const serviceId = required(values, 'service');
  if (values['raw-index'] !== undefined) return ingestRawIndex(values, config, serviceId);
  const logDir = values.stdin ? '' : required(values, 'log-dir');
  const format = values.format ?? 'stderr';
  if (values.stdin && format !== 'stderr' && format !== 'managed') throw new UsageError('--format takes stderr or managed');
  const source = values.stdin ? required(values, 'source') : '';
  if (source.length > MAX_SOURCE_CHARS) throw new UsageError(`--source takes at most ${MAX_SOURCE_CHARS} characters`);
  await runIngestProcess(values, config, { serviceId }, async ({ gateway, store, registry, logger, signal }) => {
    const service = await gateway.tenancy.serviceById(serviceId);
    if (!service) throw new UsageError(`service ${serviceId.slice(0, 64)} does not exist`);
    const ingester = new Ingester(service, logDir, store, new CheckpointRepository(gateway.db.prisma), logger,
      ingestOptions(config, gateway, service.id, ingestMetrics(registry, Date.now, DEAD_LETTER_CODES)));
    if (values.stdin) {
      const stats = await ingester.ingestStream(process.stdin, { source, format: format as 'stderr' | 'managed', logLinePrefix: values['log-line-prefix'] });
      await store.refresh();
      return print(values, { ...stats }, `indexed ${stats.events} events (${stats.malformed} malformed) from stdin`);
    }
    if (values.once) {
      const t0 = performance.now();
      const stats = await ingester.runOnce();
      const seconds = Number(((performance.now() - t0) / 1000).toFixed(3));
      await store.refresh();
      return print(values, { ...stats, seconds }, `indexed ${stats.events} events (${stats.malformed} malformed) from ${stats.files} files in ${seconds} s`);
    }
    logger.info('following', { logDir });
    await ingester.follow(signal, 1000, config.eventRetentionDays);
  });
}

/** What every long-running ingest command shares: its gateway, metrics registry, logger and stop signal. */
interface IngestProcess {
  gateway: ReturnType<typeof createGateway>;
  store: NonNullable<ReturnType<typeof createGateway>['eventStore']>;
  registry: ReturnType<typeof createMetricsRegistry>;
  logger: Logger;
  /** Aborts on SIGTERM or SIGINT. */
  signal: AbortSignal;
}

/**
 * Runs a long-running ingest command: --metrics-port checked and served, the event store's templates made, SIGTERM
 * and SIGINT turned into `signal`, and the metrics server and gateway closed however `run` ends.
 */
async function runIngestProcess(values: Values, config: ReturnType<typeof loadConfig>, logFields: Record<string, unknown>,
  run: (p: IngestProcess) => Promise<void>, opts: { retentionSweep?: boolean } = {}): Promise<void> {
  const metricsPort = values['metrics-port'];
  if (metricsPort !== undefined && (!/^\d{1,5}$/.test(metricsPort) || Number(metricsPort) > 65535)) throw new UsageError('--metrics-port takes a port number (0 to 65535)');
  const logger = createLogger(config.logLevel, { service: 'pg-audit-gateway', command: 'ingest', ...logFields });
  const registry = createMetricsRegistry();
  const gateway = createGateway(config, logger, registry);
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | null = null;
  try {
    if (metricsPort !== undefined) {
      metricsServer = await serveMetrics(registry, Number(metricsPort), config.metricsToken);
      logger.info('metrics listening', { port: metricsServer.port, path: '/metrics' });
    }
    const store = gateway.eventStore!;
    await store.ensureTemplate();
    const abort = new AbortController();
    process.once('SIGTERM', () => abort.abort());
    process.once('SIGINT', () => abort.abort());
    // sources without a sweep of their own (Kafka, raw indices): the hourly retention sweep of `follow`, beside them
    const sweeping = opts.retentionSweep ? sweepHourly(store, config, logger, abort.signal) : Promise.resolve();
    try {
      await run({ gateway, store, registry, logger, signal: abort.signal });
    } finally {
      abort.abort();
      await sweeping;
    }
  } finally {
    await metricsServer?.close();
    await gateway.close();
  }
}

/** Deletes event and dead-letter indices past their retention, now and then every hour, until `signal` aborts. */
async function sweepHourly(store: NonNullable<ReturnType<typeof createGateway>['eventStore']>, config: ReturnType<typeof loadConfig>,
  logger: Logger, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const expired = await store.expire(config.eventRetentionDays, new Date(), config.ingest.deadLetterRetentionDays);
      if (expired.length) logger.info('expired audit event indices', { indices: expired });
    } catch (err) {
      logger.warn('retention sweep failed; retrying in an hour', { error: (err as Error).message });
    }
    await pause(3_600_000, signal);
  }
}

/**
 * `ingest --raw-index`: raw documents of a log integration's indices, once or every 5 s until a signal: one
 * service's (`serviceId`), or, with --raw-hosts (`serviceId` null), a shared pattern's, each to its host's service.
 */
async function ingestRawIndex(values: Values, config: ReturnType<typeof loadConfig>, serviceId: string | null): Promise<void> {
  const indexPattern = required(values, 'raw-index');
  if (!isRawIndexPattern(indexPattern)) throw new UsageError('--raw-index takes an index name or pattern (lower-case letters, digits, . _ - *)');
  const url = values['raw-url'] ?? config.opensearchUrl!;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError('--raw-url takes an http(s) URL');
  const logFields = serviceId === null ? { source: `raw:${indexPattern}`, hosts: 'mapped' } : { serviceId, source: `raw:${indexPattern}` };
  await runIngestProcess(values, config, logFields, async ({ gateway, store, registry, logger, signal }) => {
    const service = serviceId === null ? null : await gateway.tenancy.serviceById(serviceId);
    if (serviceId !== null && !service) throw new UsageError(`service ${serviceId.slice(0, 64)} does not exist`);
    const options = ingestOptions(config, gateway, service?.id ?? null, ingestMetrics(registry, Date.now, DEAD_LETTER_CODES));
    const raw = { url, indexPattern, logLinePrefix: values['log-line-prefix'] };
    let pass: () => Promise<{ documents: number; events: number; malformed: number; unmapped?: number; unmappedHosts?: number; hosts?: number }>;
    if (service === null) {
      const shared = new SharedRawIndexSource({ store, logger, repository: new RawIndexRepository(gateway.db.prisma),
        redaction: (id) => new RedactionWatcher(gateway.redactionRepository, id, config.ingest.redactionRefreshMs),
        recorder: rawSharedIngestMetrics(registry) },
      { ...options, ...raw, maxHosts: config.ingest.rawMaxHosts });
      pass = () => shared.runOnce();
    } else {
      const one = new RawIndexSource(service, store, gateway.db.prisma, logger, { ...options, ...raw });
      pass = () => one.runOnce();
    }
    if (values.once) {
      const stats = await pass();
      await store.refresh();
      const hosts = stats.hosts === undefined ? '' : ` of ${stats.hosts} mapped hosts; ${stats.unmapped} of ${stats.unmappedHosts} unmapped hosts skipped`;
      return print(values, { ...stats }, `indexed ${stats.events} events (${stats.malformed} malformed) from ${stats.documents} raw documents${hosts}`);
    }
    logger.info('following raw indices', { indexPattern });
    while (!signal.aborted) {
      try {
        const stats = await pass();
        if (stats.documents) logger.info('ingested', { ...stats });
      } catch (err) {
        logger.warn('raw index pass failed; retrying', { error: (err as Error).message });
      }
      await pause(5000, signal);
    }
  }, { retentionSweep: !values.once });
}

/** `ingest --fleet`: many services' log directories under one root, shared with the other fleet processes by leases. */
async function ingestFleet(values: Values, config: ReturnType<typeof loadConfig>): Promise<void> {
  const logRoot = required(values, 'log-root');
  const positive = (name: 'lease-seconds' | 'max-services', fallback: number, max: number) => {
    const v = values[name];
    if (v === undefined) return fallback;
    if (!/^\d{1,7}$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`--${name} takes a whole number from 1 to ${max}`);
    return Number(v);
  };
  const leaseTtlMs = positive('lease-seconds', 30, 3600) * 1000;
  const maxServices = positive('max-services', 1000, 100_000);
  await runIngestProcess(values, config, { source: 'fleet' }, async ({ gateway, store, registry, logger, signal }) => {
    const checkpoints = new CheckpointRepository(gateway.db.prisma);
    const recorder = ingestMetrics(registry, Date.now, DEAD_LETTER_CODES);
    const fleet = new FleetFollower({
      store, logger, leases: new LeaseRepository(gateway.db.prisma),
      service: (id) => gateway.tenancy.serviceById(id),
      ingester: (service, logDir) => new Ingester(service, logDir, store, checkpoints, logger.child({ serviceId: service.id }),
        ingestOptions(config, gateway, service.id, recorder)),
    }, { logRoot, leaseTtlMs, maxServices, retentionDays: config.eventRetentionDays, deadLetterRetentionDays: config.ingest.deadLetterRetentionDays });
    logger.info('following a fleet', { logRoot, holder: fleet.holder, leaseTtlMs });
    await fleet.run(signal);
  });
}

/** `ingest --kafka-*`: a member of the group consuming the platform's log topic, until SIGTERM/SIGINT. */
async function ingestKafka(values: Values, config: ReturnType<typeof loadConfig>): Promise<void> {
  const brokers = required(values, 'kafka-brokers').split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0 || brokers.length > 100 || brokers.some((b) => !/^[A-Za-z0-9.-]{1,253}:\d{1,5}$/.test(b))) {
    throw new UsageError('--kafka-brokers takes host:port[,host:port...]');
  }
  const topic = required(values, 'kafka-topic');
  const groupId = required(values, 'kafka-group');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new UsageError('--kafka-topic takes a Kafka topic name (letters, digits, . _ -)');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(groupId)) throw new UsageError('--kafka-group takes a group id (letters, digits, . _ -)');
  const keys = requireMasterKeys(config);
  // loaded here, not at the top: kafkajs costs every other command ~50 ms of CPU at start-up (bench/README.md, "Third pass")
  const { KafkaSource } = await import('../modules/ingest/kafka.source');
  await runIngestProcess(values, config, { source: `kafka:${topic}` }, async ({ gateway, store, registry, logger, signal }) => {
    const source = new KafkaSource({
      store, logger, keys,
      service: (id) => gateway.tenancy.serviceById(id).catch(() => null),
      redaction: (serviceId) => new RedactionWatcher(gateway.redactionRepository, serviceId, config.ingest.redactionRefreshMs),
      kafkaRecorder: kafkaIngestMetrics(registry),
    }, {
      brokers, topic, groupId, clientId: `pga-ingest-${process.pid}`,
      recorder: ingestMetrics(registry, Date.now, DEAD_LETTER_CODES),
      maxRecordBytes: config.ingest.maxRecordBytes,
      window: { retentionDays: config.eventRetentionDays, maxFutureSkewMs: config.ingest.maxFutureSkewMs },
    });
    logger.info('consuming', { topic, groupId, brokers: brokers.length });
    await source.run(signal);
  }, { retentionSweep: true });
}

/**
 * Ingest options from the configuration: limits, window, dead-letter retention, and one service's redaction rules
 * (none with `serviceId` null: a source of many services keeps one watcher per service itself).
 */
function ingestOptions(config: ReturnType<typeof loadConfig>, gateway: ReturnType<typeof createGateway>, serviceId: string | null,
  recorder: ReturnType<typeof ingestMetrics>): IngestOptions {
  return {
    recorder,
    maxRecordBytes: config.ingest.maxRecordBytes,
    window: { retentionDays: config.eventRetentionDays, maxFutureSkewMs: config.ingest.maxFutureSkewMs },
    deadLetterRetentionDays: config.ingest.deadLetterRetentionDays,
    // the service's redaction rules, loaded before the first record and re-read every INGEST_REDACTION_REFRESH_MS
    ...(serviceId === null ? {} : { redaction: new RedactionWatcher(gateway.redactionRepository, serviceId, config.ingest.redactionRefreshMs) }),
  };
}

/** The largest --filter accepted. */
const MAX_FILTER_CHARS = 64 * 1024;

/**
 * `export`: the events of one service matching a filter, straight from OpenSearch (like `ingest`; no token: an
 * operator's command, needing DATABASE_URL, OPENSEARCH_URL and CREDENTIALS_MASTER_KEYS, which sign the resume
 * tokens, so a token of `serve` resumes here and the other way round). The same code as POST /export: one
 * point in time, pages with backpressure, exactly once; a request bound reached (EXPORT_MAX_EVENTS,
 * EXPORT_MAX_SECONDS) just continues. Stopped by an error: exit 1, the resume token on stderr.
 */
async function exportEvents(values: Values): Promise<void> {
  lowMemory();
  const config = loadConfig(env(values));
  if (!config.opensearchUrl) throw new UsageError('export needs OPENSEARCH_URL (or --opensearch-url)');
  requireMasterKeys(config);
  const serviceId = required(values, 'service');
  const format = values.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new UsageError('--format takes ndjson or csv');
  const limit = values.limit === undefined ? null : Number(values.limit);
  if (limit !== null && (!/^[1-9]\d{0,9}$/.test(values.limit!))) throw new UsageError('--limit takes a positive number of events');
  if (values.after !== undefined && values.resume === undefined) throw new UsageError('--after needs --resume');
  if ((values.filter ?? '').length > MAX_FILTER_CHARS) throw new UsageError(`--filter takes at most ${MAX_FILTER_CHARS} characters`);
  let raw: Record<string, unknown>;
  try { raw = values.filter ? JSON.parse(values.filter) : {}; } catch { throw new UsageError('--filter takes a JSON object (an AuditEventFilter)'); }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError('--filter takes a JSON object (an AuditEventFilter)');
  if (values.from !== undefined) raw.from = values.from;
  if (values.to !== undefined) raw.to = values.to;
  const { exportFilter } = await import('../api/export-route');
  const gateway = createGateway(config, silentLogger);
  const out = values.out ? createWriteStream(values.out, { flags: values.resume ? 'a' : 'w' }) : process.stdout;
  const sink = {
    write: (text: string) => new Promise<void>((resolve, reject) => {
      if (out.write(text)) return resolve();
      const done = (err?: Error) => { out.off('drain', done); out.off('error', done); if (err) reject(err); else resolve(); };
      out.once('drain', done);
      out.once('error', done);
    }),
  };
  let events = 0;
  try {
    const filter = await exportFilter(raw).catch((err: Error) => { throw new UsageError(err.message); });
    const service = await gateway.tenancy.serviceById(serviceId);
    if (!service) throw new UsageError(`service ${serviceId.slice(0, 64)} does not exist`);
    let resume = values.resume ?? null;
    let after = values.after ?? null;
    for (;;) {
      const run = await gateway.exports.startForService(service.id, { serviceId: service.id, format, filter, resume, after, limit });
      const outcome = await run.run(sink);
      events += outcome.written;
      if (outcome.status === 'error') {
        const err = outcome.error;
        throw new CommandFailed(`export stopped after ${events} events (${err instanceof Error ? err.message.slice(0, 200) : 'error'}); continue with --resume ${outcome.resume}`);
      }
      if (outcome.status === 'partial' && limit === null) { resume = outcome.resume; after = null; continue; }
      const summary = { status: outcome.status, events, resume: outcome.resume };
      const line = JSON.stringify(summary) + '\n';
      if (values.out) process.stdout.write(values.json ? line : `exported ${events} events to ${values.out} (${outcome.status})${outcome.resume ? `; continue with --resume ${outcome.resume}` : ''}\n`);
      else process.stderr.write(line);
      return;
    }
  } finally {
    if (out !== process.stdout) await new Promise<void>((resolve) => (out as ReturnType<typeof createWriteStream>).end(() => resolve()));
    await gateway.close();
  }
}

/** Run `close` once on SIGINT/SIGTERM, then exit. */
export function closeOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().then(() => process.exit(0), (err: Error) => { process.stderr.write(`shutdown failed: ${err.message}\n`); process.exit(1); });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function emitSchema(values: Values): Promise<void> {
  const { printGatewaySchema } = await import('../api/schema');
  const file = path.join(projectRoot(), 'schema.graphql');
  const sdl = printGatewaySchema();
  if (values.check) {
    if (readFileSync(file, 'utf8') !== sdl) throw new Error('schema.graphql is stale: run `npm run emit-schema` and commit it');
    return print(values, { upToDate: true }, 'schema.graphql is up to date');
  }
  writeFileSync(file, sdl);
  print(values, { written: file }, `wrote ${file}`);
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  const [command, sub] = positionals;
  const extra = positionals.slice(command === 'admin' ? 2 : 1);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]!.slice(0, 100)}`);
  if (values.help || !command) { process.stdout.write(USAGE + '\n'); return; }
  switch (command) {
    case 'migrate': {
      const config = loadConfig(env(values));
      const r = await migrateGatewayDb(config.databaseUrl, requireMasterKeys(config));
      return print(values, { applied: r.applied, alreadyApplied: r.alreadyApplied.length, encryptedServiceUrls: r.sealedServiceUrls },
        `applied ${r.applied.length} migration(s), ${r.alreadyApplied.length} already applied; encrypted ${r.sealedServiceUrls} plaintext service URL(s)`);
    }
    case 'serve': return closeOnSignal((await serve(values)).close);
    case 'ingest': return ingest(values);
    case 'export': return exportEvents(values);
    case 'emit-schema': return emitSchema(values);
    case 'admin': return admin(sub, values);
    default: throw new UsageError(`unknown command ${command}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const known = err instanceof UsageError || err instanceof CommandFailed || err instanceof ConfigError || err instanceof TenancyError || err instanceof AuditEventsError
      || err instanceof IngestError
      || (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'));
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`pg-audit-gateway: ${known ? message : `failed: ${message.split('\n').find((l) => l.trim()) ?? 'unknown error'}`}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
