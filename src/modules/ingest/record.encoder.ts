/**
 * One service's log items as documents of a batch (bulk.pipeline.ts): an audit line becomes an audit event, a
 * login, failed login or logout a session event (session-event.ts), anything malformed, outside the event window
 * (event-window.ts) or rejected a dead letter; every other line nothing. Each event is redacted under the service's
 * rules (`redactor`, as last read by the source) and stamped with the tenant of the service it is encoded for and
 * `ingestedAt` (the encoder's clock: the live tail's order). Dead letters are bounded (DEAD_LETTER_EXCERPT_BYTES of
 * the line, flagged when cut; the reason cut too) and go to the index of the ingester's own day. Pure but for the clock.
 */
import { cutUtf8 } from '../audit-events/text-cut';
import {
  DEAD_LETTER_EXCERPT_BYTES, DEAD_LETTER_REASON_BYTES, DeadLetterCode, DeadLetterDocument, deadLetterBulkOp, eventBulkOp,
} from '../audit-events/event.index';
import { sessionBulkOp } from '../audit-events/session.index';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { NO_REDACTOR, type Redactor } from '../redaction/redactor';
import { auditEventOf, positionEventId } from './audit-event';
import type { Batch } from './bulk.pipeline';
import { DEFAULT_MAX_FUTURE_SKEW_MS, EventWindow, outsideWindow } from './event-window';
import type { LogItem } from './log-record';
import { sessionEventOf } from './session-event';

/** The window without configuration: EVENT_RETENTION_DAYS's default and INGEST_MAX_FUTURE_SKEW_MS's. */
export const DEFAULT_EVENT_WINDOW: EventWindow = { retentionDays: 30, maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS };

export class RecordEncoder {
  /** The service's redaction rules in force for what is encoded next (the source refreshes them). */
  redactor: Redactor = NO_REDACTOR;
  private readonly tenant: { projectId: string; organizationId: string };
  private stamp = { ms: Number.NaN, iso: '' };

  constructor(
    private readonly service: Pick<ServiceRecord, 'id' | 'projectId' | 'organizationId'>,
    /** Names what is read (`file:<name>@<identity>`, `stream:<name>`, ...): position ids and dead letters are per source. */
    private readonly source: string,
    private readonly window: EventWindow = DEFAULT_EVENT_WINDOW,
    /** The ingester's clock (ms since the epoch): the window's `now`, `ingestedAt` and dead letters' `seenAt`. */
    private readonly clock: () => number = Date.now,
  ) {
    this.tenant = { projectId: service.projectId, organizationId: service.organizationId };
  }

  /** Adds what `item` becomes to `batch`; `position` is where the item ends in the source (its dead letter's and position id's). */
  encode(item: LogItem, batch: Batch, position = item.endOffset): void {
    if (!item.ok) { this.deadLetter(batch, position, item.code, item.reason, item.excerpt, item.excerptTruncated); return; }
    const x = auditEventOf(this.service.id, item.record, this.source);
    if (x.kind === 'event') {
      const outside = outsideWindow(x.event.timestamp, this.clock(), this.window);
      if (outside !== null) { this.deadLetter(batch, position, 'timestamp_out_of_window', outside, item.record.message); return; }
      // the event is this encoder's own, fresh object: it is redacted and becomes the document in place
      this.redactor.event(x.event);
      batch.body.add(eventBulkOp(Object.assign(x.event, this.tenant), this.ingestedAt()));
      batch.event(x.event.timestamp);
      return;
    }
    if (x.kind === 'rejected') { this.deadLetter(batch, position, x.code, x.reason, item.record.message); return; }
    // not an audit line: a login, failed login or logout is a session event (session-event.ts), same rules
    const s = sessionEventOf(this.service.id, item.record, this.source);
    if (s.kind === 'event') {
      const outside = outsideWindow(s.event.timestamp, this.clock(), this.window);
      if (outside !== null) { this.deadLetter(batch, position, 'timestamp_out_of_window', outside, item.record.message); return; }
      batch.body.add(sessionBulkOp(Object.assign(s.event, this.tenant)));
      batch.sessionEvent();
    } else if (s.kind === 'rejected') this.deadLetter(batch, position, s.code, s.reason, item.record.message);
  }

  /** Adds a dead letter of this source to `batch` (what `encode` does with what it cannot index; a source's own refusals too). */
  deadLetter(batch: Batch, position: number, code: DeadLetterCode, reason: string, excerpt: string, excerptTruncated = false): void {
    const redacted = this.redactor.deadLetter(code, reason, excerpt, excerptTruncated);
    batch.body.add(deadLetterBulkOp(this.deadLetterDocument(position, code, redacted.reason, redacted.excerpt, excerptTruncated)));
    batch.deadLetter(code);
  }

  private deadLetterDocument(position: number, code: DeadLetterCode, reason: string, excerpt: string, excerptTruncated: boolean): DeadLetterDocument {
    const cut = cutUtf8(excerpt, DEAD_LETTER_EXCERPT_BYTES);
    return { id: positionEventId(this.service.id, this.source, position), serviceId: this.service.id, source: this.source, endOffset: position, code,
      reason: cutUtf8(reason, DEAD_LETTER_REASON_BYTES).text, excerpt: cut.text, excerptTruncated: excerptTruncated || cut.truncated,
      seenAt: new Date(this.clock()).toISOString() };
  }

  /** ingestedAt of an event encoded now (the live tail's order): the clock, ISO text made once per millisecond. */
  private ingestedAt(): string {
    const now = this.clock();
    if (now !== this.stamp.ms) this.stamp = { ms: now, iso: new Date(now).toISOString() };
    return this.stamp.iso;
  }
}
