/**
 * csvlog: PostgreSQL's CSV, one record per row; a row spans several physical lines when a quoted field
 * holds newlines. Rows are found by quote parity, so text inside a quoted field (a statement that
 * contains something looking like a log line) can never start a row. 23 columns (PG 9.0-12), 24 (PG13),
 * 26 (PG14+) or more (later versions) are accepted. Framing: rows are buffered in a ByteQueue and their
 * columns found by csv-scan.ts; the rest of this file is the row -> LogRecord mapping.
 */
import { ByteQueue, toBytes } from '../framing/byte-queue';
import { column, CsvColumns, newCsvColumns, scanCsvRow } from '../framing/csv-scan';
import {
  emptyToNull, EXCERPT_BYTES, LogItem, LogSplitter, malformed, optionsOf, recordItem, SESSION_ID, SplitterOptions,
} from '../log-record';
import { isDigit, newTimestampCache, parsePgTimestamp } from '../pg-timestamp';

export type CsvlogRow = LogItem;

/** csvlog columns (PostgreSQL 14+ order; older versions stop after application_name or backend_type). */
export const CSVLOG_COLUMNS = ['log_time', 'user_name', 'database_name', 'process_id', 'connection_from',
  'session_id', 'session_line_num', 'command_tag', 'session_start_time', 'virtual_transaction_id',
  'transaction_id', 'error_severity', 'sql_state_code', 'message', 'detail', 'hint', 'internal_query',
  'internal_query_pos', 'context', 'query', 'query_pos', 'location', 'application_name', 'backend_type',
  'leader_pid', 'query_id'] as const;
const CSV_MIN_COLUMNS = 23;
const LINE_START_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

/**
 * PostgreSQL builds each csvlog row in one StringInfo, which cannot exceed MaxAllocSize (1 GiB - 1), so
 * no real row is longer than this. A "row" that is still open after this many bytes means the stream is
 * out of sync (a corrupt or stray quote, a resume at a wrong offset).
 */
export const CSVLOG_MAX_REAL_ROW_BYTES = 1024 * 1024 * 1024;

export interface CsvlogOptions extends SplitterOptions {
  /** Bytes after which an unterminated row is taken as desynchronisation. Default CSVLOG_MAX_REAL_ROW_BYTES; lower only in tests. */
  resyncAfterBytes?: number;
}

/**
 * Incremental csvlog reader. Rows are delimited by quote parity only, never by guessing, so nothing
 * inside a quoted field (however long) can ever be taken for a row: a row longer than maxRecordBytes is
 * scanned to its real end without being buffered and reported as one malformed item. Only when a row
 * stays open for longer than any real row can be (1 GiB: the stream is out of sync) does it skip to the
 * next physical line that starts with a timestamp, reporting the skipped bytes as one malformed item.
 * (Resynchronising any earlier would let a client forge rows: a statement of 33 MiB holding lines that
 * look like csvlog rows would have them parsed as real ones.)
 */
export class CsvlogSplitter implements LogSplitter {
  private readonly q = new ByteQueue();
  private offset: number; // absolute offset of q's first byte
  private scanPos = 0;
  private inQuotes = false;
  /** Inside a row longer than max: scanning on with parity, bytes dropped as they are scanned. */
  private oversize: { excerpt: string; inQ: boolean; bytes: number } | null = null;
  /** Out of sync: dropping lines until one starts with a timestamp. */
  private resyncing: { excerpt: string } | null = null;
  private ended = false;
  private readonly max: number;
  private readonly resyncAfter: number;
  private readonly rows: CsvlogRowParser;

  constructor(options?: CsvlogOptions) {
    const o = optionsOf(options);
    this.offset = o.startOffset;
    this.max = o.maxRecordBytes;
    this.resyncAfter = options?.resyncAfterBytes ?? CSVLOG_MAX_REAL_ROW_BYTES;
    if (!Number.isSafeInteger(this.resyncAfter) || this.resyncAfter <= this.max) throw new RangeError('resyncAfterBytes must be an integer above maxRecordBytes');
    this.rows = new CsvlogRowParser(o.zones);
  }

  push(chunk: string | Uint8Array): CsvlogRow[] {
    if (this.ended) throw new Error('CsvlogSplitter: push() after end()');
    this.q.append(toBytes(chunk));
    return this.drain(false);
  }

  end(): CsvlogRow[] {
    if (this.ended) return [];
    const out = this.drain(true);
    this.ended = true;
    return out;
  }

  private take(n: number): void {
    this.q.drop(n);
    this.offset += n;
    this.scanPos = 0;
    this.inQuotes = false;
  }

  /**
   * Fast path: the rows at the start of `view` that are one whole line each (most are), parsed without a
   * byte-by-byte quote scan. Returns the number of bytes they took (to be dropped by the caller); it
   * stops at the first row it cannot vouch for, which drain's scan then handles as it always has.
   */
  private wholeLineRows(view: Buffer, out: CsvlogRow[]): number {
    let pos = 0;
    for (;;) {
      const nl = view.indexOf(0x0a, pos);
      if (nl === -1 || nl - pos > this.max) return pos;
      const text = this.q.text(pos, nl > pos && view[nl - 1] === 0x0d ? nl - 1 : nl);
      // A row that scans as valid CSV holds an even number of quotes, so this first newline is outside
      // quotes and ends the row, just as drain's scan would find. Anything else (a newline inside a
      // quoted field, a malformed row) is left to that scan.
      if (scanCsvRow(text, this.rows.columns) !== null) return pos;
      pos = nl + 1;
      if (text.length > 0) out.push(this.rows.scanned(text, this.offset + pos));
    }
  }

  private drain(final: boolean): CsvlogRow[] {
    const out: CsvlogRow[] = [];
    for (;;) {
      let view = this.q.view();
      let len = view.length;

      if (this.resyncing) {
        // Drop whole lines until one starts with a timestamp (decided on its first 19 bytes).
        const nl = view.indexOf(0x0a, this.scanPos);
        if (nl === -1) {
          this.take(len);
          if (final) {
            out.push(malformed('csvlog: unterminated quoted field (stream out of sync?); skipped to the end of the stream', this.resyncing.excerpt, this.offset));
            this.resyncing = null;
          }
          return out;
        }
        const lineStart = nl + 1;
        const probe = view.subarray(lineStart, Math.min(len, lineStart + 19));
        if (probe.length < 19 && probe.indexOf(0x0a) === -1 && !final) {
          this.take(nl); // keep the newline: wait for enough of the next line to decide
          return out;
        }
        const resync = LINE_START_TIMESTAMP.test(probe.toString('latin1'));
        this.take(lineStart);
        if (resync) {
          out.push(malformed(`csvlog: row open for over ${this.resyncAfter} bytes (stream out of sync?); skipped to the next line that starts with a timestamp`, this.resyncing.excerpt, this.offset));
          this.resyncing = null;
        }
        continue;
      }

      if (this.oversize) {
        const o = this.oversize;
        const limit = Math.min(len, this.resyncAfter - o.bytes);
        let inQ = o.inQ;
        let i = 0;
        for (; i < limit; i++) {
          const c = view[i];
          if (c === 0x22) inQ = !inQ;
          else if (c === 0x0a && !inQ) break;
        }
        if (i < limit) {
          this.take(i + 1);
          this.oversize = null;
          out.push(malformed(`csvlog: row longer than ${this.max} bytes`, o.excerpt, this.offset, 'record_too_large'));
          continue;
        }
        this.take(i);
        o.bytes += i;
        o.inQ = inQ;
        if (o.bytes >= this.resyncAfter) {
          this.oversize = null;
          this.resyncing = { excerpt: o.excerpt };
          continue;
        }
        if (final) {
          this.oversize = null;
          out.push(malformed(inQ ? 'csvlog: unterminated quoted field at the end of the stream' : `csvlog: row longer than ${this.max} bytes`, o.excerpt, this.offset,
            inQ ? 'malformed' : 'record_too_large'));
        }
        return out;
      }

      // Whole-line rows first (see wholeLineRows); the scan below takes the row it stopped at, if any.
      if (this.scanPos === 0) {
        const n = this.wholeLineRows(view, out);
        if (n > 0) {
          this.take(n);
          view = this.q.view();
          len = view.length;
        }
      }

      // Find the end of the row: a newline outside quotes, within max bytes.
      let i = this.scanPos;
      let inQ = this.inQuotes;
      const limit = Math.min(len, this.max + 1);
      for (; i < limit; i++) {
        const c = view[i];
        if (c === 0x22) inQ = !inQ;
        else if (c === 0x0a && !inQ) break;
      }
      if (i < limit) {
        const textEnd = i > 0 && view[i - 1] === 0x0d ? i - 1 : i;
        const text = this.q.text(0, textEnd);
        this.take(i + 1);
        if (text.length > 0) out.push(this.rows.row(text, this.offset));
        continue;
      }
      if (i > this.max) {
        this.oversize = { excerpt: this.q.text(0, Math.min(i, EXCERPT_BYTES)), inQ, bytes: i };
        this.take(i);
        continue;
      }
      this.scanPos = i;
      this.inQuotes = inQ;
      if (final && len > 0) {
        const textEnd = view[len - 1] === 0x0d && !inQ ? len - 1 : len;
        const text = this.q.text(0, textEnd);
        this.take(len);
        out.push(inQ ? malformed('csvlog: unterminated quoted field at the end of the stream', text, this.offset) : this.rows.row(text, this.offset));
      }
      return out;
    }
  }
}

/**
 * One complete csvlog row (its text without the line end) to an item. Kept from row to row for what
 * consecutive rows share (the scanned columns' buffer, repeated column values, the last connection and
 * timestamp): the splitter's rows, and a Kafka message's one record (kafka.record.ts), without a splitter.
 */
export class CsvlogRowParser {
  /** The columns of the row being parsed, reused from row to row (a row is parsed in one synchronous call). */
  readonly columns: CsvColumns = newCsvColumns();
  /**
   * The last value made of each column (by repeatedColumn). Consecutive rows mostly share user,
   * database, connection, session, severity and application, so most rows make no new string for them:
   * fewer allocations, and the strings kept do not pin the text of every row.
   */
  private readonly lastColumnValues: string[] = [];
  /** hostOfConnectionFrom's last answer: consecutive rows mostly come from the same session. */
  private lastConnectionFrom: { from: string; host: string | null; port: number | null } = { from: '', host: null, port: null };
  private readonly timestamps = newTimestampCache();

  constructor(private readonly zones?: SplitterOptions['zoneAbbreviations']) {}

  /** One complete row (without its line end) to an item. */
  row(text: string, endOffset: number): LogItem {
    const reason = scanCsvRow(text, this.columns);
    return reason === null ? this.scanned(text, endOffset) : malformed(`csvlog: ${reason}`, text, endOffset);
  }

  /** row() of a row that scanCsvRow has scanned into this.columns without error. */
  scanned(text: string, endOffset: number): LogItem {
    const cols = this.columns;
    if (cols.count < CSV_MIN_COLUMNS) return malformed(`csvlog: expected at least ${CSV_MIN_COLUMNS} columns, got ${cols.count}`, text, endOffset);
    const logTime = column(text, cols, 0);
    const timestamp = parsePgTimestamp(logTime, this.zones, this.timestamps);
    if (timestamp === null) return malformed(`csvlog: log_time is not a timestamp with a known zone: ${JSON.stringify(logTime.slice(0, 40))}`, text, endOffset);
    const pid = intOrNull(column(text, cols, 3));
    if (pid === undefined) return malformed('csvlog: process_id is not an integer', text, endOffset);
    const sessionId = this.repeatedColumn(text, cols, 5);
    if (!SESSION_ID.test(sessionId)) return malformed('csvlog: session_id is missing or not a session id', text, endOffset);
    const lineNum = intOrNull(column(text, cols, 6));
    if (lineNum === undefined || lineNum === null) return malformed('csvlog: session_line_num is not an integer', text, endOffset);
    return recordItem({
      format: 'csvlog',
      timestamp,
      user: emptyToNull(this.repeatedColumn(text, cols, 1)),
      database: emptyToNull(this.repeatedColumn(text, cols, 2)),
      pid,
      remoteHost: this.hostOfConnectionFrom(this.repeatedColumn(text, cols, 4)),
      remotePort: this.lastConnectionFrom.port,
      sessionId,
      sessionLineNum: lineNum,
      applicationName: emptyToNull(this.repeatedColumn(text, cols, 22)),
      severity: emptyToNull(this.repeatedColumn(text, cols, 11)),
      message: column(text, cols, 13),
      context: emptyToNull(column(text, cols, 18)),
      query: emptyToNull(column(text, cols, 19)),
      endOffset,
    });
  }

  /** column(text, cols, k), the same string object as for the last row when that row had the same text there. */
  private repeatedColumn(text: string, cols: CsvColumns, k: number): string {
    const last = this.lastColumnValues[k];
    const start = cols.start[k]!;
    if (last !== undefined && !cols.escaped[k] && last.length === cols.end[k]! - start && text.startsWith(last, start)) return last;
    const value = column(text, cols, k);
    this.lastColumnValues[k] = value;
    return value;
  }

  /** csvlog connection_from is `host:port` over TCP (IPv6 too: `::1:5432`) and `[local]` on a Unix socket. */
  private hostOfConnectionFrom(v: string): string | null {
    if (v === '') { this.lastConnectionFrom = { from: v, host: null, port: null }; return null; }
    // Consecutive rows mostly come from the same session, so remember the last answer (a pure function).
    if (v === this.lastConnectionFrom.from) return this.lastConnectionFrom.host;
    const m = CONNECTION_FROM.exec(v);
    this.lastConnectionFrom = { from: v, host: m ? m[1]! : v, port: m ? Number(m[2]) : null };
    return this.lastConnectionFrom.host;
  }
}

const CONNECTION_FROM = /^(.+):(\d{1,5})$/;

function intOrNull(v: string): number | null | undefined {
  if (v === '') return null;
  return isIntegerText(v) ? Number(v) : undefined; // undefined: not an integer
}

/** As /^-?\d{1,19}$/.test(v), without a regex. */
function isIntegerText(v: string): boolean {
  const from = v.charCodeAt(0) === 0x2d /* - */ ? 1 : 0;
  const digits = v.length - from;
  if (digits < 1 || digits > 19) return false;
  for (let i = from; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}
