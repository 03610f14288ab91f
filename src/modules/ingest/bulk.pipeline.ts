/**
 * The bulk pipeline every ingest source writes through: encoded events and dead letters are added to the batch
 * being filled (one BulkBody); a full batch (`batchSize` documents or `batchBytes`) is sent while the next one
 * fills, up to `maxInFlight` at once, and acknowledged in order: batch k is reported to `acknowledged` only after
 * batches 1..k were all accepted by OpenSearch, so whatever a source commits from a report (a file offset, Kafka
 * offsets) never passes a document that is not indexed. Each batch carries the source's mark of what it holds up
 * to (`M`: a byte offset, offsets per partition...). The first failure stops the pipeline: `flush` and `drain`
 * throw it, and nothing after the last acknowledged batch is reported.
 */
import type { Logger } from '../../base/logger';
import { BULK_BODY_BYTES, BulkBody } from '../audit-events/bulk-body';
import type { DeadLetterCode } from '../audit-events/event.index';
import type { EventStore } from '../audit-events/event.store';

/** What the pipeline reports as it goes (metrics). Counts only: never a statement, a file name or a service. */
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

export const NO_RECORDER: IngestRecorder = { bytesRead() {}, acknowledged() {}, duplicates() {}, bulkRetries() {}, rejected() {} };

export interface PipelineOptions {
  /** Events (and dead letters) per bulk request at most; default 2000. */
  batchSize?: number;
  /** Bytes per bulk request: a request is sent once its body reaches this; default 2 MiB (BULK_BODY_BYTES). */
  batchBytes?: number;
  /**
   * Bulk requests in flight at once; default 3. With 2, OpenSearch (two write threads here) idled while
   * the next batch was parsed: 1M events took 34 s against 28–31 s with 3 (bench, 2 cores).
   */
  maxInFlight?: number;
  /** Where counts go (metrics); nothing is recorded without one. */
  recorder?: IngestRecorder;
}

/** The counts of one batch: what an acknowledgement reports. */
export interface BatchCounts { events: number; sessionEvents: number; deadLetters: number }

/** The batch being filled: encoders add documents to `body` and count them here. */
export class Batch {
  readonly body: BulkBody;
  events = 0;
  sessionEvents = 0;
  deadLetters = 0;
  codes: Partial<Record<DeadLetterCode, number>> = {};
  /** The newest event time: timestamps are all toISOString() (pg-timestamp.ts), so they compare as strings. */
  newest = '';

  constructor(buffer?: Buffer) { this.body = new BulkBody(buffer); }

  event(timestamp: string): void {
    this.events += 1;
    if (timestamp > this.newest) this.newest = timestamp;
  }

  sessionEvent(): void { this.sessionEvents += 1; }

  deadLetter(code: DeadLetterCode): void {
    this.deadLetters += 1;
    this.codes[code] = (this.codes[code] ?? 0) + 1;
  }
}

export class BulkPipeline<M> {
  private batch: Batch;
  /** The mark of what the batch being filled holds up to, or `undefined` when nothing was added since the last send. */
  private mark: M | undefined;
  /** Buffers of acknowledged batches, reused: the ingester's memory stays flat. */
  private readonly spare: Buffer[] = [];
  /** Acknowledgements of the batches sent and not yet reported, oldest first; each waits for the one before. */
  private readonly pending: Promise<void>[] = [];
  private last: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
  private readonly recorder: IngestRecorder;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    /** Called once per batch, in order, after OpenSearch accepted it and every batch before it. */
    private readonly acknowledged: (mark: M, counts: BatchCounts) => Promise<void>,
    opts: PipelineOptions = {},
    /** Fields of the pipeline's log lines (which service or source): never a statement. */
    private readonly logFields: Record<string, unknown> = {},
  ) {
    this.batchSize = opts.batchSize ?? 2000;
    this.batchBytes = opts.batchBytes ?? BULK_BODY_BYTES;
    this.maxInFlight = opts.maxInFlight ?? 3;
    this.recorder = opts.recorder ?? NO_RECORDER;
    this.batch = new Batch();
  }

  /** The batch to add documents to. */
  get current(): Batch { return this.batch; }

  /**
   * Everything added so far is held up to `mark`; the batch is sent once it is full. Only then is there something to
   * wait for (room among the requests in flight): the promise, else undefined, so that a caller adding one record at a
   * time awaits once per batch, not once per record (an await per record cost the ingester a microtask and a promise
   * each: bench/README.md, "Ingest beside a raw shipper").
   */
  added(mark: M): Promise<void> | undefined {
    this.mark = mark;
    return this.batch.body.count >= this.batchSize || this.batch.body.byteLength >= this.batchBytes ? this.send() : undefined;
  }

  /** Sends what was added since the last send, even a batch with no document (its mark still moves), then waits for nothing more. */
  async flush(): Promise<void> {
    await this.send();
  }

  /** Sends what is left and waits until every batch is acknowledged (or throws the first failure). */
  async drain(): Promise<void> {
    await this.send();
    await this.last;
  }

  /** After a failure: waits for every request in flight, so that none outlives the caller. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  private async send(): Promise<void> {
    if (this.mark === undefined) return;
    const [batch, mark] = [this.batch, this.mark];
    this.batch = new Batch(this.spare.pop());
    this.mark = undefined;
    const written = this.store.bulkWrite(batch.body);
    written.catch(() => undefined);   // awaited below, in order; a failure surfaces there
    this.last = this.last.then(async () => {
      const result = await written;
      const buffer = batch.body.release();
      if (buffer) this.spare.push(buffer);
      this.recorder.bulkRetries(result.attempts - 1);
      this.recorder.rejected(result.rejected.length);
      this.recorder.duplicates(result.duplicates);
      this.recorder.acknowledged(batch.events, batch.codes, batch.newest ? Date.parse(batch.newest) : null);
      if (result.attempts > 1) this.logger.warn('bulk request retried', { ...this.logFields, attempts: result.attempts });
      if (result.rejected.length > 0) {
        this.logger.error('documents rejected by OpenSearch', { ...this.logFields, count: result.rejected.length, first: result.rejected[0] });
      }
      await this.acknowledged(mark, { events: batch.events, sessionEvents: batch.sessionEvents, deadLetters: batch.deadLetters });
    });
    this.last.catch(() => undefined);   // marked handled now; drain (or the next send) awaits it and throws when its turn comes
    this.pending.push(this.last);
    if (this.pending.length >= this.maxInFlight) await this.pending.shift();
  }
}
