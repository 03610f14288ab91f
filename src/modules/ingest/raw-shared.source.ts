/**
 * The shared mode of the raw-index source: a log integration writes many services into one index pattern (all
 * services integrated with one OpenSearch into `logs-YYYY.MM.DD`), told apart by each document's `HOSTNAME`. One
 * process reads the pattern once (the reader of raw-index.source.ts: pages, pieces, checkpoint) and routes each
 * document by the pattern's host mapping (`ingest_raw_host`, admin raw-host):
 * - a mapped host's document goes to its service's encoder: that service's tenant and redaction rules, and the
 *   same source name (`raw:<pattern>`) and so the same ids as the one-service mode: read again, in either mode,
 *   it is stored once;
 * - a document whose host is mapped to no service (or that has none) is skipped: never parsed, encoded or kept,
 *   read all the same (the checkpoint passes it). A shared integration carries the logs of every service
 *   integrated with it (Kafka, Redis, MySQL, PostgreSQL without audit logging...): nobody's audit events, and a
 *   dead letter each would copy the whole integration into the dead-letter indices. They are counted instead:
 *   `unmapped` and `unmappedHosts` in the pass's stats, the recorder (a Prometheus counter), and one warning per
 *   pass naming the 10 hosts with the most documents (never a MESSAGE): how an operator finds a service they
 *   forgot to map;
 * - the checkpoint is the pattern's (`ingest_raw_pattern_checkpoint`): one position for every host. A host mapped
 *   after its documents were read is not read back: map a service before it logs.
 * The mapping is read at the start of each pass and again between pages once it is `hostsRefreshMs` old; a pattern
 * with more than `maxHosts` mapped hosts is refused (the pass fails before reading), never cut short.
 */
import { DEFAULT_INGEST_LIMITS } from '../../base/config';
import type { Logger } from '../../base/logger';
import type { EventStore } from '../audit-events/event.store';
import type { RedactionSource } from '../redaction/redaction.watcher';
import { IngestError, IngestErrorCode } from './ingest.errors';
import { RawHostTable, UnmappedHosts } from './raw-hosts';
import type { RawCheckpoint, RawIndexRepository } from './raw-index.repository';
import { RawIndexReader, type RawIndexOptions, type RawIndexStats, type RawRouter } from './raw-index.source';
import type { RecordEncoder } from './record.encoder';

export interface SharedRawIndexOptions extends Omit<RawIndexOptions, 'redaction'> {
  /** Mapped hosts of the pattern at most (INGEST_RAW_MAX_HOSTS); default DEFAULT_INGEST_LIMITS.rawMaxHosts (10,000). */
  maxHosts?: number;
  /** Within a pass, the mapping is read again between pages once this old; default 30 s. */
  hostsRefreshMs?: number;
  now?: () => number;
}

export interface SharedRawIndexDeps {
  store: EventStore;
  logger: Logger;
  repository: Pick<RawIndexRepository, 'hosts' | 'patternCheckpoint'>;
  /** A service's redaction rules as they change (one source per service, made on its first document). */
  redaction(serviceId: string): RedactionSource;
  /** Where the skipped documents are counted (metrics); nothing is recorded without one. */
  recorder?: SharedRawRecorder;
}

/** What the shared mode records beside the pipeline's IngestRecorder. */
export interface SharedRawRecorder {
  /** documents of hosts mapped to no service (or of no HOSTNAME) a pass skipped (a re-read after a failure counts again) */
  unmapped(documents: number): void;
}

/** Hosts the once-a-pass warning names at most. */
const LOGGED_HOSTS = 10;

export interface SharedRawIndexStats extends RawIndexStats {
  /** Documents of no mapped host (or of no HOSTNAME): skipped. */
  unmapped: number;
  /** The distinct hosts they came from (no HOSTNAME counts as one; told apart up to MAX_UNMAPPED_HOSTS). */
  unmappedHosts: number;
  /** Mapped hosts of the pattern when the pass ended. */
  hosts: number;
}

export class SharedRawIndexSource {
  private readonly reader: RawIndexReader;
  private readonly checkpoint: RawCheckpoint;
  private readonly redactions = new Map<string, RedactionSource>();

  constructor(private readonly deps: SharedRawIndexDeps, private readonly opts: SharedRawIndexOptions) {
    this.reader = new RawIndexReader(deps.store, deps.logger, opts);
    this.checkpoint = deps.repository.patternCheckpoint(opts.indexPattern);
  }

  /** Reads every settled document of the pattern after its checkpoint, each to its host's service (or skipped). */
  async runOnce(): Promise<SharedRawIndexStats> {
    const now = this.opts.now ?? Date.now;
    const refreshMs = this.opts.hostsRefreshMs ?? 30_000;
    let table = await this.table();
    let readAt = now();
    const unmapped = new UnmappedHosts();
    // one encoder per service and pass, its rules as they are when its first document of the pass is read
    const encoders = new Map<string, RecordEncoder>();
    const router: RawRouter = {
      beforePage: async () => {
        if (now() - readAt < refreshMs) return;
        table = await this.table();
        readAt = now();
      },
      route: async (doc) => {
        const r = table.route(doc.HOSTNAME);
        if (r.kind === 'unmapped') {
          unmapped.add(r.host);
          return null;
        }
        let encoder = encoders.get(r.service.id);
        if (!encoder) {
          encoder = this.reader.encoder(r.service);
          encoder.redactor = await this.redaction(r.service.id).current();
          encoders.set(r.service.id, encoder);
        }
        return encoder;
      },
    };
    try {
      const stats = await this.reader.pass(this.checkpoint, router, { source: this.reader.source });
      return { ...stats, unmapped: unmapped.documents, unmappedHosts: unmapped.hosts, hosts: table.size };
    } finally {
      // what was read is counted, whether the pass ends or fails (it is read again then, and counted again)
      this.report(unmapped);
    }
  }

  /** The pass's skipped documents: counted, and one warning naming the hosts with the most (bounded; never a MESSAGE). */
  private report(unmapped: UnmappedHosts): void {
    if (unmapped.documents === 0) return;
    this.deps.recorder?.unmapped(unmapped.documents);
    const { documents, hosts, top, moreHosts, untracked } = unmapped.summary(LOGGED_HOSTS);
    this.deps.logger.warn('documents of hosts mapped to no service skipped (admin raw-host maps a service\'s host)', {
      source: this.reader.source, documents, unmappedHosts: hosts, top, moreHosts, ...(untracked > 0 ? { untracked } : {}) });
  }

  /** The pattern's mapping now; the redaction sources of services no longer in it are dropped. */
  private async table(): Promise<RawHostTable> {
    const maxHosts = this.opts.maxHosts ?? DEFAULT_INGEST_LIMITS.rawMaxHosts;
    const rows = await this.deps.repository.hosts(this.opts.indexPattern, maxHosts + 1);
    if (rows.length > maxHosts) {
      throw new IngestError(IngestErrorCode.TOO_MANY_HOSTS, `${this.opts.indexPattern} has more than ${maxHosts} mapped hosts (INGEST_RAW_MAX_HOSTS): nothing read`);
    }
    const services = new Set(rows.map((r) => r.service.id));
    for (const id of this.redactions.keys()) if (!services.has(id)) this.redactions.delete(id);
    return new RawHostTable(rows);
  }

  private redaction(serviceId: string): RedactionSource {
    let source = this.redactions.get(serviceId);
    if (!source) { source = this.deps.redaction(serviceId); this.redactions.set(serviceId, source); }
    return source;
  }
}
