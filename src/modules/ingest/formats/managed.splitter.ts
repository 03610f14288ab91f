/**
 * managed NDJSON: documents of a managed log integration, one per line,
 * `{"MESSAGE": "<one raw stderr-format record>", "timestamp": ..., "HOSTNAME": ..., ...}`. Framed by the
 * line reader; MESSAGE is read with the log_line_prefix (log-line-prefix.ts) and assembled as a stderr
 * record (stderr.splitter.ts).
 */
import type { Line } from '../framing/line-reader';
import { DEFAULT_MAX_RECORD_BYTES, LogItem, malformed, SplitterOptions } from '../log-record';
import { newTimestampCache, parsePgTimestamp, TimestampCache } from '../pg-timestamp';
import { LineSplitter } from './line-splitter';
import { compileLogLinePrefix, DEFAULT_LOG_LINE_PREFIX, LogLinePrefix } from './log-line-prefix';
import { assembleStderr, isSecondaryOf, StderrLine, StderrOptions } from './stderr.splitter';

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
  zones?: SplitterOptions['zoneAbbreviations'], timestamps?: TimestampCache): LogItem {
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
  return assembleStderr(parsed, endOffset, documentTimestamp(o.timestamp, zones, timestamps));
}

function documentTimestamp(v: unknown, zones: SplitterOptions['zoneAbbreviations'], timestamps: TimestampCache | undefined): string | null {
  let n: number | null = null;
  if (typeof v === 'number' && Number.isFinite(v)) n = v;
  else if (typeof v === 'string') {
    if (/^\d{1,20}(?:\.\d+)?$/.test(v)) n = Number(v);
    else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/.test(v)) {
      const t = Date.parse(v);
      return Number.isNaN(t) ? null : new Date(t).toISOString();
    } else return parsePgTimestamp(v, zones, timestamps);
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
  private readonly timestamps = newTimestampCache();

  constructor(options?: StderrOptions) {
    super(options);
    this.prefix = compileLogLinePrefix(options?.logLinePrefix ?? DEFAULT_LOG_LINE_PREFIX, options?.zoneAbbreviations);
  }

  protected consume(lines: Line[]): LogItem[] {
    const out: LogItem[] = [];
    for (const line of lines) {
      if (line.kind === 'overlong') { out.push(malformed(`managed log: line longer than ${this.max} bytes`, line.excerpt, line.endOffset, 'record_too_large')); continue; }
      if (line.text.trim() === '') continue;
      let doc: unknown;
      try { doc = JSON.parse(line.text); } catch { out.push(malformed('managed log: not valid JSON', line.text, line.endOffset)); continue; }
      out.push(managedDocumentToItem(doc, this.prefix, line.endOffset, this.zones, this.timestamps));
    }
    return out;
  }
}
