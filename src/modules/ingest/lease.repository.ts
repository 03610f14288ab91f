/**
 * Fleet leases in the gateway database (fleet.follower.ts): a service's log directory is followed by the one
 * holder of its unexpired lease; a holder renews its leases and its presence, and an expired lease may be taken by
 * anyone. Each statement is one atomic SQL statement: two processes never both take the same lease.
 */
import type { Db } from '../../base/db/prisma';

export class LeaseRepository {
  constructor(private readonly db: Db) {}

  /** Says `holder` is running for `ttlMs` more; returns how many holders are running now (itself included). */
  async present(holder: string, ttlMs: number): Promise<number> {
    await this.db.$executeRaw`INSERT INTO ingest_holder (holder, expires_at) VALUES (${holder}, now() + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT (holder) DO UPDATE SET expires_at = EXCLUDED.expires_at`;
    await this.db.$executeRaw`DELETE FROM ingest_holder WHERE expires_at < now() - interval '1 hour'`;
    const [row] = await this.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM ingest_holder WHERE expires_at > now()`;
    return row?.n ?? 1;
  }

  /** Renews every lease `holder` has; returns the services it still holds (a lease that expired and was taken is gone). */
  async renew(holder: string, ttlMs: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ service_id: string }[]>`UPDATE ingest_lease SET expires_at = now() + ${ttlMs} * interval '1 millisecond'
      WHERE holder = ${holder} RETURNING service_id`;
    return rows.map((r) => r.service_id);
  }

  /** Takes the lease of `serviceId` if it is free or expired (or already ours); whether `holder` has it now. */
  async claim(holder: string, serviceId: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db.$queryRaw<{ service_id: string }[]>`INSERT INTO ingest_lease (service_id, holder, expires_at)
      VALUES (${serviceId}::uuid, ${holder}, now() + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT (service_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
      WHERE ingest_lease.expires_at < now() OR ingest_lease.holder = EXCLUDED.holder
      RETURNING service_id`;
    return rows.length === 1;
  }

  /** Gives up `holder`'s leases of `serviceIds` (all of them when absent), and its presence when all are given up. */
  async release(holder: string, serviceIds?: readonly string[]): Promise<void> {
    if (serviceIds) {
      if (serviceIds.length > 0) await this.db.$executeRaw`DELETE FROM ingest_lease WHERE holder = ${holder} AND service_id = ANY(${serviceIds as string[]}::uuid[])`;
      return;
    }
    await this.db.$executeRaw`DELETE FROM ingest_lease WHERE holder = ${holder}`;
    await this.db.$executeRaw`DELETE FROM ingest_holder WHERE holder = ${holder}`;
  }

  /** Every unexpired lease: service -> holder (for tests and operators). */
  async holders(): Promise<Map<string, string>> {
    const rows = await this.db.$queryRaw<{ service_id: string; holder: string }[]>`SELECT service_id, holder FROM ingest_lease WHERE expires_at > now()`;
    return new Map(rows.map((r) => [r.service_id, r.holder]));
  }
}
