/** The gateway database client: pg.Pool -> PrismaPg -> PrismaClient (no native engine). End it on shutdown. */
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../../generated/prisma/client';

export type Db = PrismaClient;

export interface DbHandle { prisma: PrismaClient; close(): Promise<void> }

export function connectDb(databaseUrl: string, maxConnections = 10): DbHandle {
  const pool = new Pool({ connectionString: databaseUrl, max: maxConnections });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
