/**
 * The shared mode of the raw-index source: a log integration writes many services into one index pattern (all
 * services integrated with one OpenSearch into `logs-YYYY.MM.DD`), told apart by each document's `HOSTNAME`. One
 * process reads the pattern once (the reader of raw-index.source.ts: pages, pieces, checkpoint) and routes each
 * document by the pattern's host mapping (`ingest_raw_host`, admin raw-host):
 * - a mapped host's document goes to its service's encoder: that service's tenant and redaction rules, and the
 *   same source name (`raw:<pattern>`) and so the same ids as the one-service mode: read again, in either mode,
 *   it is stored once;
 * - a document whose host is mapped to no service (or that has none) is a dead letter of no tenant
 *   (`unauthenticated_source`, serviceId UNAUTHENTICATED_SERVICE) naming its host and where it is, never its
 *   MESSAGE: it is nobody's event, and maybe a tenant's not yet mapped;
 * - the checkpoint is the pattern's (`ingest_raw_pattern_checkpoint`): one position for every host. A host mapped
 *   after its documents were read is not read back: map a service before it logs.
 * The mapping is read at the start of each pass and again between pages once it is `hostsRefreshMs` old; a pattern
 * with more than `maxHosts` mapped hosts is refused (the pass fails before reading), never cut short.
 */
import { DEFAULT_INGEST_LIMITS } from '../../base/config';
import type { Logger } from '../../base/logger';
import { UNAUTHENTICATED_SERVICE } from '../audit-events/event.index';
import type { EventStore } from '../audit-events/event.store';
import type { RedactionSource } from '../redaction/redaction.watcher';
import { IngestError, IngestErrorCode } from './ingest.errors';
import { RawHostTable } from './raw-hosts';
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
}

export interface SharedRawIndexStats extends RawIndexStats {
  /** Documents of no mapped host: dead letters of no tenant. */
  unmapped: number;
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

  /** Reads every settled document of the pattern after its checkpoint, each to its host's service (or a dead letter). */
  async runOnce(): Promise<SharedRawIndexStats> {
    const now = this.opts.now ?? Date.now;
    const refreshMs = this.opts.hostsRefreshMs ?? 30_000;
    let table = await this.table();
    let readAt = now();
    const nobody = this.reader.encoder({ id: UNAUTHENTICATED_SERVICE, projectId: '', organizationId: '' });
    // one encoder per service and pass, its rules as they are when its first document of the pass is read
    const encoders = new Map<string, RecordEncoder>();
    const pattern = this.opts.indexPattern;
    const router: RawRouter = {
      beforePage: async () => {
        if (now() - readAt < refreshMs) return;
        table = await this.table();
        readAt = now();
      },
      route: async (doc, hit) => {
        const r = table.route(doc.HOSTNAME);
        if (r.kind === 'unmapped') {
          return { encoder: nobody, refusal: {
            reason: r.host === null ? `a document of the shared raw index pattern ${pattern} has no HOSTNAME`
              : `the host of a document of the shared raw index pattern ${pattern} is mapped to no service (admin raw-host)`,
            excerpt: `HOSTNAME ${r.host === null ? '(none)' : JSON.stringify(r.host)}; document ${hit.index}/${hit.id.slice(0, 512)}` } };
        }
        let encoder = encoders.get(r.service.id);
        if (!encoder) {
          encoder = this.reader.encoder(r.service);
          encoder.redactor = await this.redaction(r.service.id).current();
          encoders.set(r.service.id, encoder);
        }
        return { encoder };
      },
    };
    const { refused, ...stats } = await this.reader.pass(this.checkpoint, router, { source: this.reader.source });
    return { ...stats, unmapped: refused, hosts: table.size };
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
