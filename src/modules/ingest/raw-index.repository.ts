/**
 * The raw-index source's state in the gateway database: how far a pattern has been read (per service in the
 * one-service mode, `ingest_raw_checkpoint`; per pattern in the shared mode, `ingest_raw_pattern_checkpoint`), and
 * the shared mode's host mapping (`ingest_raw_host`: (pattern, host) -> service, gone with its service).
 */
import type { Db } from '../../base/db/prisma';
import type { RawHostService } from './raw-hosts';

/** Where a reading of a pattern stands: the sort values of the last document it passed, and how many it read. */
export interface RawPosition { after: unknown[] | null; documents: number }

/** One reading's checkpoint: loaded when a pass starts, saved from acknowledged batches only. */
export interface RawCheckpoint {
  load(): Promise<RawPosition>;
  save(after: unknown[], documents: number): Promise<void>;
}

/** A mapping as listed. */
export interface RawHostRow { indexPattern: string; host: string; serviceId: string; createdAt: Date }

export class RawIndexRepository {
  constructor(private readonly db: Db) {}

  /** The one-service mode's checkpoint of (service, pattern). */
  serviceCheckpoint(serviceId: string, indexPattern: string): RawCheckpoint {
    const where = { serviceId_indexPattern: { serviceId, indexPattern } };
    return {
      load: async () => positionOf(await this.db.ingestRawCheckpoint.findUnique({ where })),
      save: async (after, documents) => {
        const data = { after: after as object, documents: BigInt(documents), updatedAt: new Date() };
        await this.db.ingestRawCheckpoint.upsert({ where, create: { serviceId, indexPattern, ...data }, update: data });
      },
    };
  }

  /** The shared mode's checkpoint of a pattern, whichever service each document was. */
  patternCheckpoint(indexPattern: string): RawCheckpoint {
    const where = { indexPattern };
    return {
      load: async () => positionOf(await this.db.ingestRawPatternCheckpoint.findUnique({ where })),
      save: async (after, documents) => {
        const data = { after: after as object, documents: BigInt(documents), updatedAt: new Date() };
        await this.db.ingestRawPatternCheckpoint.upsert({ where, create: { indexPattern, ...data }, update: data });
      },
    };
  }

  /** The pattern's mapped hosts with their services' tenants, at most `limit` (ordered by host). */
  async hosts(indexPattern: string, limit: number): Promise<{ host: string; service: RawHostService }[]> {
    const rows = await this.db.ingestRawHost.findMany({ where: { indexPattern }, orderBy: { host: 'asc' }, take: limit,
      select: { host: true, service: { select: { id: true, projectId: true, project: { select: { organizationId: true } } } } } });
    return rows.map((r) => ({ host: r.host, service: { id: r.service.id, projectId: r.service.projectId, organizationId: r.service.project.organizationId } }));
  }

  /**
   * Maps (pattern, host) to the service unless the host is mapped already (returned as it is) or the pattern has
   * `maxHosts` hosts (`full`). One transaction holding the pattern's advisory lock: two concurrent commands
   * cannot both pass the bound.
   */
  async mapHost(indexPattern: string, host: string, serviceId: string, maxHosts: number): Promise<{ existing: RawHostRow | null; full: boolean; created: RawHostRow | null }> {
    return this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`ingest_raw_host:${indexPattern}`}, 0))::text AS locked`;
      const existing = await tx.ingestRawHost.findUnique({ where: { indexPattern_host: { indexPattern, host } } });
      if (existing) return { existing, full: false, created: null };
      if (await tx.ingestRawHost.count({ where: { indexPattern } }) >= maxHosts) return { existing: null, full: true, created: null };
      return { existing: null, full: false, created: await tx.ingestRawHost.create({ data: { indexPattern, host, serviceId } }) };
    }, { timeout: 10_000, maxWait: 10_000 });
  }

  /** Removes the mapping of (pattern, host), only if it maps to `serviceId` when one is given; the row removed, or null. */
  async unmapHost(indexPattern: string, host: string, serviceId?: string): Promise<RawHostRow | null> {
    return this.db.$transaction(async (tx) => {
      const row = await tx.ingestRawHost.findUnique({ where: { indexPattern_host: { indexPattern, host } } });
      if (!row || (serviceId !== undefined && row.serviceId !== serviceId)) return null;
      await tx.ingestRawHost.delete({ where: { indexPattern_host: { indexPattern, host } } });
      return row;
    }, { timeout: 10_000, maxWait: 10_000 });
  }

  /** Every mapping (of one pattern), by pattern and host. */
  async listHosts(indexPattern?: string): Promise<RawHostRow[]> {
    return this.db.ingestRawHost.findMany({ where: indexPattern === undefined ? {} : { indexPattern }, orderBy: [{ indexPattern: 'asc' }, { host: 'asc' }] });
  }
}

function positionOf(row: { after: unknown; documents: bigint } | null): RawPosition {
  return { after: (row?.after as unknown[] | undefined) ?? null, documents: Number(row?.documents ?? 0) };
}
