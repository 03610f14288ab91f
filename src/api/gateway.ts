/** Wires the gateway together from one configuration: the only place that constructs services. */
import type { GatewayConfig } from '../base/config';
import { connectDb, DbHandle } from '../base/db/prisma';
import type { Logger } from '../base/logger';
import { createMetricsRegistry, gatewayMetrics, GatewayMetrics, lapseMetrics, MetricsRegistry, targetConnectionMetrics } from '../base/metrics';
import { driftMetrics, tailMetrics } from '../base/metrics';
import { DRIFT_CHECK_OUTCOMES, DriftMonitor } from '../modules/audit-policy/policy.drift-monitor';
import { AuditEventsService } from '../modules/audit-events/audit-events.service';
import { EventStore } from '../modules/audit-events/event.store';
import { ExportService } from '../modules/audit-events/export.service';
import { TAIL_END_REASONS } from '../modules/audit-events/tail.service';
import { tokenKey } from '../modules/audit-events/export.token';
import { PolicyRepository } from '../modules/audit-policy/policy.repository';
import { PolicyService } from '../modules/audit-policy/policy.service';
import { LapseRepository } from '../modules/audit-policy/lapse.repository';
import { LAPSE_FAILURE_REASONS } from '../modules/audit-policy/lapse.rules';
import { LapseService } from '../modules/audit-policy/lapse.service';
import { TenancyRepository } from '../modules/tenancy/tenancy.repository';
import { RedactionRepository } from '../modules/redaction/redaction.repository';
import { RedactionService } from '../modules/redaction/redaction.service';
import { TenancyService } from '../modules/tenancy/tenancy.service';
import { CredentialVault } from '../modules/tenancy/service-credential';
import { sealPlaintextServiceUrls, SEAL_BEFORE_MIGRATION } from '../modules/tenancy/credential.migration';
import { hashUnchainedRevisions, HASH_BEFORE_MIGRATION } from '../modules/audit-policy/history-chain.migration';
import { migrate, MigrationResult } from '../base/db/migrate';
import type { MasterKeyring } from '../base/crypto/master-keys';
import { Client } from 'pg';

/**
 * The gateway database's migrations, with the step only the application can do: before the migration that
 * drops the plaintext `connection_url`, every service row still holding one is sealed under the current
 * master key (in the same transaction). Without keys that step refuses if there is anything to seal. Before the
 * migration that makes revision hashes required, every revision stored without them is hashed into its chain.
 */
export async function migrateGatewayDb(databaseUrl: string, keys: MasterKeyring | null): Promise<MigrationResult & { sealedServiceUrls: number }> {
  let sealedServiceUrls = 0;
  const result = await migrate(databaseUrl, undefined, {
    [SEAL_BEFORE_MIGRATION]: async (client) => { sealedServiceUrls = await sealPlaintextServiceUrls(client, keys); },
    [HASH_BEFORE_MIGRATION]: async (client) => { await hashUnchainedRevisions(client); },
  });
  if (sealedServiceUrls > 0) await rewriteServiceTable(databaseUrl);
  return { ...result, sealedServiceUrls };
}

/**
 * After plaintext URLs were sealed, their old row versions (and the dropped column's bytes) still sit in the
 * table's file until it is rewritten: VACUUM FULL writes a new file with the live rows only (a brief exclusive
 * lock on a small table). WAL already written and earlier backups still hold them: see README, Security.
 */
async function rewriteServiceTable(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try { await client.query('VACUUM FULL "service"'); } finally { await client.end(); }
}

/** /readyz: ready while the gateway database answers; OpenSearch is reported, not required (the control path works without it). */
export interface Readiness {
  status: 'ready' | 'unavailable';
  checks: { database: 'up' | 'down'; opensearch: 'up' | 'down' | 'not configured' };
}

/** How long each readiness check may take: /readyz never hangs on a dependency. */
export const READINESS_TIMEOUT_MS = 1000;

/** Resolves true when `check` succeeds within `ms`, false when it fails or takes longer. */
export async function within(check: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([check().then(() => true, () => false), late]);
  } finally { clearTimeout(timer); }
}

export interface Gateway {
  db: DbHandle;
  tenancy: TenancyService;
  policies: PolicyService;
  /** Plan changes and the lapse queue (admin set-plan; serve's LapseWorker). */
  lapses: LapseService;
  events: AuditEventsService;
  /** Streamed exports of events (POST /export, CLI `export`). */
  exports: ExportService;
  /** Redaction rules: set and read through the API; the ingester reads them through redactionRepository. */
  redaction: RedactionService;
  redactionRepository: RedactionRepository;
  /** null when OPENSEARCH_URL is not configured: event queries then answer SERVICE_UNAVAILABLE. */
  eventStore: EventStore | null;
  logger: Logger;
  /** This gateway's metrics (its own registry, with Node's process metrics). */
  registry: MetricsRegistry;
  metrics: GatewayMetrics;
  /** Bearer token for /metrics; null: /metrics is not served. */
  metricsToken: string | null;
  /** The drift checks of enabled policies (DRIFT_CHECK_INTERVAL_MS; null when 0): `serve` starts it, close() stops it. */
  driftMonitor: DriftMonitor | null;
  ready(): Promise<Readiness>;
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, logger: Logger, registry: MetricsRegistry = createMetricsRegistry()): Gateway {
  const db = connectDb(config.databaseUrl);
  const vault = new CredentialVault(config.credentialsMasterKeys);
  const tenancy = new TenancyService(new TenancyRepository(db.prisma), vault, { authCacheTtlMs: config.authCacheTtlMs,
    authCacheMaxEntries: config.authCacheMaxEntries });
  const policies = new PolicyService(tenancy, new PolicyRepository(db.prisma), config, logger, vault, targetConnectionMetrics(registry));
  const lapses = new LapseService(tenancy, policies, new LapseRepository(db.prisma), config, logger, lapseMetrics(registry, LAPSE_FAILURE_REASONS));
  const eventStore = config.opensearchNodes.length > 0 ? new EventStore(config.opensearchNodes, { replicas: config.opensearchReplicas, eventShards: config.opensearchEventShards }) : null;
  const driftMonitor = config.driftCheckIntervalMs > 0
    ? new DriftMonitor(policies.drift, logger, { intervalMs: config.driftCheckIntervalMs }, driftMetrics(registry, DRIFT_CHECK_OUTCOMES))
    : null;
  const events = new AuditEventsService(tenancy, eventStore, { textMaxBytes: config.answers.eventTextMaxBytes,
    maxParameters: config.answers.eventMaxParameters, statsDefaultWindowMs: config.answers.statsDefaultWindowHours * 3_600_000 }, config.tail,
    tailMetrics(registry, TAIL_END_REASONS));
  // resume tokens are signed with a key derived from the current master key (a process without keys: a random one)
  const keys = config.credentialsMasterKeys;
  // not `exports`: in the CommonJS output that name is the module's own exports object (READINESS_TIMEOUT_MS read as undefined)
  const exportService = new ExportService(tenancy, eventStore, tokenKey(keys ? keys.key(keys.current) ?? null : null), config.exports);
  const redactionRepository = new RedactionRepository(db.prisma);
  const redaction = new RedactionService(tenancy, redactionRepository);
  return {
    db, tenancy, policies, lapses, events, exports: exportService, redaction, redactionRepository, eventStore, logger, registry, metrics: gatewayMetrics(registry), metricsToken: config.metricsToken, driftMonitor,
    async ready() {
      const [database, opensearch] = await Promise.all([
        within(() => db.prisma.$queryRaw`SELECT 1`, READINESS_TIMEOUT_MS),
        eventStore ? within(() => eventStore.ping(), READINESS_TIMEOUT_MS) : Promise.resolve(null),
      ]);
      return {
        status: database ? 'ready' : 'unavailable',
        checks: { database: database ? 'up' : 'down', opensearch: opensearch === null ? 'not configured' : opensearch ? 'up' : 'down' },
      };
    },
    async close() { events.tails.closeAll(); await driftMonitor?.stop(); await eventStore?.close(); await db.close(); },
  };
}
