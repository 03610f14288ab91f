/**
 * Ingest from the platform's log stream: a member of a Kafka consumer group reading one topic that many services'
 * servers write to (the message contract: kafka.record.ts). Partitions, and so services, spread over however many
 * ingester processes run; when one dies, the group hands its partitions to the others.
 *
 * Exactly once in effect, as for files:
 * - each message becomes a document of the shared bulk pipeline (bulk.pipeline.ts) through the encoder of its
 *   (service, partition) (record.encoder.ts: the service's redaction rules, window, tenant);
 * - a partition's offset is committed only from an acknowledged batch: every message before it is indexed (or a
 *   dead letter). Offsets are never committed automatically;
 * - after a crash or a rebalance the partition's new owner reads again from its committed offset; documents are
 *   created, never replaced, under ids derived from the record (session id and line number) or, for dead letters,
 *   from the partition and offset: what is read twice is indexed once.
 * kafkajs heartbeats between fetches, so a fetch waits at most `maxWaitTimeInMs` (500 ms) for data. A consumer that
 * kafkajs gives up on (a crash it does not restart itself) is replaced by a new one after a pause.
 */
import { Kafka, logLevel, type Consumer, type EachBatchPayload } from 'kafkajs';
import type { MasterKeyring } from '../../base/crypto/master-keys';
import type { Logger } from '../../base/logger';
import { pause } from '../../base/pause';
import { UNAUTHENTICATED_SERVICE } from '../audit-events/event.index';
import type { EventStore } from '../audit-events/event.store';
import type { RedactionSource } from '../redaction/redaction.watcher';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { BulkPipeline, type PipelineOptions } from './bulk.pipeline';
import type { EventWindow } from './event-window';
import { MessageRouter } from './kafka.record';
import { DEFAULT_MAX_RECORD_BYTES } from './log-record';
import { DEFAULT_EVENT_WINDOW, RecordEncoder } from './record.encoder';

type Service = Pick<ServiceRecord, 'id' | 'projectId' | 'organizationId'>;

export interface KafkaSourceOptions extends PipelineOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  /** Names this process in the group (and in the broker's logs). */
  clientId?: string;
  /** How long a service lookup (found or not) is trusted; default 60 s. */
  serviceCacheMs?: number;
  maxRecordBytes?: number;
  window?: EventWindow;
  now?: () => number;
  /** Group timings (kafkajs consumer options); the defaults suit a group of ingesters on one network. */
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** Pause before a consumer kafkajs gave up on is replaced; default 2 s. */
  restartDelayMs?: number;
}

/** What the Kafka source reports besides the pipeline's counts (metrics). */
export interface KafkaRecorder {
  /** an acknowledged batch's offset committed, or refused (its partition had moved to another member) */
  committed(ok: boolean): void;
  /** a consumer replaced (kafkajs gave up on it, or a batch could not be indexed) */
  consumerRestarted(): void;
  /** the partitions this member holds after a rebalance */
  partitionsAssigned(n: number): void;
}

const NO_KAFKA_RECORDER: KafkaRecorder = { committed() {}, consumerRestarted() {}, partitionsAssigned() {} };

/** What the source needs from the rest of the gateway. */
export interface KafkaSourceDeps {
  store: EventStore;
  logger: Logger;
  keys: MasterKeyring;
  /** A service by id (operator lookup: the message's signature, not a caller, says it may write there), or null. */
  service(id: string): Promise<Service | null>;
  /** The service's redaction rules as they change (one source per service, made on its first message). */
  redaction(serviceId: string): RedactionSource;
  kafkaRecorder?: KafkaRecorder;
}

/** The bulk pipeline failed (OpenSearch unavailable past its retries): the consumer must start again from the commits. */
class PipelineFailed extends Error {
  constructor(cause: unknown) { super(`indexing failed: ${(cause as Error)?.message ?? String(cause)}`, { cause }); }
}

/** A point in the stream: every message of `partition` before `offset` is acknowledged. */
interface Mark { partition: number; offset: number }

export class KafkaSource {
  private readonly encoders = new Map<string, RecordEncoder>();
  private readonly redactions = new Map<string, RedactionSource>();
  private readonly services = new Map<string, { service: Service | null; until: number }>();
  private consumer: Consumer | null = null;
  private pipeline: BulkPipeline<Mark>;
  /** Ends the running consumer's life with an error (kafkajs giving up, or a batch that could not be indexed). */
  private fail: (err: Error) => void = () => undefined;

  private readonly router: MessageRouter;

  constructor(private readonly deps: KafkaSourceDeps, private readonly opts: KafkaSourceOptions) {
    this.pipeline = this.newPipeline();
    this.router = new MessageRouter(deps.keys, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  }

  /** Consumes until `signal` aborts, then stops fetching, waits for what was read to be acknowledged and committed, and leaves the group. */
  async run(signal: AbortSignal): Promise<void> {
    const kafka = new Kafka({ clientId: this.opts.clientId ?? 'pg-audit-gateway-ingest', brokers: this.opts.brokers, logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 5000 } });
    while (!signal.aborted) {
      const crashed = await this.runConsumer(kafka, signal);
      if (!crashed || signal.aborted) break;
      this.deps.logger.warn('kafka consumer stopped; starting a new one', { error: crashed.message });
      this.kafkaRecorder.consumerRestarted();
      await pause(this.opts.restartDelayMs ?? 2000, signal);
    }
  }

  /** One consumer's life: resolves when the signal aborts (null) or kafkajs gives up on it (the error). */
  private async runConsumer(kafka: Kafka, signal: AbortSignal): Promise<Error | null> {
    const consumer = this.consumer = kafka.consumer({ groupId: this.opts.groupId, maxWaitTimeInMs: 500,
      sessionTimeout: this.opts.sessionTimeout ?? 10_000, heartbeatInterval: this.opts.heartbeatInterval ?? 1000 });
    const crashed = new Promise<Error>((resolve) => { this.fail = resolve; });
    consumer.on(consumer.events.CRASH, (e) => { if (!e.payload.restart) this.fail(e.payload.error); });
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.kafkaRecorder.partitionsAssigned(e.payload.memberAssignment[this.opts.topic]?.length ?? 0));
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<null>((resolve) => { onAbort = () => resolve(null); if (signal.aborted) resolve(null); });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.batch(payload) });
      const outcome = await Promise.race([crashed, aborted]);
      if (outcome === null) await consumer.stop().catch(() => undefined);   // no further fetch; the batch in hand finishes
      await this.settle(outcome === null);
      return outcome;
    } catch (err) {
      await this.settle(false);
      return err as Error;
    } finally {
      signal.removeEventListener('abort', onAbort);   // a consumer's life ends; the process's signal lives on
      await consumer.disconnect().catch(() => undefined);
      this.consumer = null;
    }
  }

  /**
   * One fetched batch of one partition: each message to its service's encoder, the partition's mark moved past it;
   * then what was added is sent (a batch is not held back waiting for more messages). When the pipeline fails
   * (OpenSearch unavailable past its retries), the consumer is ended: a new one reads again from the committed
   * offsets with a new pipeline, so nothing unacknowledged is ever skipped.
   */
  private async batch(payload: EachBatchPayload): Promise<void> {
    try {
      await this.messages(payload);
    } catch (err) {
      // kafkajs's own errors (a rebalance signalled by heartbeat, a stale batch) are kafkajs's to handle: it rejoins
      // and fetches again. Only a pipeline that could not index ends this consumer.
      if (err instanceof PipelineFailed) this.fail(err.cause as Error);
      throw err;
    }
  }

  /** A pipeline call whose failure ends the consumer (batch above). */
  private async indexed(call: () => Promise<void> | undefined): Promise<void> {
    try {
      await call();
    } catch (err) {
      throw new PipelineFailed(err);
    }
  }

  private async messages({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      const offset = Number(message.offset);
      this.opts.recorder?.bytesRead(message.value?.length ?? 0);
      const claim = message.key?.toString('utf8') ?? '';
      const service = claim !== '' && claim.length <= 128 ? await this.service(claim) : null;
      const routed = this.router.route(message, offset, () => service !== null);
      if (routed.kind === 'record') {
        const encoder = await this.encoder(service!, partition);
        encoder.encode(routed.item, this.pipeline.current, offset);
      } else {
        const encoder = await this.encoder({ id: UNAUTHENTICATED_SERVICE, projectId: '', organizationId: '' }, partition);
        encoder.deadLetter(this.pipeline.current, offset, 'unauthenticated_source', routed.reason, routed.excerpt);
      }
      await this.indexed(() => this.pipeline.added({ partition, offset: offset + 1 }));
      resolveOffset(message.offset);   // fetching moves on; committing waits for the acknowledgement
      await heartbeat();
    }
    await this.indexed(() => this.pipeline.flush());
  }

  /** The encoder of (service, partition), its redaction rules refreshed for this batch. */
  private async encoder(service: Service, partition: number): Promise<RecordEncoder> {
    const key = `${service.id}\u0000${partition}`;
    let encoder = this.encoders.get(key);
    if (!encoder) {
      encoder = new RecordEncoder(service, `kafka:${this.opts.topic}:${partition}`, this.opts.window ?? DEFAULT_EVENT_WINDOW, this.opts.now ?? Date.now);
      this.encoders.set(key, encoder);
    }
    if (service.id !== UNAUTHENTICATED_SERVICE) {
      let redaction = this.redactions.get(service.id);
      if (!redaction) { redaction = this.deps.redaction(service.id); this.redactions.set(service.id, redaction); }
      encoder.redactor = await redaction.current();
    }
    return encoder;
  }

  /** A service by id, remembered (found or not) for serviceCacheMs. */
  private async service(id: string): Promise<Service | null> {
    const now = Date.now();
    const cached = this.services.get(id);
    if (cached && cached.until > now) return cached.service;
    const service = await this.deps.service(id);
    if (this.services.size >= 100_000) this.services.clear();   // bounded: a flood of made-up ids costs lookups, not memory
    this.services.set(id, { service, until: now + (this.opts.serviceCacheMs ?? 60_000) });
    return service;
  }

  /** After the consumer: acknowledged batches committed (on a clean stop), and a fresh pipeline for the next consumer. */
  private async settle(clean: boolean): Promise<void> {
    try {
      if (clean) await this.pipeline.drain();
    } catch (err) {
      this.deps.logger.warn('kafka ingest stopped before its last batch was indexed', { error: (err as Error).message });
    }
    await this.pipeline.settle();
    this.pipeline = this.newPipeline();
  }

  private get kafkaRecorder(): KafkaRecorder { return this.deps.kafkaRecorder ?? NO_KAFKA_RECORDER; }

  private newPipeline(): BulkPipeline<Mark> {
    return new BulkPipeline<Mark>(this.deps.store, this.deps.logger, async (mark) => {
      // a partition handed to another member meanwhile refuses the commit: its new owner reads again from the
      // last committed offset, and the ids make that harmless
      const consumer = this.consumer;
      if (!consumer) return;
      await consumer.commitOffsets([{ topic: this.opts.topic, partition: mark.partition, offset: String(mark.offset) }])
        .then(() => this.kafkaRecorder.committed(true), (err: Error) => {
          this.kafkaRecorder.committed(false);
          this.deps.logger.info('kafka offset not committed', { partition: mark.partition, error: err.message });
        });
    }, this.opts, { source: `kafka:${this.opts.topic}` });
  }
}
