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
import { BULK_BODY_BYTES, BulkBody } from '../audit-events/bulk-body';
import {
  DEAD_LETTER_EXCERPT_BYTES, DEAD_LETTER_REASON_BYTES, DeadLetterCode, DeadLetterDocument, deadLetterBulkOp, eventBulkOp,
} from '../audit-events/event.index';
import { cutUtf8 } from '../audit-events/text-cut';
import type { EventStore } from '../audit-events/event.store';
import type { Logger } from '../../base/logger';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { auditEventOf, positionEventId } from './audit-event';
import { sessionEventOf } from './session-event';
import { sessionBulkOp } from '../audit-events/session.index';
import type { CheckpointRepository } from './checkpoint.repository';
import { DEFAULT_MAX_FUTURE_SKEW_MS, EventWindow, outsideWindow } from './event-window';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
import { ManagedLogSplitter } from './formats/managed.splitter';
import { StderrSplitter } from './formats/stderr.splitter';
import { DEFAULT_MAX_RECORD_BYTES, LogItem, LogSplitter } from './log-record';
import { NO_REDACTOR } from '../redaction/redactor';
import type { RedactionSource } from '../redaction/redaction.watcher';

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

export interface IngestOptions {
  /** Events (and dead letters) per bulk request at most; default 2000. */
  batchSize?: number;
  /** Bytes per bulk request: a request is sent once its body reaches this; default 2 MiB (BULK_BODY_BYTES). */
  batchBytes?: number;
  /**
   * Bulk requests in flight at once; default 3. With 2, OpenSearch (two write threads here) idled while
   * the next batch was parsed: 1M events took 34 s against 28–31 s with 3 (bench, 2 cores).
   */
  maxInFlight?: number;
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
  /** Where counts go (metrics); nothing is recorded without one. */
  recorder?: IngestRecorder;
  /** The service's redaction rules (redaction.watcher.ts), asked before each chunk read is split; none: nothing is redacted. */
  redaction?: RedactionSource;
}

/** What the ingester reports as it goes (metrics). Counts only: never a statement, a file name or a service. */
export interface IngestRecorder {
  /** log bytes read (a re-read after a failure counts again) */
  bytesRead(n: number): void;
  /** a batch acknowledged by OpenSearch: its events, its dead letters by code (DEAD_LETTER_CODES), and its newest event's time (ms since the epoch) */
  acknowledged(events: number, deadLetters: Readonly<Partial<Record<DeadLetterCode, number>>>, newestEventMs: number | null): void;
  /** documents found already indexed (409 to a create): a replay after a crash, or a line claiming an id that is taken */
  duplicates(n: number): void;
  /** bulk requests sent again (429/5xx or no answer) */
  bulkRetries(n: number): void;
  /** documents OpenSearch rejected for good */
  rejected(n: number): void;
}

const NO_RECORDER: IngestRecorder = { bytesRead() {}, acknowledged() {}, duplicates() {}, bulkRetries() {}, rejected() {} };
/** The window without configuration: EVENT_RETENTION_DAYS's default and INGEST_MAX_FUTURE_SKEW_MS's. */
export const DEFAULT_EVENT_WINDOW: EventWindow = { retentionDays: 30, maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS };
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
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, pollMs); signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true }); });
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
   * The one ingest loop: split, extract, batch, bulk-index, and report each acknowledged batch to
   * `acknowledged(through, events, malformed)`, `through` being the offset every indexed record ends by.
   * Up to `maxInFlight` bulk requests run while the next batch is parsed (OpenSearch indexes on other
   * cores meanwhile), but acknowledgements stay in order: batch k is reported only after batches 1..k
   * were all accepted, so a checkpoint never passes an event that is not indexed. The first failure
   * stops the loop; nothing after the last acknowledged batch is reported.
   */
  private async pump(source: string, splitter: LogSplitter, input: AsyncIterable<Buffer | string>,
    startOffset: number, acknowledged: (through: number, events: number, malformed: number) => Promise<void>, endOfInput = false)
    : Promise<{ events: number; malformed: number; sessionEvents: number }> {
    const batchSize = this.opts.batchSize ?? 2000;
    const batchBytes = this.opts.batchBytes ?? BULK_BODY_BYTES;
    const maxInFlight = this.opts.maxInFlight ?? 3;
    const recorder = this.opts.recorder ?? NO_RECORDER;
    // each event and dead letter is encoded into the batch's body as it is read (bulk-body.ts); the
    // buffers of acknowledged batches are reused, so the ingester's memory stays flat
    const spare: Buffer[] = [];
    let body = new BulkBody();
    let events = 0;
    let sessions = 0;
    let letters = 0;
    let letterCodes: Partial<Record<DeadLetterCode, number>> = {};
    // the batch's newest event time: timestamps are all toISOString() (pg-timestamp.ts), so they compare as strings
    let newest = '';
    const tenant = { projectId: this.service.projectId, organizationId: this.service.organizationId };
    // the rules in force for what is read next: loaded before the first record, refreshed before each chunk is split
    let redactor = this.opts.redaction ? await this.opts.redaction.current() : NO_REDACTOR;
    let through = startOffset;
    let flushedThrough = startOffset;
    const totals = { events: 0, malformed: 0, sessionEvents: 0 };
    // acknowledgements of the batches sent and not yet reported, oldest first; each waits for the one before
    const pending: Promise<void>[] = [];
    let last: Promise<void> = Promise.resolve();

    const send = async () => {
      if (through === flushedThrough) return;
      const [batch, batchEvents, batchLetters, batchCodes, end, batchNewest, batchSessions] = [body, events, letters, letterCodes, through, newest, sessions];
      body = new BulkBody(spare.pop()); events = 0; sessions = 0; letters = 0; letterCodes = {}; newest = ''; flushedThrough = through;
      const written = this.store.bulkWrite(batch);
      written.catch(() => undefined);   // awaited below, in order; a failure surfaces there
      last = last.then(async () => {
        const result = await written;
        const buffer = batch.release();
        if (buffer) spare.push(buffer);
        recorder.bulkRetries(result.attempts - 1);
        recorder.rejected(result.rejected.length);
        recorder.duplicates(result.duplicates);
        recorder.acknowledged(batchEvents, batchCodes, batchNewest ? Date.parse(batchNewest) : null);
        if (result.attempts > 1) this.logger.warn('bulk request retried', { serviceId: this.service.id, source, attempts: result.attempts });
        if (result.rejected.length > 0) {
          this.logger.error('documents rejected by OpenSearch', { serviceId: this.service.id, source, count: result.rejected.length, first: result.rejected[0] });
        }
        totals.events += batchEvents; totals.malformed += batchLetters; totals.sessionEvents += batchSessions;
        await acknowledged(end, batchEvents, batchLetters);
      });
      last.catch(() => undefined);   // marked handled now; the loop awaits it (and throws) when its turn comes
      pending.push(last);
      if (pending.length >= maxInFlight) await pending.shift();
    };
    const window = this.opts.window ?? DEFAULT_EVENT_WINDOW;
    const deadLetter = (endOffset: number, code: DeadLetterCode, reason: string, excerpt: string, excerptTruncated = false) => {
      const redacted = redactor.deadLetter(code, reason, excerpt, excerptTruncated);
      body.add(deadLetterBulkOp(this.deadLetter(source, endOffset, code, redacted.reason, redacted.excerpt, excerptTruncated)));
      letters += 1;
      letterCodes[code] = (letterCodes[code] ?? 0) + 1;
    };
    const take = async (items: LogItem[]) => {
      for (const item of items) {
        through = item.endOffset;
        if (!item.ok) deadLetter(item.endOffset, item.code, item.reason, item.excerpt, item.excerptTruncated);
        else {
          const x = auditEventOf(this.service.id, item.record, source);
          if (x.kind === 'event') {
            const outside = outsideWindow(x.event.timestamp, this.clock(), window);
            if (outside !== null) deadLetter(item.endOffset, 'timestamp_out_of_window', outside, item.record.message);
            else {
              // the event is this loop's own, fresh object: it is redacted and becomes the document in place
              redactor.event(x.event);
              body.add(eventBulkOp(Object.assign(x.event, tenant), this.ingestedAt())); events += 1;
              if (x.event.timestamp > newest) newest = x.event.timestamp;
            }
          }
          else if (x.kind === 'rejected') deadLetter(item.endOffset, x.code, x.reason, item.record.message);
          else {
            // not an audit line: a login, failed login or logout is a session event (session-event.ts), same rules
            const s = sessionEventOf(this.service.id, item.record, source);
            if (s.kind === 'event') {
              const outside = outsideWindow(s.event.timestamp, this.clock(), window);
              if (outside !== null) deadLetter(item.endOffset, 'timestamp_out_of_window', outside, item.record.message);
              else { body.add(sessionBulkOp(Object.assign(s.event, tenant))); sessions += 1; }
            } else if (s.kind === 'rejected') deadLetter(item.endOffset, s.code, s.reason, item.record.message);
          }
        }
        if (body.count >= batchSize || body.byteLength >= batchBytes) await send();
      }
    };
    try {
      for await (const chunk of input) {
        recorder.bytesRead(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
        if (this.opts.redaction) redactor = await this.opts.redaction.current();
        await take(splitter.push(chunk));
      }
      if (endOfInput) await take(splitter.end());
      await send();
      await last;
    } catch (err) {
      await Promise.allSettled(pending);   // no request outlives the call
      throw err;
    }
    return totals;
  }

  /** ingestedAt of an event encoded now (the live tail's order): the ingester's clock, ISO text made once per millisecond. */
  private ingestedAt(): string {
    const now = this.clock();
    if (now !== this.stamp.ms) this.stamp = { ms: now, iso: new Date(now).toISOString() };
    return this.stamp.iso;
  }
  private stamp = { ms: Number.NaN, iso: '' };

  private get maxRecordBytes(): number { return this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES; }
  private clock(): number { return (this.opts.now ?? Date.now)(); }

  /** A dead letter: bounded (DEAD_LETTER_EXCERPT_BYTES of the line, flagged when cut; the reason cut too), in the index of the ingester's day. */
  private deadLetter(source: string, endOffset: number, code: DeadLetterCode, reason: string, excerpt: string, excerptTruncated: boolean): DeadLetterDocument {
    const cut = cutUtf8(excerpt, DEAD_LETTER_EXCERPT_BYTES);
    return { id: positionEventId(this.service.id, source, endOffset), serviceId: this.service.id, source, endOffset, code,
      reason: cutUtf8(reason, DEAD_LETTER_REASON_BYTES).text, excerpt: cut.text, excerptTruncated: excerptTruncated || cut.truncated,
      seenAt: new Date(this.clock()).toISOString() };
  }
}
