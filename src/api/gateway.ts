/** Wires the gateway together from one configuration: the only place that constructs services. */
import type { GatewayConfig } from '../base/config';
import { connectDb, DbHandle } from '../base/db/prisma';
import type { Logger } from '../base/logger';
import { AuditEventsService } from '../modules/audit-events/audit-events.service';
import { EventStore } from '../modules/audit-events/event.store';
import { PolicyRepository } from '../modules/audit-policy/policy.repository';
import { PolicyService } from '../modules/audit-policy/policy.service';
import { TenancyRepository } from '../modules/tenancy/tenancy.repository';
import { TenancyService } from '../modules/tenancy/tenancy.service';

export interface Gateway {
  db: DbHandle;
  tenancy: TenancyService;
  policies: PolicyService;
  events: AuditEventsService;
  /** null when OPENSEARCH_URL is not configured: event queries then answer SERVICE_UNAVAILABLE. */
  eventStore: EventStore | null;
  logger: Logger;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, logger: Logger): Gateway {
  const db = connectDb(config.databaseUrl);
  const tenancy = new TenancyService(new TenancyRepository(db.prisma), { authCacheTtlMs: config.authCacheTtlMs });
  const policies = new PolicyService(tenancy, new PolicyRepository(db.prisma), config, logger);
  const eventStore = config.opensearchUrl ? new EventStore(config.opensearchUrl) : null;
  const events = new AuditEventsService(tenancy, eventStore, { textMaxBytes: config.answers.eventTextMaxBytes,
    maxParameters: config.answers.eventMaxParameters, statsDefaultWindowMs: config.answers.statsDefaultWindowHours * 3_600_000 });
  return {
    db, tenancy, policies, events, eventStore, logger,
    async ready() { await db.prisma.$queryRaw`SELECT 1`; },
    async close() { await eventStore?.close(); await db.close(); },
  };
}
