/**
 * Follows a service's PostgreSQL log directory and indexes every pgaudit line, exactly once in effect:
 * - reading is at-least-once: each file is read from its checkpoint, and the checkpoint moves only after
 *   OpenSearch acknowledged every event (and dead letter) before the new offset;
 * - writing is idempotent: document ids derive from (service, session id, line number), so whatever is
 *   read twice after a crash or an outage overwrites itself.
 * Files: `*.csv` (csvlog) or, where no csv of the same name exists, `*.json` (jsonlog), in name order
 * (PostgreSQL's log_filename puts the time in the name). A file replaced under the same name (other
 * inode) or truncated below its checkpoint is read again from the start.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AuditEventDocument, DeadLetterDocument } from '../audit-events/event.index';
import type { EventStore } from '../audit-events/event.store';
import type { Logger } from '../../logging/logger';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { auditEventOf, positionEventId } from './audit-event';
import type { CheckpointRepository } from './checkpoint.repository';
import { CsvlogSplitter, JsonlogSplitter, LogItem } from './log-records';

export interface IngestOptions { batchSize?: number; readChunkBytes?: number }
export interface IngestStats { files: number; events: number; malformed: number; bytes: number }

/** Which files of a log directory to read, in order: csvlog, else jsonlog of the same name. */
export function selectLogFiles(names: readonly string[]): { name: string; format: 'csvlog' | 'jsonlog' }[] {
  const csv = new Set(names.filter((n) => n.endsWith('.csv')).map((n) => n.slice(0, -4)));
  return names
    .filter((n) => n.endsWith('.csv') || (n.endsWith('.json') && !csv.has(n.slice(0, -5))))
    .sort()
    .map((name) => ({ name, format: name.endsWith('.csv') ? 'csvlog' as const : 'jsonlog' as const }));
}

export class Ingester {
  constructor(
    private readonly service: Pick<ServiceRecord, 'id' | 'projectId' | 'organizationId'>,
    private readonly logDir: string,
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointRepository,
    private readonly logger: Logger,
    private readonly opts: IngestOptions = {},
  ) {}

  /** Index everything the directory holds now (complete records only), then return. */
  async runOnce(): Promise<IngestStats> {
    const stats: IngestStats = { files: 0, events: 0, malformed: 0, bytes: 0 };
    const files = selectLogFiles(await readdir(this.logDir));
    for (const file of files) {
      const r = await this.ingestFile(file.name, file.format);
      stats.files += 1; stats.events += r.events; stats.malformed += r.malformed; stats.bytes += r.bytes;
    }
    return stats;
  }

  /** runOnce every `pollMs` until the signal aborts; with `retentionDays`, also expire old indices hourly. */
  async follow(signal: AbortSignal, pollMs = 1000, retentionDays?: number): Promise<void> {
    let lastExpiry = 0;
    while (!signal.aborted) {
      try {
        if (retentionDays && Date.now() - lastExpiry > 3_600_000) {
          const expired = await this.store.expire(retentionDays);
          lastExpiry = Date.now();
          if (expired.length) this.logger.info('expired audit event indices', { indices: expired, retentionDays });
        }
        const s = await this.runOnce();
        if (s.events || s.malformed) this.logger.info('ingested', { serviceId: this.service.id, ...s });
      } catch (err) {
        this.logger.warn('ingest pass failed; retrying', { serviceId: this.service.id, error: (err as Error).message });
      }
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, pollMs); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); });
    }
  }

  private async ingestFile(name: string, format: 'csvlog' | 'jsonlog'): Promise<{ events: number; malformed: number; bytes: number }> {
    const file = path.join(this.logDir, name);
    const st = await stat(file);
    const identity = `${st.dev}:${st.ino}`;
    const saved = await this.checkpoints.get(this.service.id, name);
    const fresh = !saved || saved.fileIdentity !== identity || saved.offset > st.size;
    const checkpoint = fresh ? { fileIdentity: identity, offset: 0, events: 0, malformed: 0 } : saved;
    if (checkpoint.offset >= st.size) return { events: 0, malformed: 0, bytes: 0 };

    const source = `${name}@${identity}`;
    const splitter = format === 'csvlog' ? new CsvlogSplitter({ startOffset: checkpoint.offset }) : new JsonlogSplitter({ startOffset: checkpoint.offset });
    const batchSize = this.opts.batchSize ?? 1000;
    let events: AuditEventDocument[] = [];
    let dead: DeadLetterDocument[] = [];
    let through = checkpoint.offset;     // every record ending at or before this offset is in `events`/`dead` or done
    const start = checkpoint.offset;
    const totals = { events: 0, malformed: 0 };

    const flush = async () => {
      if (through === checkpoint.offset) return;
      const result = await this.store.bulkIndex(events, dead);
      if (result.rejected.length > 0) {
        this.logger.error('documents rejected by OpenSearch', { serviceId: this.service.id, file: name, count: result.rejected.length, first: result.rejected[0] });
      }
      totals.events += events.length; totals.malformed += dead.length;
      checkpoint.offset = through; checkpoint.events += events.length; checkpoint.malformed += dead.length;
      await this.checkpoints.save(this.service.id, name, checkpoint);
      events = []; dead = [];
    };

    const take = (item: LogItem) => {
      through = item.endOffset;
      if (!item.ok) { dead.push(this.deadLetter(source, item.endOffset, item.reason, item.excerpt)); return; }
      const x = auditEventOf(this.service.id, item.record, source);
      if (x.kind === 'event') events.push({ ...x.event, projectId: this.service.projectId, organizationId: this.service.organizationId });
      else if (x.kind === 'rejected') dead.push(this.deadLetter(source, item.endOffset, x.reason, item.record.message.slice(0, 200)));
    };

    // Read only to the size seen now: what is appended meanwhile is the next pass's.
    const stream = createReadStream(file, { start: checkpoint.offset, end: st.size - 1, highWaterMark: this.opts.readChunkBytes ?? 1024 * 1024 });
    for await (const chunk of stream) {
      for (const item of splitter.push(chunk as Buffer)) {
        take(item);
        if (events.length + dead.length >= batchSize) await flush();
      }
    }
    await flush();   // a trailing partial record stays unread until PostgreSQL completes it
    return { ...totals, bytes: through - start };
  }

  private deadLetter(source: string, endOffset: number, reason: string, excerpt: string): DeadLetterDocument {
    return { id: positionEventId(this.service.id, source, endOffset), serviceId: this.service.id, source, endOffset,
      reason: reason.slice(0, 1000), excerpt: excerpt.slice(0, 200), seenAt: new Date().toISOString() };
  }
}
