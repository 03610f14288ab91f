/** Wires the gateway together from one configuration: the only place that constructs services. */
import type { GatewayConfig } from './config/config';
import { connectDb, DbHandle } from './db/prisma';
import type { Logger } from './logging/logger';
import { PolicyRepository } from './modules/audit-policy/policy.repository';
import { PolicyService } from './modules/audit-policy/policy.service';
import { TenancyRepository } from './modules/tenancy/tenancy.repository';
import { TenancyService } from './modules/tenancy/tenancy.service';

export interface Gateway {
  db: DbHandle;
  tenancy: TenancyService;
  policies: PolicyService;
  logger: Logger;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, logger: Logger): Gateway {
  const db = connectDb(config.databaseUrl);
  const tenancy = new TenancyService(new TenancyRepository(db.prisma));
  const policies = new PolicyService(tenancy, new PolicyRepository(db.prisma), config, logger);
  return {
    db, tenancy, policies, logger,
    async ready() { await db.prisma.$queryRaw`SELECT 1`; },
    close: () => db.close(),
  };
}
