/**
 * Ingest from a log integration's raw indices (daily `logs-*` indices holding each server log line unparsed in
 * `MESSAGE`): documents read in (time, _id) order, never written to. Two modes share one reader (`RawIndexReader`):
 * one service's pattern (`RawIndexSource`, here), and a pattern many services share, each document routed by its
 * host (raw-shared.source.ts).
 *
 * - Reading: pages of `search_after` on (time field, _id), only documents older than `settleMs` (late documents of
 *   the last seconds arrive before they are passed); checkpointed in the gateway database (raw-index.repository.ts)
 *   from acknowledged batches only, so a crash reads again from the last checkpoint.
 * - Reassembly: PostgreSQL's syslog output arrives as pieces, a statement's lines (and a long line's chunks) in
 *   documents of their own; the pieces of each server process (host and pid) are put back together
 *   (formats/syslog-chunks.ts) before the message is parsed with the log_line_prefix (managed.splitter.ts). The
 *   checkpoint never passes the first piece of a message still open.
 * - Ids: from the record when the prefix has %c and %l (as for every source), else from the first piece's index and
 *   _id: reading a document again (after a crash, or the same documents twice) stores nothing twice.
 */
import { createHash } from 'node:crypto';
import { Client } from '@opensearch-project/opensearch';
import type { Db } from '../../base/db/prisma';
import type { Logger } from '../../base/logger';
import type { EventStore } from '../audit-events/event.store';
import type { RedactionSource } from '../redaction/redaction.watcher';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { BulkPipeline, type PipelineOptions } from './bulk.pipeline';
import type { EventWindow } from './event-window';
import { compileLogLinePrefix, DEFAULT_LOG_LINE_PREFIX } from './formats/log-line-prefix';
import { managedDocumentToItem } from './formats/managed.splitter';
import { type AssembledMessage, SyslogChunkAssembler } from './formats/syslog-chunks';
import { DEFAULT_MAX_RECORD_BYTES } from './log-record';
import { type RawCheckpoint, RawIndexRepository } from './raw-index.repository';
import { DEFAULT_EVENT_WINDOW, RecordEncoder } from './record.encoder';

export interface RawIndexOptions extends PipelineOptions {
  /** The integration's OpenSearch (it may be the gateway's own). */
  url: string;
  /** The integration's indices, e.g. `logs-*`. */
  indexPattern: string;
  /** The documents' time field; default `timestamp`. */
  timeField?: string;
  logLinePrefix?: string;
  /** Only documents at least this old are read; default 10 s. */
  settleMs?: number;
  /** Documents per page; default 1000. */
  pageSize?: number;
  maxRecordBytes?: number;
  window?: EventWindow;
  /** The service's redaction rules (the one-service mode; the shared mode has one source per service). */
  redaction?: RedactionSource;
}

/** A raw document as read: its place in the order, its index and id, and the fields used. */
interface RawHit { _index: string; _id: string; sort: unknown[]; _source: Record<string, unknown> }
/** Where a message's first piece was: its position id, and the sort values just before it (what a checkpoint may reach while it is open); the encoder of its service. */
interface FirstPiece { position: number; timestamp: unknown; before: unknown[] | null; encoder: RecordEncoder }

export interface RawIndexStats { documents: number; events: number; malformed: number; sessionEvents: number }

/**
 * A pass's routing: `beforePage` before each page is read, `route` for each document of it: the encoder of the
 * service whose messages its piece belongs to, or null when it is no service's read here: skipped (never parsed,
 * encoded or kept), read all the same (the checkpoint passes it).
 */
export interface RawRouter {
  beforePage?(): Promise<void>;
  route(doc: Record<string, unknown>): RecordEncoder | null | Promise<RecordEncoder | null>;
}

/** The reading both modes share: pages in order, pieces put back together per stream, the checkpoint. */
export class RawIndexReader {
  private readonly client: Client;
  /** Names what is read in position ids and dead letters: the same in both modes, so a document has one id. */
  readonly source: string;

  constructor(private readonly store: EventStore, private readonly logger: Logger, readonly opts: RawIndexOptions) {
    this.client = new Client({ node: opts.url, requestTimeout: 30_000, maxRetries: 2 });
    this.source = `raw:${opts.indexPattern}`;
  }

  /** A new encoder of this reader's source for `service` (one per service and pass). */
  encoder(service: Pick<ServiceRecord, 'id' | 'projectId' | 'organizationId'>): RecordEncoder {
    return new RecordEncoder(service, this.source, this.opts.window ?? DEFAULT_EVENT_WINDOW);
  }

  /**
   * Reads every settled document after `checkpoint`, each where `router` sends it, indexes what they hold, and
   * moves the checkpoint from acknowledged batches (`documents` counts the skipped too).
   */
  async pass(checkpoint: RawCheckpoint, router: RawRouter, logFields: Record<string, unknown>): Promise<RawIndexStats> {
    const timeField = this.opts.timeField ?? 'timestamp';
    const prefix = compileLogLinePrefix(this.opts.logLinePrefix ?? DEFAULT_LOG_LINE_PREFIX);
    const assembler = new SyslogChunkAssembler<FirstPiece>(this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
    const stats = { documents: 0, events: 0, malformed: 0, sessionEvents: 0 };
    let { after, documents } = await checkpoint.load();
    const pipeline = new BulkPipeline<{ after: unknown[]; documents: number }>(this.store, this.logger, async (mark, counts) => {
      stats.events += counts.events; stats.malformed += counts.deadLetters; stats.sessionEvents += counts.sessionEvents;
      await checkpoint.save(mark.after, mark.documents);
    }, this.opts, logFields);
    const encode = (messages: AssembledMessage<FirstPiece>[]) => {
      for (const m of messages) {
        const item = managedDocumentToItem({ MESSAGE: m.text, timestamp: m.first.timestamp }, prefix, m.first.position);
        m.first.encoder.encode(item, pipeline.current, m.first.position);
      }
    };
    try {
      for (;;) {
        await router.beforePage?.();
        const hits = await this.page(timeField, after);
        if (hits.length === 0) break;
        for (const hit of hits) {
          const doc = hit._source;
          const encoder = await router.route(doc);
          // a skipped document is no piece of any stream: the messages open on other streams are untouched
          if (encoder) {
            const stream = `${String(doc.HOSTNAME ?? '')}|${String(doc.SYSLOG_PID ?? doc._PID ?? '')}`;
            const first: FirstPiece = { position: positionOf(hit), timestamp: doc[timeField], before: after, encoder };
            encode(assembler.push(stream, typeof doc.MESSAGE === 'string' ? doc.MESSAGE : '', first));
          }
          after = hit.sort;
          documents += 1;
          stats.documents += 1;
          // the checkpoint may not pass the first piece of a message still open: a restart reads it again whole
          const oldest = assembler.oldestOpen;
          await pipeline.added({ after: oldest ? (oldest.before ?? []) : after, documents });
        }
        // a page that added nothing to the batch (every document skipped, or pieces of messages still open) still
        // moves the checkpoint: no bulk request, one checkpoint write; a long run of skipped documents is not read again
        if (pipeline.current.body.count === 0) await pipeline.flush();
      }
      // settled documents only were read: the messages still open have all their pieces
      encode(assembler.flush());
      if (after) await pipeline.added({ after, documents });
      await pipeline.drain();
    } catch (err) {
      await pipeline.settle();
      throw err;
    }
    return stats;
  }

  private async page(timeField: string, after: unknown[] | null): Promise<RawHit[]> {
    const res = await this.client.search({
      index: this.opts.indexPattern,
      ignore_unavailable: true, allow_no_indices: true,
      body: {
        size: this.opts.pageSize ?? 1000, track_total_hits: false,
        sort: [{ [timeField]: { order: 'asc' } }, { _id: { order: 'asc' } }],
        query: { range: { [timeField]: { lte: `now-${Math.ceil((this.opts.settleMs ?? 10_000) / 1000)}s` } } },
        _source: ['MESSAGE', 'HOSTNAME', 'SYSLOG_PID', '_PID', timeField],
        ...(after && after.length > 0 ? { search_after: after } : {}),
      },
    } as never);
    return ((res.body as { hits: { hits: RawHit[] } }).hits.hits);
  }
}

/** One service's documents of a pattern: every document is the service's, whatever its host. */
export class RawIndexSource {
  private readonly reader: RawIndexReader;
  private readonly checkpoint: RawCheckpoint;

  constructor(
    private readonly service: Pick<ServiceRecord, 'id' | 'projectId' | 'organizationId'>,
    store: EventStore,
    db: Db,
    logger: Logger,
    private readonly opts: RawIndexOptions,
  ) {
    this.reader = new RawIndexReader(store, logger, opts);
    this.checkpoint = new RawIndexRepository(db).serviceCheckpoint(service.id, opts.indexPattern);
  }

  /** Reads every settled document after the checkpoint, indexes what they hold, and moves the checkpoint. */
  async runOnce(): Promise<RawIndexStats> {
    const encoder = this.reader.encoder(this.service);
    if (this.opts.redaction) encoder.redactor = await this.opts.redaction.current();
    return this.reader.pass(this.checkpoint, { route: () => encoder }, { serviceId: this.service.id, source: this.reader.source });
  }
}

/** A raw document's place as a position id: 48 bits of a hash of its index and _id (stable however often it is read). */
function positionOf(hit: RawHit): number {
  return parseInt(createHash('sha256').update(`${hit._index}\u0000${hit._id}`).digest('hex').slice(0, 12), 16);
}
