/**
 * Parses the text pgaudit logs after `AUDIT: ` into a record. Pure: no I/O, never throws.
 *
 *   AUDIT: AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]
 *
 * How pgaudit writes it (pgaudit.c, log_audit_event / append_valid_csv, 1.x to 17.x):
 * - AUDIT_TYPE, the two ids and CLASS are printed with %s / INT64_FORMAT: never quoted, never contain a comma.
 * - COMMAND, OBJECT_TYPE, OBJECT_NAME, STATEMENT and PARAMETER go through append_valid_csv: a value is
 *   double-quoted only if it contains a comma, a double quote, CR or LF, inner quotes doubled; a NULL
 *   value is the empty field.
 * - STATEMENT and PARAMETER are the literal markers `<not logged>` (log_statement off; PARAMETER also when
 *   log_parameter is off) or `<previously logged>` (log_statement_once repeats).
 * - PARAMETER with log_parameter on: `<none>` when the statement has no parameters, else the parameter
 *   values, each CSV-escaped as above and joined with commas (a NULL parameter is the empty item), and
 *   that whole list CSV-escaped once more as the one field. PG16+ may put `<long param suppressed>` in
 *   place of a value longer than pgaudit.log_parameter_max_size.
 * - ROWS (int64) is appended only when pgaudit.log_rows is on (pgaudit 1.6 / PG14+).
 *
 * Because every value that contains a comma is quoted, an unquoted field cannot hold a comma and the
 * field count is exact: 9 fields without ROWS, 10 with. Anything else is malformed. An unquoted field
 * holding a quote, CR or LF cannot come from pgaudit either and is rejected.
 *
 * Ambiguities that the format itself has (pgaudit writes the same bytes for two different inputs):
 * - a NULL parameter and an empty-string parameter are both the empty item: both parse to '';
 * - a statement with exactly one parameter that is NULL/'' gives an EMPTY PARAMETER field: that parses to
 *   [''] (one empty parameter), not to null — `<none>` is what pgaudit writes for zero parameters;
 * - a statement whose single parameter value is literally `<none>`, `<not logged>` or
 *   `<previously logged>` is indistinguishable from the marker: the marker reading wins.
 */
import { unescapeQuotes } from './framing/csv-scan';

import type { AuditType, PgauditFields, StatementStatus } from '../audit-events/event.document';

export type { AuditType, StatementStatus };

/** The parsed record: exactly the pgaudit fields of the stored event document. */
export type PgauditRecord = PgauditFields;

export type ParseAuditResult = { ok: true; record: PgauditRecord } | { ok: false; reason: string };

export const AUDIT_PREFIX = 'AUDIT: ';
export const NOT_LOGGED = '<not logged>';
export const PREVIOUSLY_LOGGED = '<previously logged>';
export const NO_PARAMETERS = '<none>';
export const LONG_PARAM_SUPPRESSED = '<long param suppressed>';

const FIELD_NAMES = ['AUDIT_TYPE', 'STATEMENT_ID', 'SUBSTATEMENT_ID', 'CLASS', 'COMMAND', 'OBJECT_TYPE',
  'OBJECT_NAME', 'STATEMENT', 'PARAMETER', 'ROWS'] as const;

const CLASS_NAME = /^[A-Z][A-Z_]*$/;

/**
 * null: not a pgaudit message at all (does not start with `AUDIT: `).
 * { ok: false, reason }: starts like one but is not a well-formed pgaudit record.
 */
export function parseAuditMessage(message: string): ParseAuditResult | null {
  if (typeof message !== 'string' || !message.startsWith(AUDIT_PREFIX)) return null;
  const f = messageFields;
  const count = splitPgauditCsv(message, AUDIT_PREFIX.length, f);
  if (typeof count === 'string') return { ok: false, reason: count };
  if (count !== 9 && count !== 10) {
    return { ok: false, reason: `expected 9 fields (10 with ROWS), got ${count}` };
  }
  // Indexed reads rather than array destructuring, which goes through the iterator protocol.
  const type = f[0]!, sid = f[1]!, ssid = f[2]!, cls = f[3]!, command = f[4]!, objectType = f[5]!,
    objectName = f[6]!, statement = f[7]!, parameter = f[8]!;
  if (type !== 'SESSION' && type !== 'OBJECT') return { ok: false, reason: `AUDIT_TYPE must be SESSION or OBJECT, got ${excerpt(type)}` };
  const statementId = parseInt64(sid);
  if (statementId === null) return { ok: false, reason: `STATEMENT_ID is not an integer: ${excerpt(sid)}` };
  const substatementId = parseInt64(ssid);
  if (substatementId === null) return { ok: false, reason: `SUBSTATEMENT_ID is not an integer: ${excerpt(ssid)}` };
  if (!CLASS_NAME.test(cls)) return { ok: false, reason: `CLASS is not a class name: ${excerpt(cls)}` };
  if (command === '') return { ok: false, reason: 'COMMAND is empty' };

  let rows: number | null = null;
  if (count === 10) {
    rows = parseInt64(f[9]!);
    if (rows === null) return { ok: false, reason: `ROWS is not an integer: ${excerpt(f[9]!)}` };
  }

  let statementStatus: StatementStatus = 'LOGGED';
  if (statement === NOT_LOGGED) statementStatus = 'NOT_LOGGED';
  else if (statement === PREVIOUSLY_LOGGED) statementStatus = 'PREVIOUSLY_LOGGED';

  let parameters: string[] | null;
  if (parameter === NOT_LOGGED || parameter === PREVIOUSLY_LOGGED) parameters = null;
  else if (parameter === NO_PARAMETERS) parameters = [];
  else {
    parameters = [];
    const listed = splitPgauditCsv(parameter, 0, parameters);
    if (typeof listed === 'string') return { ok: false, reason: `PARAMETER is not a valid list: ${listed}` };
  }

  return {
    ok: true,
    record: {
      auditType: type,
      statementId,
      substatementId,
      class: cls,
      command,
      objectType: objectType === '' ? null : objectType,
      objectName: objectName === '' ? null : objectName,
      statement: statementStatus !== 'LOGGED' || statement === '' ? null : statement,
      statementStatus,
      parameters,
      rows,
    },
  };
}

/**
 * A non-negative int64 as pgaudit prints it (INT64_FORMAT; ids and row counts are never negative). Kept as a JS number: values above
 * 2^53 (9,007,199,254,740,992) are accepted but rounded to the nearest double (Number.isSafeInteger is
 * then false), so two ids that differ only beyond 2^53 could compare equal. pgaudit's statement ids are
 * per-backend counters and ROWS counts processed rows, so no real server gets near that.
 */
function parseInt64(s: string): number | null {
  // As /^\d{1,19}$/, without a regex.
  const n = s.length;
  if (n < 1 || n > 19) return null;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
  }
  return Number(s);
}

/** parseAuditMessage's top-level fields, reused from call to call (a message is parsed in one synchronous call). */
const messageFields: string[] = [];

/**
 * Splits pgaudit's CSV (append_valid_csv) starting at `from` into fields[0], fields[1], ...:
 * comma-separated; a field is either unquoted (no comma, quote, CR or LF in it) or fully quoted with
 * inner quotes doubled. Returns the number of fields (entries of `fields` after them are left as they
 * were), or why the text is not valid. Linear time.
 */
function splitPgauditCsv(s: string, from: number, fields: string[]): number | string {
  let count = 0;
  let i = from;
  const n = s.length;
  // The first quote, CR and LF at or after i (n: none). Kept across unquoted fields, so that checking
  // each of them costs three comparisons instead of a pass through the field.
  let nextQuote = -1;
  let nextCr = -1;
  let nextLf = -1;
  for (;;) {
    const index = count;
    if (i < n && s.charCodeAt(i) === 0x22 /* " */) {
      // The closing quote is the first one not followed by another: `""` is an escaped quote.
      let close = i;
      let escaped = false;
      for (;;) {
        close = s.indexOf('"', close + 1);
        if (close === -1) return `unterminated quoted field ${fieldName(index)}`;
        if (s.charCodeAt(close + 1) !== 0x22) break;
        escaped = true;
        close += 1;
      }
      fields[count++] = escaped ? unescapeQuotes(s, i + 1, close) : s.slice(i + 1, close);
      i = close + 1;
      if (i === n) return count;
      if (s.charCodeAt(i) !== 0x2c /* , */) return `unexpected character after the closing quote of field ${fieldName(index)}`;
      i += 1;
    } else {
      let end = s.indexOf(',', i);
      if (end === -1) end = n;
      if (nextQuote < i) nextQuote = indexOrEnd(s, '"', i);
      if (nextCr < i) nextCr = indexOrEnd(s, '\r', i);
      if (nextLf < i) nextLf = indexOrEnd(s, '\n', i);
      if (nextQuote < end || nextCr < end || nextLf < end) return `unquoted field ${fieldName(index)} contains a quote or a line break`;
      fields[count++] = s.slice(i, end);
      if (end === n) return count;
      i = end + 1;
    }
    // More fields than any valid line has: stop instead of splitting the rest of a hostile value.
    if (from > 0 && count >= FIELD_NAMES.length) {
      return `expected 9 fields (10 with ROWS), got more than ${FIELD_NAMES.length}`;
    }
  }
}


/** s.indexOf(c, from), or s.length when c is not there. */
function indexOrEnd(s: string, c: string, from: number): number {
  const i = s.indexOf(c, from);
  return i === -1 ? s.length : i;
}

function fieldName(index: number): string {
  return `${index + 1}${FIELD_NAMES[index] ? ` (${FIELD_NAMES[index]})` : ''}`;
}

function excerpt(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
