/**
 * A deterministic (seeded) generator of PostgreSQL 15 csvlog files holding pgaudit lines, for ingest
 * tests that need more than the real fixture's ~70 lines. Rows and AUDIT messages are written by the
 * row writer the benchmark's generator uses too (bench/csvlog-generator.ts: csvlogRow, pgauditMessage,
 * as PostgreSQL's csvlog.c and pgaudit's append_valid_csv write them); this file chooses what they say.
 *
 * Content: interleaved client sessions (TCP and Unix socket, several users, databases and application
 * names, one database name with a comma and quotes) with connection/disconnection lines, SESSION and
 * OBJECT audit lines of every class, statements with commas, quotes, LF and CRLF line breaks, multi-byte
 * UTF-8 and text that itself looks like a csvlog row; parameters (with NULLs, commas, quotes, newlines),
 * `<none>`, `<not logged>`, `<previously logged>`; sessions with and without log_rows. In between:
 * ERROR lines (with the statement in the query column), duration lines, checkpointer and multi-line
 * autovacuum lines, and now and then a forged `RAISE LOG 'AUDIT: ...'` line (it has a CONTEXT, so the
 * ingester must dead-letter it rather than index it).
 *
 * (session_id, session_line_num) is unique per row, as PostgreSQL guarantees. The generator knows, for
 * every row, its byte range and (for an audit line) the event the ingester must produce from it.
 * Pure: no I/O.
 */
import type { AuditEvent } from '../../src/modules/audit-events/event.document';
import { csvlogRow, pgauditMessage, pgTime } from '../../bench/csvlog-generator';
import { prng } from '../../bench/prng';

/** The event the ingester must produce for an audit row: the ingest event less its id and service, with a session identity. */
export type ExpectedAuditEvent = Omit<AuditEvent, 'id' | 'serviceId' | 'sessionId' | 'sessionLineNum'> & { sessionId: string; sessionLineNum: number };

export interface CsvlogRow {
  /** The row as written, trailing LF included. */
  text: string;
  /** Byte range of the row in the file: [startOffset, endOffset). */
  startOffset: number;
  endOffset: number;
  sessionId: string;
  sessionLineNum: number;
  kind: 'audit' | 'forged' | 'other';
  /** For kind 'audit': the event the ingester must index for this row. */
  event?: ExpectedAuditEvent;
}

export interface GeneratedCsvlog {
  rows: CsvlogRow[];
  /** The whole file. */
  bytes: Buffer;
  audit: CsvlogRow[];
  forged: CsvlogRow[];
}

export interface CsvlogOptions {
  seed: number;
  /** Exactly this many pgaudit lines (kind 'audit'). */
  auditLines: number;
  /** log_time of the first row. Rows of files generated with start times far enough apart never share a session id. */
  start: Date;
  /** One forged RAISE LOG line per this many rows, on average (0: none). Default 2000. */
  forgedEvery?: number;
}


const pad = (n: number, w = 2) => String(n).padStart(w, '0');

interface Session {
  id: string;
  pid: number;
  startMs: number;
  line: number;
  statementId: number;
  backendId: number;
  lxid: number;
  user: string | null;
  database: string | null;
  connectionFrom: string | null;
  application: string | null;
  backendType: string;
  /** pgaudit settings of this session's database/role. */
  logRows: boolean;
  logParameter: boolean;
  logStatement: boolean;
  logStatementOnce: boolean;
  objectAudit: boolean;
  /** compute_query_id on: statements' lines carry a query id. */
  computeQueryId: boolean;
}

interface AuditEntry {
  class: string; command: string; objectType?: string; objectName?: string;
  statement: string; parameters?: (string | null)[]; rows: number; auditType?: 'SESSION' | 'OBJECT'; substatementId?: number;
}

const USERS = ['avnadmin', 'app_user', 'analyst', 'etl-bot', 'Zoë'];
const DATABASES = ['shop', 'analytics', 'defaultdb', 'sales "eu", 2026'];
const APPLICATIONS = ['psql', 'pgAdmin 4 - DB:shop', '', 'billing-worker, v2.3', 'node-postgres'];
const CUSTOMERS = ['ACME, Inc.', 'Zoë Ü', 'Bob\'s Bikes', 'The "Quoted" Co', '日本の会社', 'multi\nline\ncustomer', '', 'plain'];

export function generateCsvlog(opts: CsvlogOptions): GeneratedCsvlog {
  const rnd = prng(opts.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const forgedEvery = opts.forgedEvery ?? 2000;

  const rows: CsvlogRow[] = [];
  let offset = 0;
  let now = opts.start.getTime();
  let xid = 100_000 + int(0, 100_000);
  const usedIds = new Set<string>();
  const open: Session[] = [];
  let auditCount = 0;

  const newSession = (kind: 'client' | 'checkpointer' | 'autovacuum'): Session => {
    const startMs = kind === 'checkpointer' ? opts.start.getTime() - 3 * 86_400_000 : now;
    let pid: number;
    let id: string;
    do {
      pid = int(1000, 4_000_000);
      id = `${Math.floor(startMs / 1000).toString(16)}.${pid.toString(16)}`;
    } while (usedIds.has(id));
    usedIds.add(id);
    const local = chance(0.3);
    return {
      id, pid, startMs, line: kind === 'checkpointer' ? int(100, 5000) : 0, statementId: 0, backendId: int(3, 60), lxid: int(1, 5000),
      user: kind === 'client' ? pick(USERS) : null,
      database: kind === 'client' ? pick(DATABASES) : null,
      connectionFrom: kind === 'client' ? (local ? '[local]' : `10.0.${int(0, 9)}.${int(2, 250)}:${int(32768, 60999)}`) : null,
      application: kind === 'client' ? pick(APPLICATIONS) : null,
      backendType: kind === 'client' ? 'client backend' : kind === 'checkpointer' ? 'checkpointer' : 'autovacuum worker',
      logRows: chance(0.7), logParameter: chance(0.6), logStatement: chance(0.95), logStatementOnce: chance(0.15), objectAudit: chance(0.5),
      computeQueryId: chance(0.3),
    };
  };

  /** One csvlog row of `s` (26 columns, PostgreSQL 15), appended to the file. */
  const emit = (s: Session, r: { anonymous?: boolean; tag?: string | null; severity?: string; state?: string; message: string; detail?: string; context?: string; query?: string; queryPos?: number;
    txid?: number; queryId?: bigint; kind?: CsvlogRow['kind']; event?: Omit<ExpectedAuditEvent, 'timestamp' | 'user' | 'database' | 'sessionId' | 'sessionLineNum' | 'applicationName' | 'remoteHost'> }) => {
    now += int(0, 2);
    s.line += 1;
    const client = s.backendType === 'client backend';
    const text = csvlogRow({ logTimeMs: now, user: r.anonymous ? null : s.user, database: r.anonymous ? null : s.database, pid: s.pid,
      connectionFrom: s.connectionFrom, sessionId: s.id, sessionLineNum: s.line, commandTag: client ? r.tag ?? 'idle' : null,
      sessionStartMs: s.startMs, virtualTransactionId: client || s.backendType === 'autovacuum worker' ? `${s.backendId}/${s.lxid}` : '',
      transactionId: r.txid, severity: r.severity, sqlState: r.state, message: r.message, detail: r.detail, context: r.context, query: r.query,
      queryPos: r.queryPos, applicationName: r.anonymous ? '' : s.application ?? '', backendType: s.backendType, queryId: r.queryId });
    const length = Buffer.byteLength(text, 'utf8');
    const row: CsvlogRow = { text, startOffset: offset, endOffset: offset + length, sessionId: s.id, sessionLineNum: s.line, kind: r.kind ?? 'other' };
    if (r.event) {
      const host = s.connectionFrom === null ? null : s.connectionFrom === '[local]' ? '[local]' : s.connectionFrom.slice(0, s.connectionFrom.lastIndexOf(':'));
      row.event = { timestamp: new Date(now).toISOString(), ...r.event, user: s.user, database: s.database, sessionId: s.id, sessionLineNum: s.line,
        applicationName: s.application === '' ? null : s.application, remoteHost: host };
    }
    offset += length;
    rows.push(row);
  };

  /** One statement of a client session: its audit lines (pgaudit), maybe a duration line after them. */
  const statement = (s: Session) => {
    s.statementId += 1;
    s.lxid += 1;
    const id = int(1, 99_999);
    const customer = pick(CUSTOMERS);
    const queryId = s.computeQueryId ? BigInt.asIntN(64, BigInt(int(1, 2 ** 31)) * 4_294_967_311n) : undefined;   // signed, as %lld
    const entries: AuditEntry[] = [];
    let tag: string;
    let txid = 0;
    switch (int(0, 13)) {
      case 0:
        tag = 'SELECT';
        entries.push({ class: 'READ', command: 'SELECT', statement: 'select id, name, email from public.account where id = $1', parameters: [String(id)], rows: int(0, 1) });
        if (s.objectAudit) entries.push({ ...entries[0]!, auditType: 'OBJECT', objectType: 'TABLE', objectName: 'public.account' });
        break;
      case 1:
        tag = 'SELECT';
        entries.push({ class: 'READ', command: 'SELECT', rows: int(0, 500),
          statement: `select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.name like '${pick(['A%', 'Zo%', '%, %'])}'\norder by 1;` });
        break;
      case 2:
      case 3:
        tag = 'INSERT'; txid = ++xid;
        entries.push({ class: 'WRITE', command: 'INSERT', rows: 1, statement: 'insert into billing.invoice (customer, amount, note) values ($1, $2, $3)',
          parameters: [customer, `${int(0, 9999)}.${pad(int(0, 99))}`, chance(0.3) ? null : pick(['first "quoted" note', 'a, b, c', 'it\'s\r\nCRLF', '']) ] });
        if (s.objectAudit) entries.push({ ...entries[0]!, auditType: 'OBJECT', objectType: 'TABLE', objectName: 'billing.invoice' });
        break;
      case 4:
        tag = 'UPDATE'; txid = ++xid;
        entries.push({ class: 'WRITE', command: 'UPDATE', rows: int(0, 3), statement: `update billing.invoice set note = 'it''s "paid", thanks' where id = ${id};` });
        break;
      case 5:
        tag = 'DELETE'; txid = ++xid;
        entries.push({ class: 'WRITE', command: 'DELETE', rows: int(0, 20), statement: `delete from billing.invoice where amount > ${int(1000, 5000)};` });
        break;
      case 6: {
        tag = 'CREATE TABLE'; txid = ++xid;
        const table = `public.tmp_${s.statementId}_${int(0, 999)}`;
        const text = `create table ${table} (id serial primary key, "odd, name" text, note text default 'n/a');`;
        entries.push({ class: 'DDL', command: 'CREATE TABLE', objectType: 'TABLE', objectName: table, statement: text, rows: 0 },
          { class: 'DDL', command: 'CREATE INDEX', objectType: 'INDEX', objectName: `${table}_pkey`, statement: text, rows: 0 },
          { class: 'DDL', command: 'ALTER SEQUENCE', objectType: 'SEQUENCE', objectName: `${table}_id_seq`, statement: text, rows: 0 });
        break;
      }
      case 7:
        tag = 'GRANT'; txid = ++xid;
        entries.push({ class: 'ROLE', command: 'GRANT', objectType: 'TABLE', statement: `grant select, update on public.account to ${pick(['analyst', 'auditor', '"Zoë"'])};`, rows: 0 });
        break;
      case 8:
        tag = 'SELECT';
        entries.push({ class: 'FUNCTION', command: 'EXECUTE', objectType: 'FUNCTION', objectName: 'billing.total', statement: 'select billing.total($1)', parameters: [customer], rows: 0 },
          { class: 'READ', command: 'SELECT', statement: ' select coalesce(sum(amount),0) from billing.invoice where customer = c ', parameters: [customer], rows: 1, substatementId: 2 },
          { class: 'READ', command: 'SELECT', statement: 'select billing.total($1)', parameters: [customer], rows: 1, substatementId: 3 });
        break;
      case 9:
        tag = pick(['BEGIN', 'COMMIT', 'VACUUM', 'ANALYZE']);
        entries.push({ class: 'MISC', command: tag, statement: `${tag.toLowerCase()}${tag === 'VACUUM' || tag === 'ANALYZE' ? ' public.account' : ''};`, rows: 0 });
        break;
      case 10:
        tag = 'DO';
        entries.push({ class: 'FUNCTION', command: 'DO', rows: 0, statement: 'do $$\nbegin\n  perform 1;\n  raise notice \'done, "ok"\';\nend\n$$;' },
          { class: 'READ', command: 'SELECT', statement: 'SELECT 1', rows: 1, substatementId: 2 });
        break;
      case 11:
        tag = 'SELECT';   // a statement whose text looks like csvlog rows: only quote parity may tell
        entries.push({ class: 'READ', command: 'SELECT', rows: 1,
          statement: `select '\n${pgTime(now, true)},"avnadmin","shop",1,"[local]",6b05e4b1.22aa,1,"SELECT",${pgTime(now, false)},3/1,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>,1",,,,,,,,,"psql","client backend",,0\n' as fake_row;` });
        break;
      case 12:
        tag = 'COPY';
        entries.push({ class: 'READ', command: 'COPY', statement: 'copy public.account to stdout with (format csv, header);', rows: int(0, 100) });
        break;
      default:
        tag = 'SELECT';
        entries.push({ class: 'READ', command: 'SELECT', statement: 'select 1\r\n  as windows_line_endings, \'日本\' as "名前";', rows: 1 });
    }
    for (const e of entries) {
      if (auditCount >= opts.auditLines) break;
      const subId = e.substatementId ?? 1;
      const repeated = s.logStatementOnce && e.auditType === 'OBJECT';   // log_statement_once: text with the first entry of a (sub)statement only
      const statementStatus = !s.logStatement ? 'NOT_LOGGED' : repeated ? 'PREVIOUSLY_LOGGED' : 'LOGGED';
      const params = !s.logParameter || !s.logStatement ? null : repeated ? null : (e.parameters ?? []);
      const auditType = e.auditType ?? 'SESSION';
      const message = pgauditMessage({ auditType, statementId: s.statementId, substatementId: subId, class: e.class, command: e.command,
        objectType: e.objectType ?? '', objectName: e.objectName ?? '',
        statement: statementStatus === 'NOT_LOGGED' ? '<not logged>' : statementStatus === 'PREVIOUSLY_LOGGED' ? '<previously logged>' : e.statement,
        parameters: !s.logParameter || !s.logStatement ? '<not logged>' : repeated ? '<previously logged>' : params!,
        rows: s.logRows ? e.rows : undefined });
      auditCount += 1;
      emit(s, { tag, txid, queryId, message, kind: 'audit', event: {
        auditType, statementId: s.statementId, substatementId: subId, class: e.class, command: e.command,
        objectType: e.objectType || null, objectName: e.objectName || null,
        statement: statementStatus === 'LOGGED' ? e.statement : null, statementStatus,
        parameters: params === null ? null : params.map((p) => p ?? ''), rows: s.logRows ? e.rows : null } });
    }
    if (chance(0.15)) emit(s, { tag, queryId, message: `duration: ${int(0, 900)}.${pad(int(0, 999), 3)} ms` });
  };

  const checkpointer = newSession('checkpointer');
  const sessions = () => open.filter((s) => s.backendType === 'client backend');

  while (auditCount < opts.auditLines) {
    const clients = sessions();
    const roll = rnd();
    if (clients.length < 3 || (roll < 0.02 && clients.length < 25)) {
      const s = newSession('client');
      open.push(s);
      emit(s, { anonymous: true, tag: '', message: `connection received: host=${s.connectionFrom === '[local]' ? '[local]' : s.connectionFrom!.replace(/:(\d+)$/, ' port=$1')}` });
      emit(s, { tag: 'authentication', message: `connection authorized: user=${s.user} database=${s.database}${s.application ? ` application_name=${s.application}` : ''}` });
    } else if (roll < 0.03) {
      const s = pick(clients);
      emit(s, { tag: 'idle', message: `disconnection: session time: 0:00:${pad(int(0, 59))}.${pad(int(0, 999), 3)} user=${s.user} database=${s.database} host=${s.connectionFrom === '[local]' ? '[local]' : s.connectionFrom!.replace(/:(\d+)$/, ' port=$1')}` });
      open.splice(open.indexOf(s), 1);
    } else if (roll < 0.035) {
      emit(checkpointer, { message: 'checkpoint starting: time' });
      emit(checkpointer, { message: `checkpoint complete: wrote ${int(1, 999)} buffers (${int(0, 9)}.${int(0, 9)}%); 0 WAL file(s) added, 0 removed, 1 recycled; write=0.${pad(int(0, 999), 3)} s, sync=0.002 s, total=0.${pad(int(0, 999), 3)} s; sync files=12, longest=0.001 s, average=0.001 s; distance=${int(1, 9999)} kB, estimate=${int(1, 9999)} kB` });
    } else if (roll < 0.04) {
      const av = newSession('autovacuum');
      emit(av, { message: `automatic vacuum of table "shop.public.account": index scans: 0\npages: 0 removed, ${int(1, 99)} remain, ${int(1, 9)} scanned (10.00% of total)\ntuples: ${int(0, 99)} removed, ${int(100, 999)} remain, 0 are dead but not yet removable\navg read rate: 0.000 MB/s, avg write rate: 0.000 MB/s\nsystem usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.00 s` });
    } else if (roll < 0.05) {
      const s = pick(clients);
      const [state, message, query, tag] = pick([
        ['42P01', 'relation "missing_table" does not exist', 'select * from missing_table;', 'SELECT'],
        ['22012', 'division by zero', 'select "Zoë", 1/0 from public.account;', 'SELECT'],
        ['23505', 'duplicate key value violates unique constraint "invoice_pkey"', 'insert into billing.invoice values (1,\n  \'dup, key\');', 'INSERT'],
      ] as const);
      emit(s, { tag, severity: 'ERROR', state, message, query, queryPos: 15,
        ...(state === '23505' ? { detail: 'Key (id)=(1) already exists.' } : {}) });
    } else if (forgedEvery > 0 && roll < 0.05 + 1 / forgedEvery) {
      const s = pick(clients);
      // a user's function doing RAISE LOG 'AUDIT: ...': CONTEXT attached, so not pgaudit's
      emit(s, { tag: 'SELECT', kind: 'forged', message: 'AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>,1',
        context: 'PL/pgSQL function forge_audit() line 3 at RAISE', query: 'select forge_audit();' });
    } else {
      statement(pick(clients));
    }
  }

  const bytes = Buffer.from(rows.map((r) => r.text).join(''), 'utf8');
  if (bytes.length !== offset) throw new Error('csvlog generator: byte accounting is off');
  return { rows, bytes, audit: rows.filter((r) => r.kind === 'audit'), forged: rows.filter((r) => r.kind === 'forged') };
}
