/**
 * jsonlog (PostgreSQL 15+): one JSON object per line (PostgreSQL escapes newlines inside values), framed
 * by the line reader; each line -> LogRecord here.
 */
import type { Line } from '../framing/line-reader';
import { emptyToNull, LogItem, malformed, recordItem, SESSION_ID, SplitterOptions } from '../log-record';
import { newTimestampCache, parsePgTimestamp, TimestampCache } from '../pg-timestamp';
import { LineSplitter } from './line-splitter';

export type JsonlogRow = LogItem;

/** Incremental jsonlog reader: one JSON object per line. Blank lines are skipped. */
export class JsonlogSplitter extends LineSplitter {
  private readonly timestamps = newTimestampCache();

  protected consume(lines: Line[]): JsonlogRow[] {
    const out: JsonlogRow[] = [];
    for (const line of lines) {
      if (line.kind === 'overlong') out.push(malformed(`jsonlog: line longer than ${this.max} bytes`, line.excerpt, line.endOffset, 'record_too_large'));
      else if (line.text.trim() !== '') out.push(jsonlogLineToItem(line.text, line.endOffset, this.zones, this.timestamps));
    }
    return out;
  }
}

/**
 * One jsonlog line to an item (exported for callers that already hold single lines). `timestamps` only
 * saves work (see pg-timestamp.ts).
 */
export function jsonlogLineToItem(text: string, endOffset: number, zones?: SplitterOptions['zoneAbbreviations'],
  timestamps?: TimestampCache): LogItem {
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
  const timestamp = ts ? parsePgTimestamp(ts, zones, timestamps) : null;
  if (timestamp === null) return malformed('jsonlog: timestamp missing or not a timestamp with a known zone', text, endOffset);
  const message = str('message');
  if (typeof message !== 'string') return malformed('jsonlog: message missing or not a string', text, endOffset);
  const sessionId = str('session_id');
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) return malformed('jsonlog: session_id missing or not a session id', text, endOffset);
  const lineNum = int('line_num');
  if (typeof lineNum !== 'number') return malformed('jsonlog: line_num missing or not an integer', text, endOffset);
  const pid = int('pid');
  if (pid === undefined) return malformed('jsonlog: pid is not an integer', text, endOffset);
  const remotePort = int('remote_port');
  if (remotePort === undefined) return malformed('jsonlog: remote_port is not an integer', text, endOffset);
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
    remotePort,
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
