/**
 * Follows a service's PostgreSQL log directory and indexes every pgaudit line, exactly once in effect:
 * - reading is at-least-once: each file is read from its checkpoint, and the checkpoint moves only after
 *   OpenSearch acknowledged every event (and dead letter) before the new offset;
 * - writing is idempotent: document ids derive from (service, session id, line number), and every write
 *   is a create, so whatever is read twice after a crash or an outage finds itself already indexed (and
 *   nothing ever replaces a stored event);
 * - nothing a line says chooses what the store creates: an event time outside the window (event-window.ts)
 *   and a record over `maxRecordBytes` become dead letters, and dead letters go to the index of the
 *   ingester's own day.
 * - redaction (option `redaction`, src/modules/redaction): every event and dead letter is redacted between
 *   parsing and encoding, under the service's rules as last read (loaded before the first record, re-read as
 *   the source says); ids are not derived from text, so redaction never changes one.
 * Files: `*.csv` (csvlog) or, where no csv of the same name exists, `*.json` (jsonlog), in name order
 * (PostgreSQL's log_filename puts the time in the name). A file replaced under the same name (other
 * inode), truncated below its checkpoint, or truncated and rewritten past it (log_truncate_on_rotation:
 * same inode, but another first line) is read again from the start.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EventStore } from '../audit-events/event.store';
import type { Logger } from '../../base/logger';
import { pause } from '../../base/pause';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { BulkPipeline, type IngestRecorder, type PipelineOptions } from './bulk.pipeline';
import type { CheckpointRepository } from './checkpoint.repository';
import type { EventWindow } from './event-window';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
import { ManagedLogSplitter } from './formats/managed.splitter';
import { StderrSplitter } from './formats/stderr.splitter';
import { DEFAULT_MAX_RECORD_BYTES, LogSplitter } from './log-record';
import { DEFAULT_EVENT_WINDOW, RecordEncoder } from './record.encoder';
import type { RedactionSource } from '../redaction/redaction.watcher';

export type { IngestRecorder } from './bulk.pipeline';
export { DEFAULT_EVENT_WINDOW } from './record.encoder';

/**
 * A hash of the file's first complete line (its first record's start: a timestamp that differs for each
 * reuse of the file). Complete lines never change, so the fingerprint is stable while the file grows;
 * with no complete line yet there is no checkpoint past 0 to protect.
 */
export async function firstLineFingerprint(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
    return createHash('sha256').update(buf.subarray(0, nl < 0 ? 0 : nl + 1)).digest('hex').slice(0, 16);
  } finally { await handle.close(); }
}

export interface IngestOptions extends PipelineOptions {
  /** Bytes per file read; default 256 KiB. */
  readChunkBytes?: number;
  /** Largest record (csvlog row, jsonlog line, stderr record, managed document) read; longer ones are dead letters. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Event times accepted (event-window.ts); default the default retention (30 days) and 24 h ahead. */
  window?: EventWindow;
  /** Dead letters are kept this many days (the retention sweep of follow()); default the event retention. */
  deadLetterRetentionDays?: number;
  /** The ingester's clock (ms since the epoch): the window's `now` and dead letters' `seenAt`. Default Date.now. */
  now?: () => number;
  /** The service's redaction rules (redaction.watcher.ts), asked before each chunk read is split; none: nothing is redacted. */
  redaction?: RedactionSource;
}

/** `events`: audit events; `sessionEvents`: logins, failed logins and logouts (session-event.ts), counted apart. */
export interface IngestStats { files: number; events: number; malformed: number; bytes: number; sessionEvents: number }

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
    const stats: IngestStats = { files: 0, events: 0, malformed: 0, bytes: 0, sessionEvents: 0 };
    const files = selectLogFiles(await readdir(this.logDir));
    for (const file of files) {
      const r = await this.ingestFile(file.name, file.format);
      stats.files += 1; stats.events += r.events; stats.malformed += r.malformed; stats.bytes += r.bytes; stats.sessionEvents += r.sessionEvents;
    }
    return stats;
  }

  /**
   * runOnce every `pollMs` until the signal aborts; with `retentionDays`, also run the retention sweep
   * hourly: event indices older than that, dead-letter indices older than `deadLetterRetentionDays`
   * (option; default the same).
   */
  async follow(signal: AbortSignal, pollMs = 1000, retentionDays?: number): Promise<void> {
    let lastExpiry = 0;
    while (!signal.aborted) {
      try {
        if (retentionDays && Date.now() - lastExpiry > 3_600_000) {
          const deadLetterRetentionDays = this.opts.deadLetterRetentionDays ?? retentionDays;
          const expired = await this.store.expire(retentionDays, new Date(this.clock()), deadLetterRetentionDays);
          lastExpiry = Date.now();
          if (expired.length) this.logger.info('expired audit event indices', { indices: expired, retentionDays, deadLetterRetentionDays });
        }
        const s = await this.runOnce();
        if (s.events || s.malformed || s.sessionEvents) this.logger.info('ingested', { serviceId: this.service.id, ...s });
      } catch (err) {
        this.logger.warn('ingest pass failed; retrying', { serviceId: this.service.id, error: (err as Error).message });
      }
      await pause(pollMs, signal);
    }
  }

  private async ingestFile(name: string, format: 'csvlog' | 'jsonlog'): Promise<{ events: number; malformed: number; bytes: number; sessionEvents: number }> {
    const file = path.join(this.logDir, name);
    const st = await stat(file);
    const identity = `${st.dev}:${st.ino}:${await firstLineFingerprint(file)}`;
    const saved = await this.checkpoints.get(this.service.id, name);
    const fresh = !saved || saved.fileIdentity !== identity || saved.offset > st.size;
    const checkpoint = fresh ? { fileIdentity: identity, offset: 0, events: 0, malformed: 0 } : saved;
    if (checkpoint.offset >= st.size) return { events: 0, malformed: 0, bytes: 0, sessionEvents: 0 };

    // `file:` and `stream:` (ingestStream) keep the position ids of the two kinds apart (audit-event.ts)
    const source = `file:${name}@${identity}`;
    const splitterOptions = { startOffset: checkpoint.offset, maxRecordBytes: this.maxRecordBytes };
    const splitter = format === 'csvlog' ? new CsvlogSplitter(splitterOptions) : new JsonlogSplitter(splitterOptions);
    // Read only to the size seen now: what is appended meanwhile is the next pass's.
    const stream = createReadStream(file, { start: checkpoint.offset, end: st.size - 1, highWaterMark: this.opts.readChunkBytes ?? 256 * 1024 });
    const start = checkpoint.offset;
    const totals = await this.pump(source, splitter, stream, checkpoint.offset, async (through, events, malformed) => {
      checkpoint.offset = through; checkpoint.events += events; checkpoint.malformed += malformed;
      await this.checkpoints.save(this.service.id, name, checkpoint);
    });
    // a trailing partial record stays unread until PostgreSQL completes it
    return { ...totals, bytes: checkpoint.offset - start };
  }

  /**
   * Index a stream of raw log lines (stderr format with a log_line_prefix, or NDJSON documents carrying
   * the line in MESSAGE). There is no checkpoint: a stream is read once. `source` must name the stream
   * stably: events without %c/%l in the prefix get ids from (source, position).
   */
  async ingestStream(input: AsyncIterable<Buffer | string>, o: { source: string; format: 'stderr' | 'managed'; logLinePrefix?: string })
    : Promise<{ events: number; malformed: number; sessionEvents: number }> {
    const options = { logLinePrefix: o.logLinePrefix, maxRecordBytes: this.maxRecordBytes };
    const splitter = o.format === 'stderr' ? new StderrSplitter(options) : new ManagedLogSplitter(options);
    return this.pump(`stream:${o.source}`, splitter, input, 0, async () => undefined, true);
  }

  /**
   * The one ingest loop for one service: split, encode (record.encoder.ts), batch and bulk-index (bulk.pipeline.ts),
   * and report each acknowledged batch to `acknowledged(through, events, malformed)`, `through` being the offset
   * every indexed record ends by. Batches are acknowledged in order, so a checkpoint never passes an event that is
   * not indexed. The first failure stops the loop; nothing after the last acknowledged batch is reported.
   */
  private async pump(source: string, splitter: LogSplitter, input: AsyncIterable<Buffer | string>,
    startOffset: number, acknowledged: (through: number, events: number, malformed: number) => Promise<void>, endOfInput = false)
    : Promise<{ events: number; malformed: number; sessionEvents: number }> {
    const recorder = this.opts.recorder;
    const totals = { events: 0, malformed: 0, sessionEvents: 0 };
    const pipeline = new BulkPipeline<number>(this.store, this.logger, async (through, counts) => {
      totals.events += counts.events; totals.malformed += counts.deadLetters; totals.sessionEvents += counts.sessionEvents;
      await acknowledged(through, counts.events, counts.deadLetters);
    }, this.opts, { serviceId: this.service.id, source });
    const encoder = new RecordEncoder(this.service, source, this.opts.window ?? DEFAULT_EVENT_WINDOW, () => this.clock());
    // the rules in force for what is read next: loaded before the first record, refreshed before each chunk is split
    if (this.opts.redaction) encoder.redactor = await this.opts.redaction.current();
    let through = startOffset;
    const take = async (items: ReturnType<LogSplitter['push']>) => {
      for (const item of items) {
        through = item.endOffset;
        encoder.encode(item, pipeline.current);
        const full = pipeline.added(through);
        if (full) await full;
      }
    };
    try {
      for await (const chunk of input) {
        recorder?.bytesRead(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
        if (this.opts.redaction) encoder.redactor = await this.opts.redaction.current();
        await take(splitter.push(chunk));
      }
      if (endOfInput) await take(splitter.end());
      await pipeline.drain();
    } catch (err) {
      await pipeline.settle();   // no request outlives the call
      throw err;
    }
    return totals;
  }

  private get maxRecordBytes(): number { return this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES; }
  private clock(): number { return (this.opts.now ?? Date.now)(); }
}
