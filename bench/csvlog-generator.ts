/**
 * A deterministic generator of realistic PostgreSQL csvlog files with pgaudit lines, shaped after
 * ../shared/samples/pgaudit-pg15: a mix of classes and commands, users, databases, statement lengths,
 * parameters (with quotes and commas), OBJECT rows, multi-line statements, ROWS, and non-audit lines
 * in between. Same seed, same bytes.
 */
const csv = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);


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

import { createWriteStream } from 'node:fs';
import { prng } from '../test/support/prng';

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
  const stamp = () => new Date(time).toISOString().replace('T', ' ').replace('Z', ' UTC');
  const row = (message: string) => {
    time += stepMs;
    lineNum += 1;
    const sid = `6b05${(0xe4ad + session).toString(16)}.${(0x2260 + session).toString(16)}`;
    rows += 1;
    for (let i = message.indexOf('\n'); i >= 0; i = message.indexOf('\n', i + 1)) lines += 1;
    lines += 1;
    return [stamp(), user, db, String(8800 + session), '127.0.0.1:5' + String(1000 + (session % 9000)), sid, String(lineNum),
      'SELECT', stamp(), `3/${lineNum}`, '0', 'LOG', '00000', csv(message), '', '', '', '', '', '', '', '', 'bench-app', 'client backend', '', '0'].join(',') + '\n';
  };
  while (audit < auditLines) {
    if (statementId % 50 === 0) {
      session += 1; lineNum = 0; statementId = 0;
      user = USERS[Math.floor(r() * USERS.length)]!;
      db = DATABASES[Math.floor(r() * DATABASES.length)]!;
      yield row(`connection authorized: user=${user} database=${db}`);
    }
    let pick = r() * TOTAL_W;
    const kind = KINDS.find((k) => (pick -= k.w) < 0) ?? KINDS[0]!;
    const table = TABLES[Math.floor(r() * TABLES.length)]!;
    statementId += 1;
    const statement = kind.sql(table, r);
    const params = statement.includes('$1')
      ? csv([String(Math.floor(r() * 1e6)), `owner ${Math.floor(r() * 1000)}, "vip"`, r() < 0.1 ? 'ünïcödé 日本' : 'plain'].map(csv).join(','))
      : '<none>';
    const objectType = kind.cls === 'READ' || kind.cls === 'WRITE' || kind.cmd === 'CREATE TABLE' ? 'TABLE' : '';
    const objectName = objectType ? table : '';
    const rows = kind.cls === 'READ' || kind.cls === 'WRITE' ? String(Math.floor(r() * 100)) : '0';
    const fields = (type: string) => `AUDIT: ${type},${statementId},1,${kind.cls},${kind.cmd},${objectType},${objectName},${csv(statement)},${params},${rows}`;
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
