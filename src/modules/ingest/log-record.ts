/**
 * What the splitters of PostgreSQL server log files return: one LogRecord type for every format, or a
 * malformed item, behind one interface (LogSplitter) that the ingest loop takes. Pure: no I/O. The
 * splitters take chunks (Buffers, or strings) as the caller reads them and return the records completed
 * so far; nothing here throws on input, whatever the bytes (bad input becomes a `{ ok: false }` item
 * with a reason). Each splitter is framing (framing/: bytes to rows or lines) plus a format (formats/:
 * a row or line to a record):
 *
 * - csvlog: formats/csvlog.splitter.ts (CsvlogSplitter)
 * - jsonlog (PG15+): formats/jsonlog.splitter.ts (JsonlogSplitter)
 * - stderr: formats/stderr.splitter.ts (StderrSplitter), its prefix in formats/log-line-prefix.ts
 * - managed NDJSON: formats/managed.splitter.ts (ManagedLogSplitter / managedDocumentToItem)
 *
 * This file also holds the small helpers the formats share.
 */

/** Where a LogRecord came from. `stderr` also covers managed NDJSON documents (their MESSAGE is stderr format). */
export type LogFormat = 'csvlog' | 'jsonlog' | 'stderr';

export interface LogRecord {
  format: LogFormat;
  /** ISO-8601 UTC with milliseconds, e.g. 2026-11-24T19:25:37.255Z */
  timestamp: string;
  user: string | null;
  database: string | null;
  pid: number | null;
  /** Host only: csvlog's `host:port` and %r's `host(port)` lose the port. `[local]` for Unix sockets. */
  remoteHost: string | null;
  /** The client's TCP port: csvlog's `host:port`, jsonlog remote_port, stderr %r's `host(port)`; null for Unix sockets and formats without it. */
  remotePort: number | null;
  /** csvlog session_id / jsonlog session_id / stderr %c. */
  sessionId: string | null;
  /**
   * csvlog session_line_num / jsonlog line_num (the same counter). From stderr it is %l, a DIFFERENT
   * counter: every DETAIL/HINT/CONTEXT/STATEMENT line gets its own prefix and number, so it drifts from
   * csvlog's numbering after the first such line.
   */
  sessionLineNum: number | null;
  applicationName: string | null;
  /** LOG, ERROR, ... as written (stderr: the tag before `:  `, e.g. STATEMENT for a statement line). */
  severity: string | null;
  message: string;
  /**
   * The message's CONTEXT and STATEMENT (csvlog context/query, jsonlog context/statement, stderr's
   * CONTEXT:/STATEMENT: lines). pgaudit hides both on its own messages (errhidecontext, errhidestmt), so an
   * `AUDIT: ` message that has either was written by something else — e.g. `RAISE LOG 'AUDIT: ...'`.
   */
  context: string | null;
  query: string | null;
  /** Bytes consumed through the end of this record (see LogSplitter). */
  endOffset: number;
}

/** Why an item is malformed: not a record of the format, or a record over maxRecordBytes (not buffered, not parsed). */
export type MalformedCode = 'malformed' | 'record_too_large';
/** `excerpt`: at most EXCERPT_BYTES characters of the record's start; `excerptTruncated` when the record was longer. */
export type MalformedItem = { ok: false; code: MalformedCode; reason: string; excerpt: string; excerptTruncated: boolean; endOffset: number };
export type LogItem = { ok: true; record: LogRecord; endOffset: number } | MalformedItem;

/**
 * An incremental splitter of one log stream (a file from a resume point, or a pipe) into items.
 *
 * Offsets: every item carries `endOffset`, the number of bytes of the stream (plus `startOffset`)
 * consumed through the end of that item, including its line terminator. Everything before an item's
 * endOffset has been returned by the time the item is; the caller may checkpoint it and later resume
 * with a new splitter `{ startOffset: N }` fed the file from byte N: it returns exactly the items the
 * first splitter returned after N. Offsets count the bytes as given: pass Buffers (raw file bytes);
 * a string chunk is counted as its UTF-8 encoding (so a string chunk must not end in half a surrogate pair).
 * Resume only at an endOffset this code returned: any other offset may fall inside a record.
 *
 * A record is returned only once it is complete (its newline has arrived; for stderr, once the NEXT
 * record's first line has arrived, since until then more continuation lines may follow). `end()`
 * returns what remains, including a final record without a trailing newline.
 */
export interface LogSplitter {
  /** The items completed by this chunk (and the ones before it). Throws after end(). */
  push(chunk: string | Uint8Array): LogItem[];
  /** What remains, once the stream has ended; [] when called again. */
  end(): LogItem[];
}

export interface SplitterOptions {
  /** Absolute offset of the first byte that will be pushed (a resume point). Default 0. */
  startOffset?: number;
  /**
   * A record longer than this (bytes) is skipped as one malformed item (`record_too_large`) instead of
   * being buffered. Default DEFAULT_MAX_RECORD_BYTES. Bounds memory against a corrupt or hostile file.
   */
  maxRecordBytes?: number;
  /**
   * Time zone abbreviations the server's log_timezone may print, in minutes east of UTC, e.g.
   * `{ CET: 60, CEST: 120 }`. UTC, GMT, UCT, Z and numeric forms (+03, -0330, +05:30) always work.
   * Timestamps with another abbreviation make the record malformed. Best: log_timezone = 'UTC'.
   */
  zoneAbbreviations?: Readonly<Record<string, number>>;
}

/**
 * 1 MiB: pgaudit writes a statement whole into its line, and a record is stored whole as one document
 * (a page of events reads up to 101 of them at once). The ingester's INGEST_MAX_RECORD_BYTES sets it
 * (up to MAX_RECORD_BYTES_LIMIT).
 */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
export const MAX_RECORD_BYTES_LIMIT = 32 * 1024 * 1024;
/** How much of a malformed record its item's excerpt keeps (characters). */
export const EXCERPT_BYTES = 512;

/** csvlog / jsonlog session_id (%c): process start time and pid in hex. */
export const SESSION_ID = /^[0-9a-f]{1,16}\.[0-9a-f]{1,8}$/;

/** `excerpt`: the record's text, or its start (a record over the maximum is never read whole: always `record_too_large`). */
export function malformed(reason: string, excerpt: string, endOffset: number, code: MalformedCode = 'malformed'): MalformedItem {
  return { ok: false, code, reason, excerpt: excerpt.length > EXCERPT_BYTES ? excerpt.slice(0, EXCERPT_BYTES) : excerpt,
    excerptTruncated: code === 'record_too_large' || excerpt.length > EXCERPT_BYTES, endOffset };
}

export function recordItem(record: LogRecord): LogItem {
  return { ok: true, record, endOffset: record.endOffset };
}

/** SplitterOptions with defaults, checked. */
export function optionsOf(o: SplitterOptions | undefined) {
  const startOffset = o?.startOffset ?? 0;
  const maxRecordBytes = o?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) throw new RangeError('startOffset must be a non-negative integer');
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1) throw new RangeError('maxRecordBytes must be a positive integer');
  return { startOffset, maxRecordBytes, zones: o?.zoneAbbreviations };
}

export const emptyToNull = (v: string | undefined | null): string | null => (v === undefined || v === null || v === '' ? null : v);
