/**
 * stderr format, part 2: `log_line_prefix` + `SEVERITY:  ` + message (the prefix: log-line-prefix.ts); a
 * multi-line message continues on following lines, each of which PostgreSQL starts with a TAB (removed
 * here). Framed by the line reader: lines end at LF; a CR before it is kept, since it belongs to the
 * message (so the CRLF files of a Windows server would leave a CR at the end of each message line).
 * assembleStderr (one record from its lines) is shared with managed NDJSON (managed.splitter.ts).
 */
import type { Line } from '../framing/line-reader';
import { LogItem, malformed, recordItem, SplitterOptions } from '../log-record';
import { LineSplitter } from './line-splitter';
import { compileLogLinePrefix, DEFAULT_LOG_LINE_PREFIX, LogLinePrefix, PrefixMatch } from './log-line-prefix';

export type StderrRow = LogItem;

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

export interface StderrLine { text: string; match: PrefixMatch | null }

/** Whether a prefixed line continues `first`'s message as one of its DETAIL/CONTEXT/STATEMENT/... lines. */
export function isSecondaryOf(m: PrefixMatch, first: PrefixMatch): boolean {
  return SECONDARY_TAGS.has(m.severity) && m.values.pid === first.values.pid && m.values.sessionId === first.values.sessionId;
}

/** One stderr-format record from its lines: the first is prefixed; later prefixed lines are secondary ones. */
export function assembleStderr(lines: readonly StderrLine[], endOffset: number, fallbackTimestamp: string | null): LogItem {
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
      // An overlong line is matched on its head: if it starts a record, that record is the one too large
      // (never the record before it, which a client's huge statement would otherwise take down with it).
      const m = this.prefix.match(line.kind === 'line' ? line.text : line.excerpt);
      const c = this.current;
      if (m && !(c && isSecondaryOf(m, c.lines[0]!.match!))) {
        this.flush(out);
        this.current = line.kind === 'line'
          ? { lines: [{ text: line.text, match: m }], bytes: Buffer.byteLength(line.text), endOffset: line.endOffset, overlong: false }
          : { lines: [{ text: line.excerpt, match: m }], bytes: this.max + 1, endOffset: line.endOffset, overlong: true };
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
    if (c.overlong) out.push(malformed(`stderr: record longer than ${this.max} bytes`, c.lines[0]!.text, c.endOffset, 'record_too_large'));
    else out.push(assembleStderr(c.lines, c.endOffset, null));
  }
}
