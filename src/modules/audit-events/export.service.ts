/**
 * Exports: every event of one service matching a filter, streamed page by page through an OpenSearch point
 * in time (PIT), so events that arrive meanwhile change nothing, each event written exactly once, resumable
 * exactly after the last event written. Memory is one page, whatever the size. Formatting is export.format.ts;
 * the caller (HTTP route, CLI) supplies the sink and writes the end marker.
 */
import { DEFAULT_EXPORT_LIMITS, ExportLimits } from '../../base/config';
import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { AuditEventsError, AuditEventsErrorCode, invalidArgument } from './audit-events.errors';
import type { AuditEventFilter } from './audit-events.types';
import type { AuditEventDocument } from './event.document';
import { eventQuery } from './event.query';
import { EventStore, ExportHit, PitGone } from './event.store';
import { csvHeader, csvRecords, ExportFormat, EXPORT_FORMATS, ndjsonLines } from './export.format';
import { buildExportLocate, buildExportPage, MAX_EXPORT_PAGE, positionOf } from './export.query';
import { decodeExportToken, encodeExportToken, ExportPosition, ExportState, filterHash } from './export.token';

export interface ExportRequest {
  serviceId: string;
  format: string;
  filter: AuditEventFilter;
  /** A resume token of an earlier request of this export (same service and filter). */
  resume?: string | null;
  /** With `resume`: the id of the last event the client kept; the export continues right after it (a cut connection). */
  after?: string | null;
  /** Events this request writes at most (at most maxEventsPerRequest). */
  limit?: number | null;
}

/** Where text goes: resolves when the sink can take more (backpressure). `events`: how many events `text` holds (0: a header). */
export interface ExportSink { write(text: string, events: number): Promise<void> }

export interface ExportOutcome {
  status: 'complete' | 'partial' | 'error' | 'aborted';
  /** Events written by this request. */
  written: number;
  /** Events written by the whole export so far (every request). */
  events: number;
  /** Continues exactly after the last event written; null when complete. */
  resume: string | null;
  /** Why it stopped, when `error`. */
  error?: unknown;
}

/** One export request, checked and with its first page read: nothing has been sent yet. */
export class ExportRun {
  private readonly started = Date.now();

  constructor(private readonly store: EventStore, private readonly key: Buffer, private readonly limits: ExportLimits,
    readonly format: ExportFormat, private readonly serviceId: string, private readonly filter: AuditEventFilter,
    private state: ExportState, private readonly budget: number, private readonly release: () => void) {}

  private firstPage: ExportHit[] = [];

  /** Reads the first page (before anything is sent: a store that cannot answer is refused like bad input). */
  async prime(): Promise<void> { this.firstPage = await this.page(this.requested(0)); }

  /** The token of where this request starts (sent before the body: with `after`, it resumes after any event received). */
  get startToken(): string { return encodeExportToken(this.key, this.state); }

  private get keepAlive(): string { return `${this.limits.pitKeepAliveSeconds}s`; }

  private async page(size: number): Promise<ExportHit[]> {
    for (;;) {
      if (!this.state.pit) this.state = { ...this.state, pit: await this.store.openPit(this.keepAlive) };
      try {
        return await this.store.pitSearch(buildExportPage(this.serviceId, this.filter, this.state.pit!, this.keepAlive, size, this.state.after));
      } catch (err) {
        // the PIT expired or was freed: a new one, from the same position (a total order), so nothing repeats or is skipped
        if (!(err instanceof PitGone)) throw err;
        this.state = { ...this.state, pit: null };
      }
    }
  }

  /**
   * Writes the events (the CSV header first when the export starts from the beginning), page by page, waiting
   * for the sink. Stops at the end, at a bound (partial), on an error, or when `signal` aborts (the client left):
   * every ending but `partial` frees the PIT at once. Never throws: an error is the outcome's.
   */
  async run(sink: ExportSink, signal?: AbortSignal): Promise<ExportOutcome> {
    let written = 0;
    let status: ExportOutcome['status'] = 'complete';
    let error: unknown;
    try {
      if (this.format === 'csv' && this.state.after === null && this.state.events === 0) await sink.write(csvHeader(), 0);
      let hits = this.firstPage;
      this.firstPage = [];
      for (;;) {
        if (hits.length === 0) break;
        const docs: AuditEventDocument[] = hits.map((h) => h.doc);
        await sink.write(this.format === 'csv' ? csvRecords(docs) : ndjsonLines(docs), docs.length);
        written += hits.length;
        this.state = { ...this.state, after: positionOf(hits.at(-1)!.sort), events: this.state.events + hits.length };
        if (signal?.aborted) { status = 'aborted'; break; }
        const size = Math.min(this.limits.pageSize, this.budget - written);
        if (hits.length < this.requested(written - hits.length)) break;   // a short page: the last
        if (size <= 0 || Date.now() - this.started >= this.limits.maxSeconds * 1000) { status = 'partial'; break; }
        hits = await this.page(size);
        if (signal?.aborted) { status = 'aborted'; break; }
      }
    } catch (err) {
      status = 'error';
      error = err;
    } finally {
      this.release();
    }
    if (status !== 'partial' && this.state.pit) {
      await this.store.closePit(this.state.pit).catch(() => undefined);   // it expires on its own anyway
      this.state = { ...this.state, pit: null };
    }
    return { status, written, events: this.state.events, resume: status === 'complete' ? null : encodeExportToken(this.key, this.state), error };
  }

  /** The size of the page read when `before` events had been written (short page: nothing more to read). */
  private requested(before: number): number { return Math.min(this.limits.pageSize, this.budget - before); }
}

/** `format` as an ExportFormat, or INVALID_ARGUMENT (`format`): the route checks it before it charges an export, as GraphQL checks an enum. */
export function exportFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw invalidArgument(`format must be ${EXPORT_FORMATS.join(' or ')}`, 'format');
  return format as ExportFormat;
}

export class ExportService {
  private readonly running = new Map<string, number>();

  constructor(private readonly tenancy: TenancyService, private readonly store: EventStore | null, private readonly key: Buffer,
    readonly limits: ExportLimits = DEFAULT_EXPORT_LIMITS) {
    if (limits.pageSize < 1 || limits.pageSize > MAX_EXPORT_PAGE) throw new Error(`export page size must be 1 to ${MAX_EXPORT_PAGE}`);
  }

  /**
   * An export for a caller: the service must be visible to its project (tenancy; another tenant's is
   * SERVICE_NOT_FOUND), at most maxConcurrentPerToken at once (EXPORT_BUSY). Everything that can be refused is
   * refused here, before anything is sent; the first page is read too, so a store that cannot answer is refused
   * as well. The caller must `run` the result (which releases the slot).
   */
  async start(principal: Principal, req: ExportRequest): Promise<ExportRun> {
    const serviceId = await this.tenancy.visibleServiceId(principal, req.serviceId);
    return this.open(serviceId, req, principal.tokenId);
  }

  /** An export for the operator (CLI): `serviceId` is trusted (the caller checked it exists); no concurrency slot. */
  async startForService(serviceId: string, req: ExportRequest): Promise<ExportRun> {
    return this.open(serviceId, req, null);
  }

  private async open(serviceId: string, req: ExportRequest, slot: string | null): Promise<ExportRun> {
    const store = this.store;
    if (!store) throw new AuditEventsError(AuditEventsErrorCode.STORE_NOT_CONFIGURED, 'audit event export is not configured (OPENSEARCH_URL)');
    const format = exportFormat(req.format);
    eventQuery(serviceId, req.filter);   // the filter's bounds, as auditEvents checks them
    const max = this.limits.maxEventsPerRequest;
    if (req.limit !== undefined && req.limit !== null && (!Number.isInteger(req.limit) || req.limit < 1 || req.limit > max)) {
      throw invalidArgument(`limit must be 1 to ${max}`, 'limit');
    }
    if (req.after && !req.resume) throw invalidArgument('after needs resume: the token of the export the event came from', 'after');
    const hash = filterHash(req.filter);
    let state: ExportState = req.resume ? decodeExportToken(this.key, req.resume, serviceId, hash)
      : { serviceId, filter: hash, pit: null, after: null, events: 0 };
    if (slot) {
      const n = this.running.get(slot) ?? 0;
      if (n >= this.limits.maxConcurrentPerToken) {
        throw new AuditEventsError(AuditEventsErrorCode.EXPORT_BUSY, `this token already runs ${n} exports (at most ${this.limits.maxConcurrentPerToken} at once)`,
          { limit: String(this.limits.maxConcurrentPerToken) });
      }
      this.running.set(slot, n + 1);
    }
    let released = false;
    const release = () => {
      if (released || !slot) return;
      released = true;
      const n = (this.running.get(slot) ?? 1) - 1;
      if (n <= 0) this.running.delete(slot); else this.running.set(slot, n);
    };
    const keepAlive = `${this.limits.pitKeepAliveSeconds}s`;
    try {
      const budget = req.limit ?? max;
      if (req.after) state = { ...state, ...await this.locate(store, serviceId, req.filter, state, req.after, keepAlive) };
      const run = new ExportRun(store, this.key, this.limits, format, serviceId, req.filter, state, budget, release);
      await run.prime();
      return run;
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The position of the event `id` in the export (its PIT, or a new one when it is gone): INVALID_ARGUMENT `after` when the export has no such event. */
  private async locate(store: EventStore, serviceId: string, filter: AuditEventFilter, state: ExportState, id: string, keepAlive: string)
    : Promise<{ pit: string; after: ExportPosition }> {
    let pit = state.pit;
    for (let attempt = 0; attempt < 2; attempt++) {
      pit ??= await store.openPit(keepAlive);
      try {
        const [hit] = await store.pitSearch(buildExportLocate(serviceId, filter, pit, keepAlive, id));
        if (!hit) break;
        return { pit, after: positionOf(hit.sort) };
      } catch (err) {
        if (!(err instanceof PitGone)) throw err;
        pit = null;
      }
    }
    if (pit) await store.closePit(pit).catch(() => undefined);
    throw invalidArgument('after is not an event of this export', 'after');
  }
}
