/**
 * PostgreSQL 15 csvlog with pgaudit lines, for the benchmark and the tests (both tools: neither is
 * product code, and the product never imports this).
 *
 * The row writer (csvlogRow, pgauditMessage) writes every row the way PostgreSQL's csvlog.c writes it
 * (26 columns; user, database, connection_from, command tag, message, detail, context, query,
 * application name and backend type through appendCSVLiteral, i.e. always double-quoted with inner
 * quotes doubled) and every AUDIT message the way pgaudit's append_valid_csv writes it (a field is
 * quoted only when it holds a comma, a quote, CR or LF). Compare src/modules/ingest/fixtures/pgaudit-pg15/postgresql.csv.
 * test/support/csvlog-generator.ts builds its annotated, hostile files on it.
 *
 * The bench's generator (csvlogRows, writeCsvlog): realistic files of any size, shaped after
 * ../shared/samples/pgaudit-pg15: a mix of classes and commands, users, databases, statement lengths,
 * parameters (with quotes and commas), OBJECT rows, multi-line statements, ROWS, and non-audit lines
 * in between. Streamed (flat memory whatever the size). Same seed, same bytes.
 */
import { createWriteStream } from 'node:fs';
import { prng } from './prng';

/** csvlog.c appendCSVLiteral: always quoted, inner quotes doubled. null: the empty (unquoted) field. */
export const csvLiteral = (v: string | null): string =>
  (v === null ? '' : v.indexOf('"') < 0 ? `"${v}"` : `"${v.replace(/"/g, '""')}"`);
/** pgaudit append_valid_csv: quoted only if it holds a comma, quote, CR or LF. */
export const validCsv = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

const MILLIS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}`);
let cachedSecond = NaN;
let cachedBase = '';
/** A csvlog timestamp (log_time with milliseconds, session_start_time without), UTC; years 1000 to 9999. */
export function pgTime(ms: number, withMillis: boolean): string {
  // Formatted once a second (rows come a few ms apart, millions of them): the generators' hottest spot.
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();   // 2026-11-24T08:00:00.000Z
    cachedSecond = second;
    cachedBase = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  return withMillis ? `${cachedBase}${MILLIS[ms - second * 1000]} UTC` : `${cachedBase} UTC`;
}

/** The columns of one csvlog row that a generator chooses; the others are empty as in a plain LOG line. */
export interface CsvlogColumns {
  logTimeMs: number;
  user: string | null;
  database: string | null;
  pid: number;
  connectionFrom: string | null;
  sessionId: string;
  sessionLineNum: number;
  /** null for a background process (the column is then empty). */
  commandTag: string | null;
  sessionStartMs: number;
  /** '' for a process without one. */
  virtualTransactionId: string;
  transactionId?: number;
  severity?: string;
  sqlState?: string;
  message: string;
  detail?: string;
  context?: string;
  query?: string;
  queryPos?: number;
  applicationName: string;
  backendType: string;
  queryId?: bigint;
}

/** One csvlog row (PostgreSQL 15: 26 columns), trailing LF included. */
export function csvlogRow(c: CsvlogColumns): string {
  // One join, not a template: a flat string (millions of rows of many small pieces keep the collector busy otherwise).
  return [pgTime(c.logTimeMs, true), csvLiteral(c.user), csvLiteral(c.database), c.pid, csvLiteral(c.connectionFrom),
    c.sessionId, c.sessionLineNum, csvLiteral(c.commandTag), pgTime(c.sessionStartMs, false), c.virtualTransactionId,
    c.transactionId ?? 0, c.severity ?? 'LOG', c.sqlState ?? '00000', csvLiteral(c.message), csvLiteral(c.detail ?? null), '', '', '',
    csvLiteral(c.context ?? null), csvLiteral(c.query ?? null), c.queryPos ?? '', '', csvLiteral(c.applicationName),
    csvLiteral(c.backendType), '', c.queryId ?? 0].join(',') + '\n';
}

/** What one pgaudit line says, before pgaudit's CSV rule is applied. */
export interface PgauditFields {
  auditType: string;
  statementId: number;
  substatementId: number;
  class: string;
  command: string;
  objectType: string;
  objectName: string;
  /** The statement, or `<not logged>` / `<previously logged>`. */
  statement: string;
  /** The parameters (null written as an empty field), or `<not logged>` / `<previously logged>`. */
  parameters: readonly (string | null)[] | string;
  /** Only with pgaudit.log_rows on. */
  rows?: number;
}

/** The message of a pgaudit line: `AUDIT: ` and the fields, as append_valid_csv writes them. */
export function pgauditMessage(f: PgauditFields): string {
  const params = typeof f.parameters === 'string' ? f.parameters
    : f.parameters.length === 0 ? '<none>' : validCsv(f.parameters.map((p) => validCsv(p ?? '')).join(','));
  return `AUDIT: ${f.auditType},${f.statementId},${f.substatementId},${validCsv(f.class)},${validCsv(f.command)},${validCsv(f.objectType)},`
    + `${validCsv(f.objectName)},${validCsv(f.statement)},${params}${f.rows === undefined ? '' : `,${f.rows}`}`;
}

// ---------------------------------------------------------------------------------------------------
// The bench's generator

const USERS = ['app_user', 'analyst', 'avnadmin', 'etl', 'reporting'];
const DATABASES = ['shop', 'billing', 'analytics'];
const TABLES = ['public.accounts', 'public.orders', 'billing.invoices', 'public.customers', 'analytics.events'];
const KINDS = [
  { w: 40, cls: 'READ', cmd: 'SELECT', sql: (t: string, r: () => number) => `SELECT id, owner, note FROM ${t} WHERE id = $1${r() < 0.2 ? '\n  AND note LIKE \'%, "x"%\'' : ''}` },
  { w: 25, cls: 'WRITE', cmd: 'INSERT', sql: (t: string) => `INSERT INTO ${t} (id, owner, note) VALUES ($1, $2, $3)` },
  { w: 12, cls: 'WRITE', cmd: 'UPDATE', sql: (t: string) => `UPDATE ${t} SET note = $2 WHERE id = $1` },
  { w: 5, cls: 'WRITE', cmd: 'DELETE', sql: (t: string) => `DELETE FROM ${t} WHERE id = $1` },
  { w: 6, cls: 'DDL', cmd: 'CREATE TABLE', sql: (t: string) => `CREATE TABLE IF NOT EXISTS ${t}_copy (LIKE ${t})` },
  { w: 4, cls: 'ROLE', cmd: 'GRANT', sql: (t: string) => `GRANT SELECT ON ${t} TO analyst` },
  { w: 4, cls: 'FUNCTION', cmd: 'DO', sql: () => `DO $$ BEGIN PERFORM pg_sleep(0); END $$` },
  { w: 4, cls: 'MISC', cmd: 'VACUUM', sql: (t: string) => `VACUUM ${t}` },
];
const TOTAL_W = KINDS.reduce((s, k) => s + k.w, 0);

export interface GeneratedLog {
  auditLines: number;
  /** csvlog records (rows). */
  rows: number;
  /** Physical lines: a row whose statement spans lines counts each of them. */
  lines: number;
  sessions: number;
  /** The time after the last row: where a following file starts. */
  endMs: number;
}

export interface GeneratorOptions {
  seed: number;
  /** Time of the first row (ms since the epoch). */
  start: number;
  /** Time between two rows: 2 ms packs a million events into about 40 minutes; 250 ms spreads 10M over about 35 days. */
  stepMs: number;
  /** Sessions are numbered from here: files written one after another must not reuse (session id, line number). */
  firstSession: number;
}
const DEFAULTS: GeneratorOptions = { seed: 42, start: Date.UTC(2026, 10, 24, 8, 0, 0), stepMs: 2, firstSession: 0 };

/**
 * Rows (each with its newline) of a csvlog holding `auditLines` pgaudit rows plus non-audit rows (session
 * starts, durations: about one row in nine), `stepMs` apart. Sessions of 50 statements; (session id, line number) is unique.
 * Returns the counts, the sessions used and the time after the last row when done.
 */
export function* csvlogRows(auditLines: number, options: Partial<GeneratorOptions> = {}): Generator<string, GeneratedLog> {
  const { seed, start, stepMs, firstSession } = { ...DEFAULTS, ...options };
  const r = prng(seed);
  let rows = 0;
  let lines = 0;
  let audit = 0;
  let lineNum = 0;
  let session = firstSession;
  let statementId = 0;
  let user = USERS[0]!;
  let db = DATABASES[0]!;
  let time = start;
  let sessionStart = time;
  const row = (message: string) => {
    time += stepMs;
    lineNum += 1;
    rows += 1;
    for (let i = message.indexOf('\n'); i >= 0; i = message.indexOf('\n', i + 1)) lines += 1;
    lines += 1;
    return csvlogRow({ logTimeMs: time, user, database: db, pid: 8800 + session, connectionFrom: `127.0.0.1:5${1000 + (session % 9000)}`,
      sessionId: `6b05${(0xe4ad + session).toString(16)}.${(0x2260 + session).toString(16)}`, sessionLineNum: lineNum, commandTag: 'SELECT',
      sessionStartMs: sessionStart, virtualTransactionId: `3/${lineNum}`, message, applicationName: 'bench-app', backendType: 'client backend' });
  };
  while (audit < auditLines) {
    if (statementId % 50 === 0) {
      session += 1; lineNum = 0; statementId = 0; sessionStart = time;
      user = USERS[Math.floor(r() * USERS.length)]!;
      db = DATABASES[Math.floor(r() * DATABASES.length)]!;
      yield row(`connection authorized: user=${user} database=${db}`);
    }
    let pick = r() * TOTAL_W;
    const kind = KINDS.find((k) => (pick -= k.w) < 0) ?? KINDS[0]!;
    const table = TABLES[Math.floor(r() * TABLES.length)]!;
    statementId += 1;
    const statement = kind.sql(table, r);
    const parameters = statement.includes('$1')
      ? [String(Math.floor(r() * 1e6)), `owner ${Math.floor(r() * 1000)}, "vip"`, r() < 0.1 ? 'ünïcödé 日本' : 'plain']
      : [];
    const objectType = kind.cls === 'READ' || kind.cls === 'WRITE' || kind.cmd === 'CREATE TABLE' ? 'TABLE' : '';
    const objectName = objectType ? table : '';
    const rowCount = kind.cls === 'READ' || kind.cls === 'WRITE' ? Math.floor(r() * 100) : 0;
    const fields = (auditType: string) => pgauditMessage({ auditType, statementId, substatementId: 1, class: kind.cls, command: kind.cmd,
      objectType, objectName, statement, parameters, rows: rowCount });
    yield row(fields('SESSION'));
    audit += 1;
    if (audit < auditLines && kind.cls !== 'DDL' && objectType && r() < 0.1) { yield row(fields('OBJECT')); audit += 1; }
    if (r() < 0.1) yield row(`duration: ${(r() * 10).toFixed(3)} ms`);
  }
  return { auditLines: audit, rows, lines, sessions: session - firstSession, endMs: time };
}

/** The whole log as one string (small sizes). */
export function generateCsvlog(auditLines: number, options: Partial<GeneratorOptions> = {}): GeneratedLog & { text: string } {
  const parts: string[] = [];
  const it = csvlogRows(auditLines, options);
  for (let n = it.next(); ; n = it.next()) {
    if (n.done) return { ...n.value, text: parts.join('') };
    parts.push(n.value);
  }
}

/** Write the log to a file in ~1 MB writes, with flat memory whatever the size. */
export async function writeCsvlog(file: string, auditLines: number, options: Partial<GeneratorOptions> = {}): Promise<GeneratedLog & { bytes: number }> {
  const out = createWriteStream(file);
  const it = csvlogRows(auditLines, options);
  let buffer = '';
  let bytes = 0;
  for (let n = it.next(); ; n = it.next()) {
    if (n.done || buffer.length > 1 << 20) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffer = '';
    }
    if (n.done) {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      return { ...n.value, bytes };
    }
    buffer += n.value;
  }
}
