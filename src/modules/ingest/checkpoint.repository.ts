/** Ingest checkpoints in the gateway database. Written only after OpenSearch acknowledged the events before `offset`. */
import type { Db } from '../../base/db/prisma';

export interface Checkpoint { fileIdentity: string; offset: number; events: number; malformed: number }

export class CheckpointRepository {
  constructor(private readonly db: Db) {}

  async get(serviceId: string, fileName: string): Promise<Checkpoint | null> {
    const c = await this.db.ingestCheckpoint.findUnique({ where: { serviceId_fileName: { serviceId, fileName } } });
    return c ? { fileIdentity: c.fileIdentity, offset: Number(c.offset), events: Number(c.events), malformed: Number(c.malformed) } : null;
  }

  async save(serviceId: string, fileName: string, c: Checkpoint): Promise<void> {
    const data = { fileIdentity: c.fileIdentity, offset: BigInt(c.offset), events: BigInt(c.events), malformed: BigInt(c.malformed), updatedAt: new Date() };
    await this.db.ingestCheckpoint.upsert({ where: { serviceId_fileName: { serviceId, fileName } }, create: { serviceId, fileName, ...data }, update: data });
  }
}
