import * as fs from 'fs';
import * as path from 'path';
import { INDEX_TEMPLATE } from '../audit-events/event.index';
import type { AuditEvent } from '../audit-events/event.document';
import { auditEventOf, eventId, positionEventId, recordEventId, streamEventId, toAuditEvent } from './audit-event';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
import { StderrSplitter } from './formats/stderr.splitter';
import { LogItem, LogRecord } from './log-record';
import { parseAuditMessage, PgauditRecord } from './pgaudit-record';
import { prng } from '../../../bench/prng';

const FIX = path.join(__dirname, 'fixtures', 'pgaudit-pg15');
const read = (f: string) => fs.readFileSync(path.join(FIX, f));
const SERVICE = 'svc_01';

function all(s: { push(c: Uint8Array | string): LogItem[]; end(): LogItem[] }, input: Uint8Array | string | (Uint8Array | string)[]): LogRecord[] {
  const out = [...(Array.isArray(input) ? input : [input]).flatMap((c) => s.push(c)), ...s.end()];
  return out.map((i) => {
    if (!i.ok) throw new Error(`malformed: ${i.reason}: ${i.excerpt}`);
    return i.record;
  });
}
function events(recs: LogRecord[], source?: string): AuditEvent[] {
  return recs.flatMap((r) => {
    const x = auditEventOf(SERVICE, r, source);
    if (x.kind === 'rejected') throw new Error(`rejected: ${x.reason}: ${r.message}`);
    return x.kind === 'event' ? [x.event] : [];
  });
}

const rec = (o: Partial<LogRecord> = {}): LogRecord => ({
  format: 'csvlog', timestamp: '2026-11-24T19:25:37.255Z', user: 'avnadmin', database: 'shop', pid: 8874, remoteHost: '[local]', remotePort: null,
  sessionId: '6b05e4b1.22aa', sessionLineNum: 37, applicationName: 'psql', severity: 'LOG',
  message: 'AUDIT: OBJECT,25,1,READ,SELECT,TABLE,public.account,select 1,<none>,2', context: null, query: null, endOffset: 1234, ...o,
});

describe('eventId', () => {
  it('is deterministic, 32 base64url characters', () => {
    const id = eventId(SERVICE, '6b05e4b1.22aa', 37);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(eventId(SERVICE, '6b05e4b1.22aa', 37)).toBe(id);
  });
  it('differs for every input part, with no separator ambiguity', () => {
    const ids = new Set([
      eventId(SERVICE, '6b05e4b1.22aa', 37), eventId('svc_02', '6b05e4b1.22aa', 37), eventId(SERVICE, '6b05e4b1.22ab', 37),
      eventId(SERVICE, '6b05e4b1.22aa', 38), eventId('a', 'b.c', 1), eventId('a","b', 'c', 1), eventId('a', '","b", "c', 1),
      streamEventId(SERVICE, 'stream:a', '6b05e4b1.22aa', 37, '2026-11-24T19:25:37.255Z'), positionEventId(SERVICE, '6b05e4b1.22aa', 37),
      positionEventId(SERVICE, 'postgresql-2026-11-24.log', 1234), positionEventId(SERVICE, 'postgresql-2026-11-24.log', 1235),
    ]);
    expect(ids.size).toBe(11);
  });
  it('ids are stable: these values were made by the original createHash/JSON.stringify code (stored documents depend on them)', () => {
    // In this order on purpose: the service and the namespace change between calls.
    expect([
      eventId('svc_01', '6b05e4b1.22aa', 37), eventId('svc_02', '6b05e4b1.22aa', 37),
      eventId('a","b', 'ü \\ \u2028 "', 0), positionEventId('svc_01', 'postgresql-2026-11-24.log', 1234), eventId('svc_01', '6b05e4b1.22aa', 2 ** 53 - 1),
    ]).toEqual(['uFPoZF1lOfuuzxCIi0WzMNnLcXsE1C9i', '67jnWO96fPeNaoI56d5MEkPPnTRKkyO_',
      '7nP07dBYdImnidTuhS5jcd8tQOiMsbA5', 'Z291ZLa8tkx54ssVmvSOdCGgeFmg6ob5', 'ozaGvnaOJBprG_7QpjVFdJQOAnluejeE']);
  });
  it('refuses what cannot identify a line', () => {
    expect(() => eventId('', 'a.b', 1)).toThrow(TypeError);
    expect(() => eventId(SERVICE, '', 1)).toThrow(TypeError);
    expect(() => eventId(SERVICE, 'a.b', 1.5)).toThrow(TypeError);
    expect(() => eventId(SERVICE, 'a.b', 2 ** 60)).toThrow(TypeError);
    expect(() => positionEventId(SERVICE, '', 1)).toThrow(TypeError);
    expect(() => positionEventId(SERVICE, 'f', -1)).toThrow(TypeError);
  });
});

describe('toAuditEvent / auditEventOf', () => {
  const audit = (m: string): PgauditRecord => {
    const r = parseAuditMessage(m);
    if (!r || !r.ok) throw new Error('bad');
    return r.record;
  };

  it('the document: every pgaudit field + log fields + serviceId, id from (service, session, line)', () => {
    const r = rec();
    expect(toAuditEvent(SERVICE, r, audit(r.message))).toEqual({
      id: eventId(SERVICE, '6b05e4b1.22aa', 37), serviceId: SERVICE, timestamp: '2026-11-24T19:25:37.255Z',
      auditType: 'OBJECT', statementId: 25, substatementId: 1, class: 'READ', command: 'SELECT', objectType: 'TABLE',
      objectName: 'public.account', statement: 'select 1', statementStatus: 'LOGGED', parameters: [], rows: 2,
      user: 'avnadmin', database: 'shop', sessionId: '6b05e4b1.22aa', sessionLineNum: 37, applicationName: 'psql', remoteHost: '[local]',
    });
  });

  it('has exactly the fields of the strict index mapping, once the store adds the tenant fields, the sort tiebreak, ingestedAt and the searchTerms', () => {
    const e = toAuditEvent(SERVICE, rec(), audit(rec().message));
    const mapped = Object.keys(INDEX_TEMPLATE.template.mappings.properties).sort();
    // `redaction`: added by the ingester's Redactor when the service has rules on (src/modules/redaction)
    expect([...Object.keys(e), 'projectId', 'organizationId', 'tiebreak', 'redaction', 'ingestedAt', 'searchTerms'].sort()).toEqual(mapped);
  });

  it('csvlog and jsonlog records of one line get the same id; stderr %l numbering another one', () => {
    const a = recordEventId(SERVICE, rec());
    expect(recordEventId(SERVICE, rec({ format: 'jsonlog', endOffset: 99 }))).toBe(a);
    expect(recordEventId(SERVICE, rec({ format: 'stderr' }), 'stream:a')).toBe(streamEventId(SERVICE, 'stream:a', '6b05e4b1.22aa', 37, '2026-11-24T19:25:37.255Z'));
    expect(recordEventId(SERVICE, rec({ format: 'stderr' }), 'stream:a')).not.toBe(a);
  });

  it('a stream line never gets the id of a file event or of another stream\'s event, whatever %c/%l it claims', () => {
    const file = recordEventId(SERVICE, rec(), 'file:postgresql.csv@1:2:ab');
    const fromA = recordEventId(SERVICE, rec({ format: 'stderr' }), 'stream:a');
    const fromB = recordEventId(SERVICE, rec({ format: 'stderr' }), 'stream:b');
    expect(new Set([file, fromA, fromB]).size).toBe(3);
    // a stderr record without a source has no id (it would otherwise share one across streams)
    expect(recordEventId(SERVICE, rec({ format: 'stderr' }))).toBeNull();
    // no separator ambiguity between the source and the session id
    expect(streamEventId(SERVICE, 'a","b', 'c', 1, '2026-11-24T19:25:37.255Z')).not.toBe(streamEventId(SERVICE, 'a', 'b","c', 1, '2026-11-24T19:25:37.255Z'));
    // the same line sent again keeps its id; the same %c/%l at another time does not take it
    expect(recordEventId(SERVICE, rec({ format: 'stderr', endOffset: 5 }), 'stream:a')).toBe(fromA);
    expect(recordEventId(SERVICE, rec({ format: 'stderr', timestamp: '2026-11-24T19:25:37.256Z' }), 'stream:a')).not.toBe(fromA);
    // position ids of the two kinds cannot meet: the kind is the first thing in the source
    expect(positionEventId(SERVICE, 'stream:x@1:2:ab', 10)).not.toBe(positionEventId(SERVICE, 'file:x@1:2:ab', 10));
  });

  it('without a session identity the id comes from (source, endOffset); without a source it throws', () => {
    const r = rec({ format: 'stderr', sessionId: null, sessionLineNum: null });
    expect(() => toAuditEvent(SERVICE, r, audit(r.message))).toThrow(/source/);
    expect(toAuditEvent(SERVICE, r, audit(r.message), 'postgresql.log').id).toBe(positionEventId(SERVICE, 'postgresql.log', 1234));
  });

  it('auditEventOf: not-audit, rejected (malformed, or not written by pgaudit), event', () => {
    expect(auditEventOf(SERVICE, rec({ message: 'checkpoint starting: time' }))).toEqual({ kind: 'not-audit' });
    expect(auditEventOf(SERVICE, rec({ message: 'AUDIT: SESSION,1' }))).toMatchObject({ kind: 'rejected', code: 'malformed_audit', reason: /expected 9 fields/ });
    // RAISE LOG 'AUDIT: ...' from a function: PostgreSQL attaches CONTEXT (and STATEMENT); pgaudit hides both.
    expect(auditEventOf(SERVICE, rec({ context: 'PL/pgSQL function inline_code_block line 1 at RAISE' }))).toMatchObject({ kind: 'rejected', code: 'not_from_pgaudit', reason: /not written by pgaudit/ });
    expect(auditEventOf(SERVICE, rec({ query: "do $$ begin raise log 'AUDIT: ...'; end $$;" }))).toMatchObject({ kind: 'rejected' });
    expect(auditEventOf(SERVICE, rec())).toMatchObject({ kind: 'event', event: { objectName: 'public.account' } });
  });

  it('a forged AUDIT line in a stderr file is rejected through its folded CONTEXT/STATEMENT lines', () => {
    const lines = [
      "2026-11-24 19:25:37.256 UTC [1] u@d LOG:  AUDIT: SESSION,2,1,ROLE,GRANT,,,grant nothing,<none>,0",
      '2026-11-24 19:25:37.256 UTC [1] u@d CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE',
      "2026-11-24 19:25:37.256 UTC [1] u@d STATEMENT:  do $$ begin raise log 'AUDIT: SESSION,2,1,ROLE,GRANT,,,grant nothing,<none>,0'; end $$;",
    ].join('\n') + '\n';
    const [r] = all(new StderrSplitter(), lines);
    expect(auditEventOf(SERVICE, r!, 'f')).toMatchObject({ kind: 'rejected' });
  });
});

// ---------------------------------------------------------------------------------------------------
// The samples, end to end

describe('samples: every audit line, cross-checked between csvlog, jsonlog and stderr', () => {
  const csv = events(all(new CsvlogSplitter(), read('postgresql.csv')));
  const json = events(all(new JsonlogSplitter(), read('postgresql.json')));
  const stderr = events(all(new StderrSplitter(), read('postgresql.stderr')), 'postgresql.stderr');
  const pgaudit = ({ auditType, statementId, substatementId, class: c, command, objectType, objectName, statement, statementStatus, parameters, rows }: AuditEvent) =>
    ({ auditType, statementId, substatementId, class: c, command, objectType, objectName, statement, statementStatus, parameters, rows });

  it('67 audit lines in each format; csvlog and jsonlog give identical events (same ids)', () => {
    expect([csv.length, json.length, stderr.length]).toEqual([67, 67, 67]);
    expect(json).toEqual(csv);
    expect(new Set(csv.map((e) => e.id)).size).toBe(67);
  });

  it('stderr gives the same pgaudit records in the same order, with the same time, user, database', () => {
    expect(stderr.map(pgaudit)).toEqual(csv.map(pgaudit));
    expect(stderr.map((e) => [e.timestamp, e.user, e.database])).toEqual(csv.map((e) => [e.timestamp, e.user, e.database]));
    expect(new Set(stderr.map((e) => e.id)).size).toBe(67);
  });

  it('the interesting lines', () => {
    const by = (sid: number, ssid: number, cmd: string, type = 'SESSION') =>
      csv.find((e) => e.sessionId === '6b05e4b1.22aa' && e.statementId === sid && e.substatementId === ssid && e.command === cmd && e.auditType === type)!;
    expect(by(3, 1, 'CREATE ROLE').statement).toBe('create role app_user login password <REDACTED>');
    expect(by(15, 1, 'INSERT').statement).toContain(`('Zoë Ü', 99.99, E'multi\\nline note')`);
    expect(by(15, 1, 'INSERT').statement).toContain(`'first "quoted" note'`);
    expect(by(18, 2, 'SELECT').parameters).toEqual(['ACME, Inc.']);
    expect(by(22, 1, 'INSERT').parameters).toEqual(["Bob's Bikes", '42']);
    expect(by(23, 1, 'INSERT').parameters).toEqual(['Quote, "Comma"', '7.25']);
    expect(by(25, 1, 'SELECT', 'OBJECT')).toMatchObject({ statement: 'select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.id in (1, 2);', rows: 2, objectName: 'public.account' });
    expect(by(24, 1, 'DO')).toMatchObject({ objectType: null, objectName: null, parameters: [] });
    expect(by(1, 1, 'CREATE EXTENSION')).toMatchObject({ parameters: null, rows: 0 });
  });

  // What workload.sql implies for its session (6b05e4b1.22aa), statement by statement, with
  // pgaudit.log = 'all, -misc_set', pgaudit.role = 'auditor' (auditor: SELECT, UPDATE on public.account).
  const S = 'SESSION';
  const O = 'OBJECT';
  const WORKLOAD: [string, [string, string, string][]][] = [
    ['create extension', [[S, 'DDL', 'CREATE EXTENSION']]],
    ['create role auditor', [[S, 'ROLE', 'CREATE ROLE']]],
    ['create role app_user ... password', [[S, 'ROLE', 'CREATE ROLE']]],
    ['create role analyst', [[S, 'ROLE', 'CREATE ROLE']]],
    ['create schema', [[S, 'DDL', 'CREATE SCHEMA']]],
    ['create table billing.invoice (serial, primary key)', [[S, 'DDL', 'CREATE SEQUENCE'], [S, 'DDL', 'CREATE TABLE'], [S, 'DDL', 'CREATE INDEX'], [S, 'DDL', 'ALTER SEQUENCE']]],
    ['create table public.account (primary key)', [[S, 'DDL', 'CREATE TABLE'], [S, 'DDL', 'CREATE INDEX']]],
    ['grant ... billing.invoice', [[S, 'ROLE', 'GRANT']]],
    ['grant usage on schema', [[S, 'ROLE', 'GRANT']]],
    ['grant select to analyst', [[S, 'ROLE', 'GRANT']]],
    ['grant select, update to auditor', [[S, 'ROLE', 'GRANT']]],
    ['grant usage, select on sequence', [[S, 'ROLE', 'GRANT']]],
    ['create function', [[S, 'DDL', 'CREATE FUNCTION']]],
    ['grant execute', [[S, 'ROLE', 'GRANT']]],
    // set pgaudit.log_parameter = on: MISC_SET, excluded
    ['insert into billing.invoice', [[S, 'WRITE', 'INSERT']]],
    ['insert into public.account', [[S, 'WRITE', 'INSERT']]],
    ['select from public.account (auditor may SELECT)', [[S, 'READ', 'SELECT'], [O, 'READ', 'SELECT']]],
    ['select billing.total(...): the call, the query inside, the outer select', [[S, 'FUNCTION', 'EXECUTE'], [S, 'READ', 'SELECT'], [S, 'READ', 'SELECT']]],
    ['update public.account (auditor may UPDATE)', [[S, 'WRITE', 'UPDATE'], [O, 'WRITE', 'UPDATE']]],
    ['delete from billing.invoice', [[S, 'WRITE', 'DELETE']]],
    ['prepare p1', [[S, 'WRITE', 'PREPARE']]],
    ['execute p1 (1)', [[S, 'WRITE', 'INSERT'], [S, 'MISC', 'EXECUTE']]],
    ['execute p1 (2)', [[S, 'WRITE', 'INSERT'], [S, 'MISC', 'EXECUTE']]],
    ['do block: perform 1, execute create table', [[S, 'FUNCTION', 'DO'], [S, 'READ', 'SELECT'], [S, 'DDL', 'CREATE TABLE']]],
    ['multi-line select from public.account', [[S, 'READ', 'SELECT'], [O, 'READ', 'SELECT']]],
    ['copy public.account to stdout', [[S, 'READ', 'COPY']]],
    // set search_path / reset search_path: MISC_SET, excluded
    ['alter table', [[S, 'DDL', 'ALTER TABLE']]],
    ['create index', [[S, 'DDL', 'CREATE INDEX']]],
    ['vacuum', [[S, 'MISC', 'VACUUM']]],
    ['analyze', [[S, 'MISC', 'ANALYZE']]],
    ['begin', [[S, 'MISC', 'BEGIN']]],
    ['update billing.invoice (rolled back: still logged)', [[S, 'WRITE', 'UPDATE']]],
    ['rollback', [[S, 'MISC', 'ROLLBACK']]],
    ['select pg_sleep(0)', [[S, 'READ', 'SELECT']]],
    // select * from missing_table: fails before execution, an ERROR line, no audit line
    ['with ... update public.account (reads and writes it)', [[S, 'WRITE', 'UPDATE'], [O, 'WRITE', 'UPDATE'], [O, 'READ', 'SELECT']]],
    ['create view', [[S, 'DDL', 'CREATE VIEW']]],
    ['select from the view (object audit on the table under it)', [[S, 'READ', 'SELECT'], [O, 'READ', 'SELECT']]],
    ['truncate', [[S, 'WRITE', 'TRUNCATE TABLE']]],
    ['drop table', [[S, 'DDL', 'DROP TABLE']]],
    ['alter role ... set', [[S, 'ROLE', 'ALTER ROLE']]],
    ['drop role if exists', [[S, 'ROLE', 'DROP ROLE']]],
  ];

  const count = (rows: string[][]) => rows.reduce<Record<string, number>>((m, r) => { const k = r.join(' '); m[k] = (m[k] ?? 0) + 1; return m; }, {});

  it('the workload session: counts per type/class/command match workload.sql, one statement id per statement, in order', () => {
    for (const [name, evs] of [['csv', csv], ['json', json], ['stderr', stderr]] as const) {
      // stderr has no session id in this prefix: the workload session is user avnadmin before the ALTER DATABASE one
      const session = name === 'stderr' ? evs.slice(0, 57) : evs.filter((e) => e.sessionId === '6b05e4b1.22aa');
      expect(session.length).toBe(57);
      expect(count(session.map((e) => [e.auditType, e.class, e.command]))).toEqual(count(WORKLOAD.flatMap(([, rows]) => rows)));
      // statement ids: one per audited statement, 1..41 in workload order
      const ids = [...new Set(session.map((e) => e.statementId))];
      expect(ids).toEqual(WORKLOAD.map((_, i) => i + 1));
      WORKLOAD.forEach(([, rows], i) => {
        expect(session.filter((e) => e.statementId === i + 1).map((e) => [e.auditType, e.class, e.command])).toEqual(rows);
      });
    }
  });

  it('the follow-up sessions in the same run (not in workload.sql): log_relation on, parameters not logged', () => {
    const rest = csv.filter((e) => e.sessionId !== '6b05e4b1.22aa');
    expect(rest.map((e) => [e.user, e.auditType, e.statementId, e.substatementId, e.class, e.command, e.objectName])).toEqual([
      ['avnadmin', 'SESSION', 1, 1, 'DDL', 'ALTER DATABASE', null],
      ['app_user', 'SESSION', 1, 1, 'WRITE', 'INSERT', 'billing.invoice'],
      ['app_user', 'SESSION', 2, 1, 'FUNCTION', 'EXECUTE', 'billing.total'],
      ['app_user', 'SESSION', 2, 2, 'READ', 'SELECT', 'billing.invoice'],
      ['app_user', 'SESSION', 2, 3, 'READ', 'SELECT', null],
      ['app_user', 'SESSION', 3, 1, 'READ', 'SELECT', 'billing.invoice'],
      ['analyst', 'OBJECT', 1, 1, 'READ', 'SELECT', 'public.account'],
      ['analyst', 'SESSION', 1, 1, 'READ', 'SELECT', 'public.account'],
      ['analyst', 'OBJECT', 2, 1, 'READ', 'SELECT', 'public.account'],
      ['analyst', 'SESSION', 2, 1, 'READ', 'SELECT', 'public.account'],
    ]);
    expect(rest.every((e) => e.parameters === null && e.rows !== null)).toBe(true);
  });

  it('totals per class over the whole sample', () => {
    expect(count(csv.map((e) => [e.class]))).toEqual({ DDL: 15, ROLE: 11, WRITE: 13, READ: 19, FUNCTION: 3, MISC: 6 } satisfies Record<string, number>);
    expect(count(csv.map((e) => [e.auditType]))).toEqual({ SESSION: 59, OBJECT: 8 });
  });
});

// ---------------------------------------------------------------------------------------------------
// Fuzz: random pgaudit records, formatted as pgaudit + csvlog / jsonlog / stderr would, parse back identically.

const ALPHABET = ['a', 'q', 'Z', '9', ' ', ',', '"', '""', '\n', '\r\n', '\r', '\t', '\n\t', "'", '\\', '<', '>', 'ß', 'Ü', '日本', '😀', '$1', 'AUDIT: ', 'LOG:  ',
  '\n2026-11-24 19:25:37.255 UTC,"x",', '\n2026-11-24 19:25:37.255 UTC [1] u@d LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,x,<none>,1'];
const MARKERS = new Set(['<none>', '<not logged>', '<previously logged>']);
const str = (r: () => number, max: number) => Array.from({ length: Math.floor(r() * (max + 1)) }, () => ALPHABET[Math.floor(r() * ALPHABET.length)]).join('');
const nonEmpty = (r: () => number, max: number) => { const s = str(r, max); return s === '' || MARKERS.has(s) ? `x${s}` : s; };
const pgcsv = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v); // pgaudit append_valid_csv
const literal = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`); // csvlog appendCSVLiteral

function randomAudit(r: () => number): PgauditRecord {
  const status = r() < 0.8 ? 'LOGGED' : r() < 0.5 ? 'NOT_LOGGED' : 'PREVIOUSLY_LOGGED';
  let parameters: string[] | null = null;
  if (status === 'LOGGED' && r() < 0.8) {
    parameters = Array.from({ length: Math.floor(r() * 4) }, () => str(r, 6));
    if (parameters.length === 1 && MARKERS.has(parameters[0]!)) parameters = ['p'];
  }
  return {
    auditType: r() < 0.7 ? 'SESSION' : 'OBJECT', statementId: 1 + Math.floor(r() * 1e6), substatementId: 1 + Math.floor(r() * 4),
    class: ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC', 'MISC_SET'][Math.floor(r() * 7)]!, command: nonEmpty(r, 6),
    objectType: r() < 0.5 ? null : nonEmpty(r, 4), objectName: r() < 0.5 ? null : nonEmpty(r, 8),
    statement: status === 'LOGGED' ? nonEmpty(r, 40) : null, statementStatus: status, parameters, rows: r() < 0.3 ? null : Math.floor(r() * 1e6),
  };
}
function pgauditMessage(a: PgauditRecord): string {
  const [st, par] = a.statementStatus === 'PREVIOUSLY_LOGGED' ? ['<previously logged>', '<previously logged>']
    : a.statementStatus === 'NOT_LOGGED' ? ['<not logged>', '<not logged>']
      : [pgcsv(a.statement ?? ''), a.parameters === null ? '<not logged>' : a.parameters.length === 0 ? '<none>' : pgcsv(a.parameters.map(pgcsv).join(','))];
  return `AUDIT: ${a.auditType},${a.statementId},${a.substatementId},${a.class},${[pgcsv(a.command), pgcsv(a.objectType ?? ''), pgcsv(a.objectName ?? ''), st, par].join(',')}${a.rows === null ? '' : `,${a.rows}`}`;
}

interface Line { audit: PgauditRecord | null; message: string; user: string; db: string; app: string; pid: number; session: string; lineNum: number; ms: number }

function randomLines(r: () => number, n: number): Line[] {
  const lines: Line[] = [];
  for (let i = 0; i < n; i++) {
    const audit = r() < 0.8 ? randomAudit(r) : null;
    const message = audit ? pgauditMessage(audit) : `checkpoint ${str(r, 20)}`;
    // user/database/app names stay simple enough for stderr's ambiguous prefix (no '@', no spaces)
    lines.push({ audit, message, user: `u${Math.floor(r() * 5)}ü`, db: `db${Math.floor(r() * 3)}`, app: r() < 0.2 ? '' : `app,"${Math.floor(r() * 3)}"`, pid: 1000 + Math.floor(r() * 50), session: `6b05e4b1.${(0x22aa + Math.floor(r() * 50)).toString(16)}`, lineNum: i + 1, ms: Date.UTC(2026, 10, 24, 19, 25, 37, 255) + i });
  }
  return lines;
}
const pgTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');

function csvlogRow(l: Line): string {
  const cols = [pgTime(l.ms), literal(l.user), literal(l.db), String(l.pid), literal('10.0.0.1:5432'), l.session, String(l.lineNum), literal('SELECT'),
    pgTime(l.ms).replace(/\.\d+/, ''), '3/14', '0', 'LOG', '00000', literal(l.message), '', '', '', '', '', '', '', '', literal(l.app), literal('client backend'), '', '0'];
  return cols.join(',') + '\n';
}
function jsonlogRow(l: Line): string {
  return JSON.stringify({ timestamp: pgTime(l.ms), user: l.user, dbname: l.db, pid: l.pid, remote_host: '10.0.0.1', remote_port: 5432, session_id: l.session,
    line_num: l.lineNum, error_severity: 'LOG', message: l.message, ...(l.app ? { application_name: l.app } : {}), backend_type: 'client backend', query_id: 0 }) + '\n';
}
function stderrRow(l: Line): string {
  return `${pgTime(l.ms)} [${l.pid}] ${l.user}@${l.db} LOG:  ${l.message.replace(/\n/g, '\n\t')}\n`;
}

describe('fuzz: random records through pgaudit + csvlog / jsonlog / stderr formatting, random chunking', () => {
  const FORMATS = [
    ['csvlog', csvlogRow, () => new CsvlogSplitter()],
    ['jsonlog', jsonlogRow, () => new JsonlogSplitter()],
    ['stderr', stderrRow, () => new StderrSplitter()],
  ] as const;
  for (const [name, format, make] of FORMATS) {
    it(`${name}: 30 files of 60 random lines parse back identically`, () => {
      const r = prng(name.charCodeAt(0) * 131);
      for (let file = 0; file < 30; file++) {
        const lines = randomLines(r, 60);
        const bytes = Buffer.from(lines.map(format).join(''), 'utf8');
        const at = Array.from({ length: Math.floor(r() * 30) }, () => Math.floor(r() * bytes.length)).sort((a, b) => a - b);
        const chunks = [0, ...at, bytes.length].slice(1).map((end, i, a) => bytes.subarray(i === 0 ? 0 : a[i - 1]!, end));
        const recs = all(make(), chunks);
        expect(recs.length).toBe(lines.length);
        recs.forEach((rec, i) => {
          const l = lines[i]!;
          expect(rec.message).toBe(l.message);
          expect([rec.timestamp, rec.user, rec.database, rec.pid]).toEqual([new Date(l.ms).toISOString(), l.user, l.db, l.pid]);
          if (name !== 'stderr') expect([rec.sessionId, rec.sessionLineNum, rec.applicationName, rec.remoteHost]).toEqual([l.session, l.lineNum, l.app || null, '10.0.0.1']);
          const x = auditEventOf(SERVICE, rec, 'fuzz');
          if (l.audit === null) expect(x).toEqual({ kind: 'not-audit' });
          else {
            if (x.kind !== 'event') throw new Error(`${name} #${i}: ${JSON.stringify(x)} for ${JSON.stringify(l.message)}`);
            const { auditType, statementId, substatementId, class: c, command, objectType, objectName, statement, statementStatus, parameters, rows } = x.event;
            expect({ auditType, statementId, substatementId, class: c, command, objectType, objectName, statement, statementStatus, parameters, rows }).toEqual(l.audit);
          }
        });
        // resume from a random checkpoint gives the same tail
        const k = Math.floor(r() * recs.length);
        const tail = all(make(), bytes.subarray(recs[k]!.endOffset));
        expect(tail.map((t) => t.message)).toEqual(recs.slice(k + 1).map((t) => t.message));
      }
    });
  }
});
