/**
 * Splits PostgreSQL server log files into records and normalises them to one LogRecord type.
 * Pure: no I/O. The splitters take chunks (Buffers, or strings) as the caller reads them and return the
 * records completed so far; nothing here throws on input, whatever the bytes (bad input becomes a
 * `{ ok: false }` item with a reason). Formats:
 *
 * - csvlog (CsvlogSplitter): PostgreSQL's CSV, one record per row; a row spans several physical lines
 *   when a quoted field holds newlines. Rows are found by quote parity, so text inside a quoted field
 *   (a statement that contains something looking like a log line) can never start a row. 23 columns
 *   (PG 9.0-12), 24 (PG13), 26 (PG14+) or more (later versions) are accepted.
 * - jsonlog (JsonlogSplitter, PG15+): one JSON object per line (PostgreSQL escapes newlines).
 * - stderr (StderrSplitter): `log_line_prefix` + `SEVERITY:  ` + message; a multi-line message continues
 *   on following lines, each of which PostgreSQL starts with a TAB (removed here). See compileLogLinePrefix.
 *   Lines end at LF; a CR before it is kept, since it belongs to the message (so the CRLF files of a
 *   Windows server would leave a CR at the end of each message line).
 * - managed NDJSON (ManagedLogSplitter / managedDocumentToItem): documents of a managed log integration,
 *   `{"MESSAGE": "<one raw stderr-format record>", "timestamp": ..., "HOSTNAME": ..., ...}`.
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
  /** Bytes consumed through the end of this record (see the file comment). */
  endOffset: number;
}

export type MalformedItem = { ok: false; reason: string; excerpt: string; endOffset: number };
export type LogItem = { ok: true; record: LogRecord; endOffset: number } | MalformedItem;
export type CsvlogRow = LogItem;
export type JsonlogRow = LogItem;
export type StderrRow = LogItem;

export interface SplitterOptions {
  /** Absolute offset of the first byte that will be pushed (a resume point). Default 0. */
  startOffset?: number;
  /**
   * A record longer than this (bytes) is skipped as one malformed item instead of being buffered.
   * Default 32 MiB. Bounds memory against a corrupt or hostile file.
   */
  maxRecordBytes?: number;
  /**
   * Time zone abbreviations the server's log_timezone may print, in minutes east of UTC, e.g.
   * `{ CET: 60, CEST: 120 }`. UTC, GMT, UCT, Z and numeric forms (+03, -0330, +05:30) always work.
   * Timestamps with another abbreviation make the record malformed. Best: log_timezone = 'UTC'.
   */
  zoneAbbreviations?: Readonly<Record<string, number>>;
}

export const DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024;
const EXCERPT_BYTES = 200;

// ---------------------------------------------------------------------------------------------------
// Timestamps

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([A-Za-z]{1,10}|[+-]\d{2}(?::?\d{2})?)$/;
const UTC_NAMES = new Set(['UTC', 'GMT', 'UCT', 'Z', 'UT', 'Zulu']);

/**
 * PostgreSQL's log time form (`2026-11-24 19:25:37.255 UTC`, `... 19:25:37 +03`) to ISO-8601 UTC with
 * milliseconds; null when it is not one or names an unknown zone abbreviation. Sub-millisecond digits
 * are dropped.
 */
export function parsePgTimestamp(text: string, zoneAbbreviations?: Readonly<Record<string, number>>): string | null {
  const fast = utcTimestampFast(text);
  if (fast !== undefined) return fast;
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  let offsetMinutes: number;
  if (UTC_NAMES.has(zone)) offsetMinutes = 0;
  else if (zone[0] === '+' || zone[0] === '-') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (hours > 15 || minutes > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  } else if (zoneAbbreviations && Object.prototype.hasOwnProperty.call(zoneAbbreviations, zone)
    && Number.isFinite(zoneAbbreviations[zone])) {
    offsetMinutes = zoneAbbreviations[zone]!;
  } else return null;
  return utcIso(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s),
    frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0, offsetMinutes);
}

/**
 * Fast path of parsePgTimestamp for the usual form, `YYYY-MM-DD HH:MM:SS[.f{1,6}] UTC` (any UTC_NAMES
 * zone), without a regex match or Date objects: with a zero offset and a 4-digit year, the ISO string
 * is the text's own digits rearranged (`YYYY-MM-DDTHH:MM:SS.mmmZ`, the fraction cut or zero-padded to 3
 * digits, as utcIso gives). Returns undefined for anything else, invalid dates included, so that the
 * general path decides those exactly as before.
 */
function utcTimestampFast(text: string): string | undefined {
  if (text.length < 21) return undefined;
  let p = 19; // after the seconds
  if (text.charCodeAt(p) === 0x2e /* . */) {
    p += 1;
    while (p < text.length && isDigit(text.charCodeAt(p))) p += 1;
    if (p === 20 || p > 26) return undefined; // 1 to 6 fraction digits
  }
  if (text.charCodeAt(p) !== 0x20 || !UTC_NAMES.has(text.slice(p + 1))) return undefined;
  const isoSecond = isoSecondOf(text);
  if (isoSecond === undefined) return undefined;
  const millis = p === 19 ? '000' : text.slice(20, Math.min(p, 23)).padEnd(3, '0'); // sub-millisecond digits dropped
  return isoSecond + `${millis}Z`;
}

/** The last second isoSecondOf converted: consecutive log lines mostly fall in the same second. */
let lastSecond: { text: string; iso: string } | null = null;

/**
 * `YYYY-MM-DDTHH:MM:SS.` for text starting with a valid `YYYY-MM-DD HH:MM:SS` (year 1000 or later, a
 * day that exists), else undefined.
 */
function isoSecondOf(text: string): string | undefined {
  if (lastSecond !== null && text.startsWith(lastSecond.text)) return lastSecond.iso;
  if (text.charCodeAt(4) !== 0x2d /* - */ || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x20
    || text.charCodeAt(13) !== 0x3a /* : */ || text.charCodeAt(16) !== 0x3a) return undefined;
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  if (century < 0 || yy < 0) return undefined;
  const y = century * 100 + yy;
  const mo = twoDigits(text, 5);
  const d = twoDigits(text, 8);
  const h = twoDigits(text, 11);
  const mi = twoDigits(text, 14);
  const s = twoDigits(text, 17);
  // twoDigits is -1 for a non-digit, which every range check below rejects.
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  lastSecond = { text: text.slice(0, 19), iso: `${text.slice(0, 10)}T${text.slice(11, 19)}.` };
  return lastSecond.iso;
}

function isDigit(c: number): boolean { return c >= 0x30 && c <= 0x39; }

/** The 2-digit number at `i`, or -1 when either character is not a digit. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 0x30;
  const b = text.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days in month `mo` (1-12) of year `y` in the proleptic Gregorian calendar, as Date uses. */
function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

function utcIso(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offsetMinutes: number): string | null {
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(local);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null; // 2026-02-30
  const t = local - offsetMinutes * 60_000;
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** %n: Unix epoch seconds with milliseconds (`1764012337.255`). */
function parseEpochSeconds(text: string): string | null {
  if (!/^\d{1,12}(?:\.\d{1,6})?$/.test(text)) return null;
  const ms = Math.round(Number(text) * 1000);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// ---------------------------------------------------------------------------------------------------
// A byte queue: amortised O(1) appends, views without copies.

class ByteQueue {
  private buf: Buffer = Buffer.alloc(0);
  private head = 0;
  private tail = 0;

  get length(): number { return this.tail - this.head; }

  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.tail + n > this.buf.length) {
      const live = this.tail - this.head;
      if (live + n <= this.buf.length * 0.75 && this.buf.length > 0) {
        this.buf.copy(this.buf, 0, this.head, this.tail);
      } else {
        const next = Buffer.allocUnsafe(Math.max(64 * 1024, this.buf.length * 2, live + n));
        this.buf.copy(next, 0, this.head, this.tail);
        this.buf = next;
      }
      this.head = 0;
      this.tail = live;
    }
    this.buf.set(chunk, this.tail);
    this.tail += n;
  }

  /** The live bytes; valid until the next append or drop. */
  view(): Buffer { return this.buf.subarray(this.head, this.tail); }

  text(from: number, to: number): string { return this.buf.toString('utf8', this.head + from, this.head + to); }

  drop(n: number): void {
    this.head += n;
    if (this.head >= this.tail) { this.head = 0; this.tail = 0; }
  }
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError('push() takes a string or a Buffer/Uint8Array');
}

function excerptOf(text: string): string {
  return text.length > EXCERPT_BYTES ? `${text.slice(0, EXCERPT_BYTES)}…` : text;
}

function malformed(reason: string, excerpt: string, endOffset: number): MalformedItem {
  return { ok: false, reason, excerpt: excerptOf(excerpt), endOffset };
}

function recordItem(record: LogRecord): LogItem {
  return { ok: true, record, endOffset: record.endOffset };
}

function optionsOf(o: SplitterOptions | undefined) {
  const startOffset = o?.startOffset ?? 0;
  const maxRecordBytes = o?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isSafeInteger(startOffset) || startOffset < 0) throw new RangeError('startOffset must be a non-negative integer');
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1) throw new RangeError('maxRecordBytes must be a positive integer');
  return { startOffset, maxRecordBytes, zones: o?.zoneAbbreviations };
}

const emptyToNull = (v: string | undefined | null): string | null => (v === undefined || v === null || v === '' ? null : v);

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

// ---------------------------------------------------------------------------------------------------
// csvlog

/** csvlog columns (PostgreSQL 14+ order; older versions stop after application_name or backend_type). */
export const CSVLOG_COLUMNS = ['log_time', 'user_name', 'database_name', 'process_id', 'connection_from',
  'session_id', 'session_line_num', 'command_tag', 'session_start_time', 'virtual_transaction_id',
  'transaction_id', 'error_severity', 'sql_state_code', 'message', 'detail', 'hint', 'internal_query',
  'internal_query_pos', 'context', 'query', 'query_pos', 'location', 'application_name', 'backend_type',
  'leader_pid', 'query_id'] as const;
const CSV_MIN_COLUMNS = 23;
const SESSION_ID = /^[0-9a-f]{1,16}\.[0-9a-f]{1,8}$/;
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
export class CsvlogSplitter {
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
  private readonly zones: SplitterOptions['zoneAbbreviations'];

  constructor(options?: CsvlogOptions) {
    const o = optionsOf(options);
    this.offset = o.startOffset;
    this.max = o.maxRecordBytes;
    this.resyncAfter = options?.resyncAfterBytes ?? CSVLOG_MAX_REAL_ROW_BYTES;
    if (!Number.isSafeInteger(this.resyncAfter) || this.resyncAfter <= this.max) throw new RangeError('resyncAfterBytes must be an integer above maxRecordBytes');
    this.zones = o.zones;
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
      if (scanCsvRow(text, rowColumns) !== null) return pos;
      pos = nl + 1;
      if (text.length > 0) out.push(csvRecordOf(text, rowColumns, this.offset + pos, this.zones));
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
          out.push(malformed(`csvlog: row longer than ${this.max} bytes`, o.excerpt, this.offset));
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
          out.push(malformed(inQ ? 'csvlog: unterminated quoted field at the end of the stream' : `csvlog: row longer than ${this.max} bytes`, o.excerpt, this.offset));
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
        if (text.length > 0) out.push(csvRecord(text, this.offset, this.zones));
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
        out.push(inQ ? malformed('csvlog: unterminated quoted field at the end of the stream', text, this.offset) : csvRecord(text, this.offset, this.zones));
      }
      return out;
    }
  }
}

/**
 * RFC 4180 fields of one complete csvlog row (quoted fields may hold newlines, inner quotes doubled).
 * csvlog quotes every text column, so an unquoted field with a quote in it means the row is corrupt.
 */
export function splitCsvRow(text: string): { ok: true; fields: string[] } | { ok: false; reason: string } {
  const cols = newCsvColumns();
  const reason = scanCsvRow(text, cols);
  if (reason !== null) return { ok: false, reason };
  const fields: string[] = [];
  for (let k = 0; k < cols.count; k++) fields.push(column(text, cols, k));
  return { ok: true, fields };
}

/**
 * Where the columns of one row lie in its text, as scanCsvRow finds them: column k is
 * text[start[k], end[k]) (inside the quotes when quoted), with doubled quotes in it when escaped[k].
 * Scanning records offsets only, so that csvRecord makes strings of just the columns it uses.
 */
interface CsvColumns { count: number; start: number[]; end: number[]; escaped: boolean[] }

const newCsvColumns = (): CsvColumns => ({ count: 0, start: [], end: [], escaped: [] });

/** CsvlogSplitter's columns, reused from row to row (a row is parsed in one synchronous call). */
const rowColumns = newCsvColumns();

/** Fills `cols` with the columns of `text` (linear time); returns null, or why the row is not valid CSV. */
function scanCsvRow(text: string, cols: CsvColumns): string | null {
  let count = 0;
  let i = 0;
  const n = text.length;
  // The first quote at or after i (n: none). Kept across unquoted columns, so that checking each of
  // them for a quote costs one comparison instead of a search through the column.
  let nextQuote = -1;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      // The closing quote is the first one not followed by another: `""` is an escaped quote.
      let close = i;
      let escaped = false;
      for (;;) {
        close = text.indexOf('"', close + 1);
        if (close === -1) return `unterminated quoted field in column ${count + 1}`;
        if (text.charCodeAt(close + 1) !== 0x22) break;
        escaped = true;
        close += 1;
      }
      setColumn(cols, count++, i + 1, close, escaped);
      i = close + 1;
      if (i >= n) break;
      if (text.charCodeAt(i) !== 0x2c) return `unexpected character after the closing quote of column ${count}`;
      i += 1;
    } else {
      let end = text.indexOf(',', i);
      if (end === -1) end = n;
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote === -1) nextQuote = n;
      }
      if (nextQuote < end) return `quote inside unquoted column ${count + 1}`;
      setColumn(cols, count++, i, end, false);
      if (end >= n) break;
      i = end + 1;
    }
  }
  cols.count = count;
  return null;
}

function setColumn(cols: CsvColumns, k: number, start: number, end: number, escaped: boolean): void {
  cols.start[k] = start;
  cols.end[k] = end;
  cols.escaped[k] = escaped;
}

/** Column k's value. */
function column(text: string, cols: CsvColumns, k: number): string {
  return cols.escaped[k] ? unescapeQuotes(text, cols.start[k]!, cols.end[k]!) : text.slice(cols.start[k], cols.end[k]);
}

/**
 * text[from, to) with each `""` made `"`. Every quote in that range is the first of such a pair, so
 * each piece is taken up to and including that quote, and the search goes on after its twin. The
 * pieces are joined, not appended one by one: join makes one flat string, where appending makes a
 * rope of a node per piece, which costs the garbage collector more while the record waits in the
 * batch, and which its first reader (startsWith in parseAuditMessage) would have to flatten anyway.
 */
export function unescapeQuotes(text: string, from: number, to: number): string {
  const pieces: string[] = [];
  for (let j = from; ;) {
    const q = text.indexOf('"', j);
    if (q === -1 || q >= to) {
      pieces.push(text.slice(j, to));
      return pieces.join('');
    }
    pieces.push(text.slice(j, q + 1));
    j = q + 2;
  }
}

/**
 * The last value made of each column (by csvRecordOf's repeatedColumn). Consecutive rows mostly share
 * user, database, connection, session, severity and application, so most rows make no new string for
 * them: fewer allocations, and the strings kept do not pin the text of every row.
 */
const lastColumnValues: string[] = [];

/** column(text, cols, k), the same string object as for the last row when that row had the same text there. */
function repeatedColumn(text: string, cols: CsvColumns, k: number): string {
  const last = lastColumnValues[k];
  const start = cols.start[k]!;
  if (last !== undefined && !cols.escaped[k] && last.length === cols.end[k]! - start && text.startsWith(last, start)) return last;
  const value = column(text, cols, k);
  lastColumnValues[k] = value;
  return value;
}

function csvRecord(text: string, endOffset: number, zones: SplitterOptions['zoneAbbreviations']): LogItem {
  const reason = scanCsvRow(text, rowColumns);
  return reason === null ? csvRecordOf(text, rowColumns, endOffset, zones) : malformed(`csvlog: ${reason}`, text, endOffset);
}

/** csvRecord of a row that scanCsvRow has scanned into `cols` without error. */
function csvRecordOf(text: string, cols: CsvColumns, endOffset: number, zones: SplitterOptions['zoneAbbreviations']): LogItem {
  if (cols.count < CSV_MIN_COLUMNS) return malformed(`csvlog: expected at least ${CSV_MIN_COLUMNS} columns, got ${cols.count}`, text, endOffset);
  const logTime = column(text, cols, 0);
  const timestamp = parsePgTimestamp(logTime, zones);
  if (timestamp === null) return malformed(`csvlog: log_time is not a timestamp with a known zone: ${JSON.stringify(logTime.slice(0, 40))}`, text, endOffset);
  const pid = intOrNull(column(text, cols, 3));
  if (pid === undefined) return malformed('csvlog: process_id is not an integer', text, endOffset);
  const sessionId = repeatedColumn(text, cols, 5);
  if (!SESSION_ID.test(sessionId)) return malformed('csvlog: session_id is missing or not a session id', text, endOffset);
  const lineNum = intOrNull(column(text, cols, 6));
  if (lineNum === undefined || lineNum === null) return malformed('csvlog: session_line_num is not an integer', text, endOffset);
  return recordItem({
    format: 'csvlog',
    timestamp,
    user: emptyToNull(repeatedColumn(text, cols, 1)),
    database: emptyToNull(repeatedColumn(text, cols, 2)),
    pid,
    remoteHost: hostOfConnectionFrom(repeatedColumn(text, cols, 4)),
    sessionId,
    sessionLineNum: lineNum,
    applicationName: emptyToNull(repeatedColumn(text, cols, 22)),
    severity: emptyToNull(repeatedColumn(text, cols, 11)),
    message: column(text, cols, 13),
    context: emptyToNull(column(text, cols, 18)),
    query: emptyToNull(column(text, cols, 19)),
    endOffset,
  });
}

/** csvlog connection_from is `host:port` over TCP (IPv6 too: `::1:5432`) and `[local]` on a Unix socket. */
function hostOfConnectionFrom(v: string): string | null {
  if (v === '') return null;
  // Consecutive rows mostly come from the same session, so remember the last answer (a pure function).
  if (v === lastConnectionFrom.from) return lastConnectionFrom.host;
  const m = CONNECTION_FROM.exec(v);
  lastConnectionFrom = { from: v, host: m ? m[1]! : v };
  return lastConnectionFrom.host;
}
const CONNECTION_FROM = /^(.+):\d{1,5}$/;
let lastConnectionFrom = { from: '', host: '' };

// ---------------------------------------------------------------------------------------------------
// Line-oriented formats

type Line = { kind: 'line'; text: string; endOffset: number } | { kind: 'overlong'; excerpt: string; endOffset: number };

/** LF-terminated lines with offsets; a line over `max` bytes becomes one `overlong` entry. */
class LineReader {
  private readonly q = new ByteQueue();
  private offset: number;
  private scanPos = 0;
  private skipping: { excerpt: string } | null = null;

  constructor(startOffset: number, private readonly max: number) { this.offset = startOffset; }

  push(chunk: string | Uint8Array): void { this.q.append(toBytes(chunk)); }

  lines(final: boolean): Line[] {
    const out: Line[] = [];
    for (;;) {
      const view = this.q.view();
      const len = view.length;
      const nl = view.indexOf(0x0a, this.scanPos);
      if (this.skipping) {
        const end = nl === -1 ? len : nl + 1;
        this.q.drop(end);
        this.offset += end;
        this.scanPos = 0;
        if (nl === -1 && !final) return out;
        out.push({ kind: 'overlong', excerpt: this.skipping.excerpt, endOffset: this.offset });
        this.skipping = null;
        if (nl === -1) return out;
        continue;
      }
      if (nl === -1 ? len > this.max : nl > this.max) {
        this.skipping = { excerpt: this.q.text(0, Math.min(EXCERPT_BYTES, this.max + 1)) };
        this.scanPos = this.max; // keep scanning for the newline from here
        continue;
      }
      if (nl === -1) {
        this.scanPos = len;
        if (final && len > 0) {
          out.push({ kind: 'line', text: this.q.text(0, len), endOffset: this.offset + len });
          this.q.drop(len);
          this.offset += len;
          this.scanPos = 0;
        }
        return out;
      }
      // A CR before the newline is kept: in stderr format it belongs to the message (a statement with
      // CRLF inside is written as CR LF TAB), and JSON.parse ignores it.
      out.push({ kind: 'line', text: this.q.text(0, nl), endOffset: this.offset + nl + 1 });
      this.q.drop(nl + 1);
      this.offset += nl + 1;
      this.scanPos = 0;
    }
  }
}

abstract class LineSplitter {
  protected readonly reader: LineReader;
  protected readonly max: number;
  protected readonly zones: SplitterOptions['zoneAbbreviations'];
  private ended = false;

  constructor(options?: SplitterOptions) {
    const o = optionsOf(options);
    this.reader = new LineReader(o.startOffset, o.maxRecordBytes);
    this.max = o.maxRecordBytes;
    this.zones = o.zones;
  }

  push(chunk: string | Uint8Array): LogItem[] {
    if (this.ended) throw new Error(`${this.constructor.name}: push() after end()`);
    this.reader.push(chunk);
    return this.consume(this.reader.lines(false), false);
  }

  end(): LogItem[] {
    if (this.ended) return [];
    this.ended = true;
    return this.consume(this.reader.lines(true), true);
  }

  protected abstract consume(lines: Line[], final: boolean): LogItem[];
}

// ---- jsonlog

/** Incremental jsonlog reader: one JSON object per line. Blank lines are skipped. */
export class JsonlogSplitter extends LineSplitter {
  protected consume(lines: Line[]): JsonlogRow[] {
    const out: JsonlogRow[] = [];
    for (const line of lines) {
      if (line.kind === 'overlong') out.push(malformed(`jsonlog: line longer than ${this.max} bytes`, line.excerpt, line.endOffset));
      else if (line.text.trim() !== '') out.push(jsonlogLineToItem(line.text, line.endOffset, this.zones));
    }
    return out;
  }
}

/** One jsonlog line to an item (exported for callers that already hold single lines). */
export function jsonlogLineToItem(text: string, endOffset: number, zones?: SplitterOptions['zoneAbbreviations']): LogItem {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return malformed('jsonlog: not valid JSON', text, endOffset); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return malformed('jsonlog: not a JSON object', text, endOffset);
  const o = v as Record<string, unknown>;
  const str = (k: string): string | null | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return null;
    return typeof x === 'string' ? x : undefined;
  };
  const int = (k: string): number | null | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return null;
    return typeof x === 'number' && Number.isInteger(x) ? x : undefined;
  };
  const ts = str('timestamp');
  const timestamp = ts ? parsePgTimestamp(ts, zones) : null;
  if (timestamp === null) return malformed('jsonlog: timestamp missing or not a timestamp with a known zone', text, endOffset);
  const message = str('message');
  if (typeof message !== 'string') return malformed('jsonlog: message missing or not a string', text, endOffset);
  const sessionId = str('session_id');
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) return malformed('jsonlog: session_id missing or not a session id', text, endOffset);
  const lineNum = int('line_num');
  if (typeof lineNum !== 'number') return malformed('jsonlog: line_num missing or not an integer', text, endOffset);
  const pid = int('pid');
  if (pid === undefined) return malformed('jsonlog: pid is not an integer', text, endOffset);
  const fields = { user: str('user'), database: str('dbname'), remoteHost: str('remote_host'), applicationName: str('application_name'),
    severity: str('error_severity'), context: str('context'), query: str('statement') };
  for (const [k, x] of Object.entries(fields)) {
    if (x === undefined) return malformed(`jsonlog: ${k} is not a string`, text, endOffset);
  }
  return recordItem({
    format: 'jsonlog',
    timestamp,
    user: emptyToNull(fields.user),
    database: emptyToNull(fields.database),
    pid,
    remoteHost: emptyToNull(fields.remoteHost),
    sessionId,
    sessionLineNum: lineNum,
    applicationName: emptyToNull(fields.applicationName),
    severity: emptyToNull(fields.severity),
    message,
    context: emptyToNull(fields.context),
    query: emptyToNull(fields.query),
    endOffset,
  });
}

// ---- stderr: log_line_prefix

/** The stderr/syslog-style prefix the sample (and Debian's postgresql.conf) uses. PostgreSQL's own default is '%m [%p] '. */
export const DEFAULT_LOG_LINE_PREFIX = '%m [%p] %q%u@%d ';

/** What a prefix gave for one line. Fields the prefix does not contain are null. */
export interface PrefixValues {
  timestamp: string | null;
  pid: number | null;
  user: string | null;
  database: string | null;
  remoteHost: string | null;
  sessionId: string | null;
  sessionLineNum: number | null;
  applicationName: string | null;
}

export interface PrefixMatch {
  values: PrefixValues;
  severity: string;
  /** Index in the line where the message starts (after `SEVERITY:  `). */
  messageStart: number;
  /** A problem with a value (e.g. a timestamp with an unknown zone), else null. */
  problem: string | null;
}

export interface LogLinePrefix {
  readonly source: string;
  readonly hasTimestamp: boolean;
  readonly hasSessionIdentity: boolean;
  /** null when the line does not start with this prefix followed by `SEVERITY:  `. */
  match(line: string): PrefixMatch | null;
}

type Capture = 'time_m' | 'time_t' | 'time_n' | 'pid' | 'user' | 'database' | 'host' | 'hostport' | 'session' | 'line' | 'app';

// How much of a line the prefix regex may look at: the prefix itself is short (names are at most
// NAMEDATALEN-1 = 63 bytes, host names at most ~1 KiB); this bounds backtracking on hostile lines.
const PREFIX_SCAN_CHARS = 4096;
const ZONE = '(?:[A-Za-z]{1,10}|[+-]\\d{2}(?::?\\d{2})?)';
const DATE_TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';

/**
 * Compiles a PostgreSQL log_line_prefix into a matcher. Supported escapes (all of PostgreSQL 10-18):
 * %a %u %d %r %h %L %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%, with optional padding (%-10u, %10u);
 * unknown escapes print nothing in PostgreSQL and match nothing here. Values extracted: %m/%t/%n (time),
 * %p, %u, %d, %h or %r (host), %c (session id), %l (line number), %a. `[unknown]` (what PostgreSQL prints
 * for a missing user/database/application) becomes null. %q: processes without a client connection stop
 * the prefix there; both forms match.
 *
 * Limits — stderr is not an unambiguous format, prefer csvlog or jsonlog:
 * - a name containing the text that follows it in the prefix (a user `a@b` with `%u@%d`) may split wrongly;
 * - values a client chooses (%a application_name, also %u/%d names) can contain `LOG:  ` and so forge
 *   where the message seems to start; with %a in the prefix, a client can make a line that parses as a
 *   different (even an AUDIT) message. Do not use stderr input for audit-grade ingestion when the prefix
 *   has client-chosen values before the severity;
 * - the severity tag is any word followed by `:  ` (works with translated lc_messages).
 */
export function compileLogLinePrefix(prefix: string, zoneAbbreviations?: Readonly<Record<string, number>>): LogLinePrefix {
  const captures: Capture[] = [];
  const parts: [string, string] = ['', ''];
  let part = 0;
  let hasTimestamp = false;
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i]!;
    if (ch !== '%') { parts[part] += escapeRegex(ch); continue; }
    let j = i + 1;
    let pad = 0;
    const padMatch = /^-?\d+/.exec(prefix.slice(j));
    if (padMatch) { pad = Number(padMatch[0]); j += padMatch[0].length; }
    const esc = prefix[j];
    i = j;
    if (esc === undefined) break;
    if (esc === '%') { parts[part] += '%'; continue; }
    if (esc === 'q') { part = 1; continue; }
    let pattern: string | null = null;
    let capture: Capture | null = null;
    switch (esc) {
      case 'm': pattern = `${DATE_TIME}\\.\\d{3} ${ZONE}`; capture = 'time_m'; hasTimestamp = true; break;
      case 't': pattern = `${DATE_TIME} ${ZONE}`; capture = 'time_t'; hasTimestamp = true; break;
      case 'n': pattern = '\\d{1,12}\\.\\d{3}'; capture = 'time_n'; hasTimestamp = true; break;
      case 's': pattern = `(?:${DATE_TIME} ${ZONE})?`; break;
      case 'p': pattern = '\\d*'; capture = 'pid'; break;
      case 'P': pattern = '\\d*'; break;
      case 'l': pattern = '\\d*'; capture = 'line'; break;
      case 'c': pattern = '(?:[0-9a-f]{1,16}\\.[0-9a-f]{1,8})?'; capture = 'session'; break;
      case 'x': pattern = '\\d*'; break;
      case 'v': pattern = '(?:-?\\d+/\\d+)?'; break;
      case 'e': pattern = '(?:[0-9A-Z]{5})?'; break;
      case 'Q': pattern = '-?\\d*'; break;
      case 'u': pattern = '.{0,128}?'; capture = 'user'; break;
      case 'd': pattern = '.{0,128}?'; capture = 'database'; break;
      case 'a': pattern = '.{0,128}?'; capture = 'app'; break;
      case 'h': pattern = '.{0,1100}?'; capture = 'host'; break;
      case 'r': pattern = '.{0,1110}?'; capture = 'hostport'; break;
      case 'L': pattern = '.{0,128}?'; break;
      case 'b': pattern = '.{0,64}?'; break;
      case 'i': pattern = '.{0,64}?'; break;
      default: pattern = null; // PostgreSQL prints nothing for an unknown escape
    }
    if (pattern === null) continue;
    const group = capture ? (captures.push(capture), `(${pattern})`) : `(?:${pattern})`;
    // Padding: %10x right-aligns (leading spaces), %-10x left-aligns (trailing spaces).
    parts[part] += pad > 0 ? ` *${group}` : pad < 0 ? `${group} *` : group;
  }
  const severity = '([^\\s:]{1,32}):  ';
  const source = `^${parts[0]}${part === 1 ? `(?:${parts[1]})??` : ''}${severity}`;
  const regex = new RegExp(source, 's');
  const hasSessionIdentity = captures.includes('session') && captures.includes('line');

  return {
    source: prefix,
    hasTimestamp,
    hasSessionIdentity,
    match(line: string): PrefixMatch | null {
      const m = regex.exec(line.length > PREFIX_SCAN_CHARS ? line.slice(0, PREFIX_SCAN_CHARS) : line);
      if (!m) return null;
      const values: PrefixValues = {
        timestamp: null, pid: null, user: null, database: null, remoteHost: null,
        sessionId: null, sessionLineNum: null, applicationName: null,
      };
      let problem: string | null = null;
      for (let k = 0; k < captures.length; k++) {
        const raw = m[k + 1];
        if (raw === undefined) continue; // inside the %q part, absent on this line
        const v = raw.trim();
        if (v === '') continue;
        switch (captures[k]!) {
          case 'time_m': case 'time_t': {
            const t = parsePgTimestamp(v, zoneAbbreviations);
            if (t === null) problem = `timestamp with an unknown zone: ${JSON.stringify(v)}`;
            values.timestamp ??= t;
            break;
          }
          case 'time_n': values.timestamp ??= parseEpochSeconds(v); break;
          case 'pid': values.pid ??= Number(v); break;
          case 'line': values.sessionLineNum ??= Number(v); break;
          case 'session': values.sessionId ??= v; break;
          case 'user': values.user ??= unknownToNull(v); break;
          case 'database': values.database ??= unknownToNull(v); break;
          case 'app': values.applicationName ??= unknownToNull(v); break;
          case 'host': values.remoteHost ??= v; break;
          case 'hostport': values.remoteHost ??= v.replace(/\(\d{1,5}\)$/, ''); break;
        }
      }
      return { values, severity: m[m.length - 1]!, messageStart: m[0].length, problem };
    },
  };
}

function unknownToNull(v: string): string | null {
  return v === '[unknown]' ? null : v;
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

export interface StderrOptions extends SplitterOptions {
  /** The server's log_line_prefix. Default DEFAULT_LOG_LINE_PREFIX ('%m [%p] %q%u@%d '). */
  logLinePrefix?: string;
}

/** With log_error_verbosity = verbose the message starts with the SQLSTATE (`00000: AUDIT: ...`). */
const VERBOSE_SQLSTATE_AUDIT = /^[0-9A-Z]{5}: (?=AUDIT: )/;

/**
 * Tags PostgreSQL writes on lines of their own, each with the full prefix, right after a message and as
 * part of it (English lc_messages; translated tags start records of their own).
 */
const SECONDARY_TAGS = new Set(['DETAIL', 'HINT', 'QUERY', 'CONTEXT', 'LOCATION', 'STATEMENT', 'BACKTRACE']);

interface StderrLine { text: string; match: PrefixMatch | null }

/** Whether a prefixed line continues `first`'s message as one of its DETAIL/CONTEXT/STATEMENT/... lines. */
function isSecondaryOf(m: PrefixMatch, first: PrefixMatch): boolean {
  return SECONDARY_TAGS.has(m.severity) && m.values.pid === first.values.pid && m.values.sessionId === first.values.sessionId;
}

/** One stderr-format record from its lines: the first is prefixed; later prefixed lines are secondary ones. */
function assembleStderr(lines: readonly StderrLine[], endOffset: number, fallbackTimestamp: string | null): LogItem {
  const first = lines[0]!;
  const m = first.match!;
  if (m.problem) return malformed(`stderr: ${m.problem}`, first.text, endOffset);
  const timestamp = m.values.timestamp ?? fallbackTimestamp;
  if (timestamp === null) return malformed('stderr: no timestamp in the line prefix', first.text, endOffset);
  const sections: { tag: string | null; text: string }[] = [{ tag: null, text: first.text.slice(m.messageStart) }];
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.match) sections.push({ tag: l.match.severity, text: l.text.slice(l.match.messageStart) });
    // PostgreSQL writes every newline inside a message as newline + TAB.
    else sections[sections.length - 1]!.text += `\n${l.text.charCodeAt(0) === 0x09 ? l.text.slice(1) : l.text}`;
  }
  const section = (tag: string) => sections.find((x) => x.tag === tag)?.text ?? null;
  return recordItem({
    ...m.values,
    format: 'stderr',
    timestamp,
    severity: m.severity,
    message: sections[0]!.text.replace(VERBOSE_SQLSTATE_AUDIT, ''),
    context: section('CONTEXT'),
    query: section('STATEMENT'),
    endOffset,
  });
}

/**
 * Incremental stderr-format reader. A line that matches the prefix followed by `SEVERITY:  ` starts a
 * record, except DETAIL/HINT/QUERY/CONTEXT/LOCATION/STATEMENT/BACKTRACE lines of the same process,
 * which belong to the message before them (their CONTEXT and STATEMENT become `context`/`query`). Any
 * other line continues the current record: PostgreSQL starts those with a TAB, removed here (a line
 * without the TAB — output from something else — is kept as is). Lines before the first record are
 * reported as one malformed item. A record is returned once the next record's first line is complete,
 * or by end(): call end() when the file is closed or rotated.
 *
 * Identity: the default prefix has no %c/%l, so records carry no session id: identify them by
 * (file, endOffset) (see audit-event.ts). With %c and %l in the prefix they get sessionId and
 * sessionLineNum, but %l counts stderr lines, which differs from csvlog/jsonlog numbering.
 */
export class StderrSplitter extends LineSplitter {
  readonly prefix: LogLinePrefix;
  private current: { lines: StderrLine[]; bytes: number; endOffset: number; overlong: boolean } | null = null;
  private orphan: { excerpt: string; endOffset: number } | null = null;

  constructor(options?: StderrOptions) {
    super(options);
    this.prefix = compileLogLinePrefix(options?.logLinePrefix ?? DEFAULT_LOG_LINE_PREFIX, options?.zoneAbbreviations);
    if (!this.prefix.hasTimestamp) throw new Error('log_line_prefix must contain %m, %t or %n for stderr ingestion');
  }

  protected consume(lines: Line[], final: boolean): StderrRow[] {
    const out: StderrRow[] = [];
    for (const line of lines) {
      const m = line.kind === 'line' ? this.prefix.match(line.text) : null;
      const c = this.current;
      if (m && line.kind === 'line' && !(c && isSecondaryOf(m, c.lines[0]!.match!))) {
        this.flush(out);
        this.current = { lines: [{ text: line.text, match: m }], bytes: Buffer.byteLength(line.text), endOffset: line.endOffset, overlong: false };
        continue;
      }
      if (c) {
        c.endOffset = line.endOffset;
        if (line.kind === 'overlong') c.overlong = true;
        else if (!c.overlong) {
          c.bytes += Buffer.byteLength(line.text) + 1;
          if (c.bytes > this.max) { c.overlong = true; c.lines.length = 1; } else c.lines.push({ text: line.text, match: m });
        }
      } else if (this.orphan) this.orphan.endOffset = line.endOffset;
      else this.orphan = { excerpt: line.kind === 'line' ? line.text : line.excerpt, endOffset: line.endOffset };
    }
    if (final) this.flush(out);
    return out;
  }

  private flush(out: StderrRow[]): void {
    if (this.orphan) {
      out.push(malformed('stderr: lines before the first line that matches log_line_prefix', this.orphan.excerpt, this.orphan.endOffset));
      this.orphan = null;
    }
    const c = this.current;
    if (!c) return;
    this.current = null;
    if (c.overlong) out.push(malformed(`stderr: record longer than ${this.max} bytes`, c.lines[0]!.text, c.endOffset));
    else out.push(assembleStderr(c.lines, c.endOffset, null));
  }
}

// ---- managed log integration NDJSON

/**
 * One document of a managed log integration (`{"MESSAGE": "<raw stderr-format record>", "timestamp":
 * ..., "HOSTNAME": ..., "SYSTEMD_UNIT": ...}`) to an item. MESSAGE is parsed with `prefix`; it may hold a
 * whole multi-line record (continuation lines after newline + TAB). A MESSAGE given as an array of byte
 * values (journald's JSON form for non-UTF-8 text) is decoded as UTF-8. The record's time comes from the
 * prefix; only when the prefix has none is the document's `timestamp` used (ISO-8601 string, PostgreSQL
 * form, or epoch seconds/ms/µs/ns as a number or digit string, told apart by magnitude).
 * Not handled: a message split into several documents (syslog_split_messages, PG_SYSLOG_LIMIT chunks,
 * journald line splitting): the pieces after the first come out malformed.
 */
export function managedDocumentToItem(doc: unknown, prefix: LogLinePrefix, endOffset: number,
  zones?: SplitterOptions['zoneAbbreviations']): LogItem {
  const excerpt = () => { try { return JSON.stringify(doc) ?? String(doc); } catch { return String(doc); } };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return malformed('managed log: not a JSON object', excerpt(), endOffset);
  const o = doc as Record<string, unknown>;
  let message: string;
  const raw = o.MESSAGE;
  if (typeof raw === 'string') message = raw;
  else if (Array.isArray(raw) && raw.length <= DEFAULT_MAX_RECORD_BYTES && raw.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    message = Buffer.from(raw as number[]).toString('utf8');
  } else return malformed('managed log: MESSAGE missing or not a string', excerpt(), endOffset);
  // The record's own terminating newline may or may not have been kept by the shipper.
  const lines = message.replace(/\n$/, '').split('\n');
  const m = prefix.match(lines[0]!);
  if (!m) return malformed('managed log: MESSAGE does not start with log_line_prefix and a severity', message, endOffset);
  const parsed: StderrLine[] = lines.map((text, k) => {
    const lm = k === 0 ? m : prefix.match(text);
    return { text, match: lm && (k === 0 || isSecondaryOf(lm, m)) ? lm : null };
  });
  return assembleStderr(parsed, endOffset, documentTimestamp(o.timestamp, zones));
}

function documentTimestamp(v: unknown, zones: SplitterOptions['zoneAbbreviations']): string | null {
  let n: number | null = null;
  if (typeof v === 'number' && Number.isFinite(v)) n = v;
  else if (typeof v === 'string') {
    if (/^\d{1,20}(?:\.\d+)?$/.test(v)) n = Number(v);
    else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/.test(v)) {
      const t = Date.parse(v);
      return Number.isNaN(t) ? null : new Date(t).toISOString();
    } else return parsePgTimestamp(v, zones);
  }
  if (n === null || n < 0) return null;
  const ms = n < 1e11 ? n * 1000 : n < 1e14 ? n : n < 1e17 ? n / 1000 : n / 1e6;
  const d = new Date(Math.floor(ms));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * Incremental reader of a managed log integration's NDJSON export (one document per line), with the
 * same offset contract as the other splitters.
 */
export class ManagedLogSplitter extends LineSplitter {
  readonly prefix: LogLinePrefix;

  constructor(options?: StderrOptions) {
    super(options);
    this.prefix = compileLogLinePrefix(options?.logLinePrefix ?? DEFAULT_LOG_LINE_PREFIX, options?.zoneAbbreviations);
  }

  protected consume(lines: Line[]): LogItem[] {
    const out: LogItem[] = [];
    for (const line of lines) {
      if (line.kind === 'overlong') { out.push(malformed(`managed log: line longer than ${this.max} bytes`, line.excerpt, line.endOffset)); continue; }
      if (line.text.trim() === '') continue;
      let doc: unknown;
      try { doc = JSON.parse(line.text); } catch { out.push(malformed('managed log: not valid JSON', line.text, line.endOffset)); continue; }
      out.push(managedDocumentToItem(doc, this.prefix, line.endOffset, this.zones));
    }
    return out;
  }
}
