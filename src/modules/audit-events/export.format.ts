/**
 * How an export writes events: NDJSON (one whole event per line) or CSV (RFC 4180 through csv-stringify: CRLF
 * records, a header row, one column per AuditEvent field). Pure: pages of documents in, text out.
 * CSV cells a spreadsheet would run as a formula (starting with = + - @ TAB or CR, OWASP "CSV injection")
 * are neutralised with a leading single quote.
 */
import { stringify } from 'csv-stringify/sync';
import type { AuditEvent, AuditEventDocument } from './event.document';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = typeof EXPORT_FORMATS[number];

export const EXPORT_CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
} as const satisfies Record<ExportFormat, string>;

/**
 * The one table of exported fields, in column order: every field of the event (a field added to AuditEvent
 * fails to compile until it has a row here). NDJSON lines carry the same fields in the same order.
 */
const COLUMN_ORDER = {
  id: 0, timestamp: 1, serviceId: 2, auditType: 3, statementId: 4, substatementId: 5, class: 6, command: 7, objectType: 8,
  objectName: 9, statement: 10, statementStatus: 11, parameters: 12, rows: 13, user: 14, database: 15, sessionId: 16,
  sessionLineNum: 17, applicationName: 18, remoteHost: 19, redaction: 20,
} as const satisfies Record<keyof AuditEvent, number>;

export const EXPORT_COLUMNS = (Object.keys(COLUMN_ORDER) as (keyof AuditEvent)[]).sort((a, b) => COLUMN_ORDER[a] - COLUMN_ORDER[b]);

/** The event as exported: the AuditEvent fields of a stored document, whole (nothing cut), in column order. */
export function exportedEvent(doc: AuditEventDocument): Record<keyof AuditEvent, unknown> {
  const out = {} as Record<keyof AuditEvent, unknown>;
  for (const c of EXPORT_COLUMNS) out[c] = doc[c] ?? null;
  return out;
}

/** Characters that make a spreadsheet read a cell as a formula when they open it (OWASP CSV injection). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

/** A cell as it is written: text starting with a formula character gets a leading `'`; anything else as it is. */
export function neutraliseCell(text: string): string {
  return text.length > 0 && FORMULA_START.has(text[0]!) ? `'${text}` : text;
}

/** One CSV cell: null empty, numbers as digits, parameters as a JSON array text, text neutralised. */
export function csvCell(column: keyof AuditEvent, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  if (column === 'parameters' || typeof value !== 'string') return neutraliseCell(JSON.stringify(value));
  return neutraliseCell(value);
}

const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

export function csvHeader(): string {
  return stringify([EXPORT_COLUMNS as string[]], CSV_OPTIONS);
}

/** A page of events as CSV records (CRLF after each). */
export function csvRecords(docs: readonly AuditEventDocument[]): string {
  return stringify(docs.map((d) => EXPORT_COLUMNS.map((c) => csvCell(c, d[c]))), CSV_OPTIONS);
}

/** A page of events as NDJSON lines (LF after each). */
export function ndjsonLines(docs: readonly AuditEventDocument[]): string {
  let out = '';
  for (const d of docs) out += JSON.stringify(exportedEvent(d)) + '\n';
  return out;
}

/**
 * How an export ended, as the last NDJSON line (`{"@export": {...}}`; no event has that key) and, for both
 * formats, as HTTP trailers. `complete`: every event was written. `partial`: a bound of one request was
 * reached (EXPORT_MAX_EVENTS, EXPORT_MAX_SECONDS, or the request's `limit`): continue with `resume`.
 * `error`: the export stopped (`code`): continue with `resume`, which is after the last event written.
 */
export interface ExportEnd {
  status: 'complete' | 'partial' | 'error';
  events: number;
  resume: string | null;
  code?: string;
  message?: string;
}

export function ndjsonEnd(end: ExportEnd): string {
  return JSON.stringify({ '@export': end }) + '\n';
}
