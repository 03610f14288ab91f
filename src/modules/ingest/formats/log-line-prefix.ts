/**
 * stderr format, part 1: PostgreSQL's log_line_prefix compiled into a matcher that finds where a line's
 * prefix and `SEVERITY:  ` end and reads the values the prefix carries. Used by the stderr splitter
 * (stderr.splitter.ts) and for the MESSAGE of managed NDJSON documents (managed.splitter.ts).
 */
import { newTimestampCache, parseEpochSeconds, parsePgTimestamp } from '../pg-timestamp';

/** The stderr/syslog-style prefix the sample (and Debian's postgresql.conf) uses. PostgreSQL's own default is '%m [%p] '. */
export const DEFAULT_LOG_LINE_PREFIX = '%m [%p] %q%u@%d ';

/** What a prefix gave for one line. Fields the prefix does not contain are null. */
export interface PrefixValues {
  timestamp: string | null;
  pid: number | null;
  user: string | null;
  database: string | null;
  remoteHost: string | null;
  /** %r's `(port)`; null without %r or on a Unix socket. */
  remotePort: number | null;
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
  const timestamps = newTimestampCache(); // this matcher's own
  const hasSessionIdentity = captures.includes('session') && captures.includes('line');

  return {
    source: prefix,
    hasTimestamp,
    hasSessionIdentity,
    match(line: string): PrefixMatch | null {
      const m = regex.exec(line.length > PREFIX_SCAN_CHARS ? line.slice(0, PREFIX_SCAN_CHARS) : line);
      if (!m) return null;
      const values: PrefixValues = {
        timestamp: null, pid: null, user: null, database: null, remoteHost: null, remotePort: null,
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
            const t = parsePgTimestamp(v, zoneAbbreviations, timestamps);
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
          case 'hostport': {
            const port = /\((\d{1,5})\)$/.exec(v);
            values.remoteHost ??= port ? v.slice(0, port.index) : v;
            values.remotePort ??= port ? Number(port[1]) : null;
            break;
          }
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
