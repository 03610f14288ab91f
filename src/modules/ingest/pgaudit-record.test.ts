import { parseAuditMessage, PgauditRecord } from './pgaudit-record';
import { prng } from '../../../bench/prng';

const ok = (message: string): PgauditRecord => {
  const r = parseAuditMessage(message);
  if (r === null || !r.ok) throw new Error(`expected a record from ${JSON.stringify(message)}, got ${JSON.stringify(r)}`);
  return r.record;
};
const reason = (message: string): string => {
  const r = parseAuditMessage(message);
  if (r === null || r.ok) throw new Error(`expected ok:false from ${JSON.stringify(message)}, got ${JSON.stringify(r)}`);
  return r.reason;
};

describe('parseAuditMessage: what is not a pgaudit message', () => {
  it.each([
    '', 'statement: select 1', 'AUDIT:SESSION,1,1,READ,SELECT,,,select 1,<none>', ' AUDIT: SESSION,1,1,READ,SELECT,,,x,<none>',
    'audit: SESSION,1,1,READ,SELECT,,,x,<none>', 'AUDIT', 'connection authorized: user=app_user database=shop',
  ])('%j -> null', (m) => {
    expect(parseAuditMessage(m)).toBeNull();
  });
  it('null for non-strings too (never throws)', () => {
    expect(parseAuditMessage(undefined as unknown as string)).toBeNull();
    expect(parseAuditMessage(42 as unknown as string)).toBeNull();
  });
});

describe('parseAuditMessage: real lines (PG15 + pgaudit 1.7 samples)', () => {
  it('SESSION DDL without object, parameters not logged, with ROWS', () => {
    expect(ok('AUDIT: SESSION,1,1,DDL,CREATE EXTENSION,,,create extension if not exists pgaudit;,<not logged>,0')).toEqual({
      auditType: 'SESSION', statementId: 1, substatementId: 1, class: 'DDL', command: 'CREATE EXTENSION',
      objectType: null, objectName: null, statement: 'create extension if not exists pgaudit;', statementStatus: 'LOGGED',
      parameters: null, rows: 0,
    });
  });
  it('OBJECT rows', () => {
    const r = ok('AUDIT: OBJECT,17,1,READ,SELECT,TABLE,public.account,select * from public.account where id = 1;,<none>,1');
    expect(r).toMatchObject({ auditType: 'OBJECT', statementId: 17, class: 'READ', objectType: 'TABLE', objectName: 'public.account', parameters: [], rows: 1 });
  });
  it('a quoted statement with commas and doubled quotes, unicode and an escaped \\n that is not a newline', () => {
    const r = ok(`AUDIT: SESSION,15,1,WRITE,INSERT,,,"insert into billing.invoice (customer, amount, note) values ('ACME, Inc.', 10.50, 'first ""quoted"" note'), ('Zoë Ü', 99.99, E'multi\\nline note');",<none>,2`);
    expect(r.statement).toBe(`insert into billing.invoice (customer, amount, note) values ('ACME, Inc.', 10.50, 'first "quoted" note'), ('Zoë Ü', 99.99, E'multi\\nline note');`);
    expect(r.rows).toBe(2);
  });
  it('a multi-line statement', () => {
    const r = ok('AUDIT: SESSION,25,1,READ,SELECT,,,"select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.id in (1, 2);",<none>,2');
    expect(r.statement).toBe('select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.id in (1, 2);');
  });
  it('<REDACTED> stays in the statement as is', () => {
    expect(ok('AUDIT: SESSION,3,1,ROLE,CREATE ROLE,,,create role app_user login password <REDACTED>,<not logged>,0').statement)
      .toBe('create role app_user login password <REDACTED>');
  });
  it('parameters: one value quoted at both levels', () => {
    // pgaudit: the value `ACME, Inc.` is quoted in the list, then the list is quoted as the field.
    expect(ok('AUDIT: SESSION,18,2,READ,SELECT,,," select coalesce(sum(amount),0) from billing.invoice where customer = c ","""ACME, Inc.""",1').parameters)
      .toEqual(['ACME, Inc.']);
  });
  it("parameters: a list quoted once (Bob's Bikes,42)", () => {
    expect(ok(`AUDIT: SESSION,22,1,WRITE,INSERT,,,"prepare p1(text, numeric) as insert into billing.invoice (customer, amount) values ($1, $2);","Bob's Bikes,42",1`).parameters)
      .toEqual(["Bob's Bikes", '42']);
  });
  it('parameters: quotes and commas inside a value', () => {
    expect(ok('AUDIT: SESSION,23,1,WRITE,INSERT,,,"prepare p1(text, numeric) as insert into billing.invoice (customer, amount) values ($1, $2);","""Quote, """"Comma"""""",7.25",1').parameters)
      .toEqual(['Quote, "Comma"', '7.25']);
  });
  it('a DO block: empty object fields are null; a FUNCTION EXECUTE with object', () => {
    expect(ok("AUDIT: SESSION,24,1,FUNCTION,DO,,,do $$ begin perform 1; execute 'create table public.tmp_do (x int)'; end $$;,<none>,0"))
      .toMatchObject({ class: 'FUNCTION', command: 'DO', objectType: null, objectName: null });
    expect(ok("AUDIT: SESSION,2,1,FUNCTION,EXECUTE,FUNCTION,billing.total,select billing.total('via app_user'),<not logged>,0"))
      .toMatchObject({ objectType: 'FUNCTION', objectName: 'billing.total' });
  });
  it('an object name with a comma in it (function signature) is quoted', () => {
    expect(ok('AUDIT: SESSION,13,1,DDL,CREATE FUNCTION,FUNCTION,"billing.f(pg_catalog.text,integer)",create function x,<not logged>,0').objectName)
      .toBe('billing.f(pg_catalog.text,integer)');
  });
});

describe('parseAuditMessage: markers and options', () => {
  it('without ROWS (log_rows off: 9 fields) rows is null', () => {
    expect(ok('AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>')).toMatchObject({ rows: null, parameters: [] });
  });
  it('<not logged> statement (log_statement off)', () => {
    expect(ok('AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,<not logged>,<not logged>,3'))
      .toMatchObject({ statement: null, statementStatus: 'NOT_LOGGED', parameters: null, rows: 3 });
  });
  it('<previously logged> (log_statement_once)', () => {
    expect(ok('AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.u,<previously logged>,<previously logged>'))
      .toMatchObject({ statement: null, statementStatus: 'PREVIOUSLY_LOGGED', parameters: null });
  });
  it('<long param suppressed> is kept as a value', () => {
    expect(ok('AUDIT: SESSION,4,1,WRITE,INSERT,,,"insert into t values ($1, $2)","<long param suppressed>,2",1').parameters)
      .toEqual(['<long param suppressed>', '2']);
  });
  it('an empty PARAMETER field is one NULL/empty parameter; empty items in a list are empty strings', () => {
    expect(ok('AUDIT: SESSION,4,1,WRITE,INSERT,,,insert into t values ($1),,1').parameters).toEqual(['']);
    expect(ok('AUDIT: SESSION,4,1,WRITE,INSERT,,,"insert into t values ($1, $2, $3)","a,,b",1').parameters).toEqual(['a', '', 'b']);
    expect(ok('AUDIT: SESSION,4,1,WRITE,INSERT,,,"insert into t values ($1, $2)",",",1').parameters).toEqual(['', '']);
  });
  it('parameters holding newlines and CR', () => {
    expect(ok('AUDIT: SESSION,4,1,WRITE,INSERT,,,"insert into t values ($1, $2)","""line1\nline2"",""a\r\nb""",1').parameters)
      .toEqual(['line1\nline2', 'a\r\nb']);
  });
  it('an empty statement field is null but LOGGED', () => {
    expect(ok('AUDIT: SESSION,4,1,MISC,CHECKPOINT,,,,<none>,0')).toMatchObject({ statement: null, statementStatus: 'LOGGED' });
  });
  it('ids and rows above 2^53 are kept as (rounded) numbers', () => {
    const r = ok('AUDIT: SESSION,9007199254740993,1,READ,SELECT,,,x,<none>,9223372036854775807');
    expect(r.statementId).toBe(9007199254740992);
    expect(Number.isSafeInteger(r.statementId)).toBe(false);
    expect(r.rows).toBe(9223372036854775807);
  });
  it('MISC_SET and other upper-case classes', () => {
    expect(ok('AUDIT: SESSION,2,1,MISC_SET,SET,,,set search_path = x,<none>,0').class).toBe('MISC_SET');
  });
});

describe('parseAuditMessage: malformed -> ok:false with a reason', () => {
  it.each<[string, RegExp]>([
    ['AUDIT: ', /expected 9 fields/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,select 1', /got 8/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>,1,2', /more than 10/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,select 1, 2,<none>,1', /more than 10/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>,1,2,3,4,5,6,7', /more than 10/],
    ['AUDIT: SESSIONS,1,1,READ,SELECT,,,x,<none>', /AUDIT_TYPE/],
    ['AUDIT: session,1,1,READ,SELECT,,,x,<none>', /AUDIT_TYPE/],
    ['AUDIT: SESSION,x,1,READ,SELECT,,,x,<none>', /STATEMENT_ID/],
    ['AUDIT: SESSION,-1,1,READ,SELECT,,,x,<none>', /STATEMENT_ID/],
    ['AUDIT: SESSION,1,,READ,SELECT,,,x,<none>', /SUBSTATEMENT_ID/],
    ['AUDIT: SESSION,1,99999999999999999999,READ,SELECT,,,x,<none>', /SUBSTATEMENT_ID/],
    ['AUDIT: SESSION,1,1,read,SELECT,,,x,<none>', /CLASS/],
    ['AUDIT: SESSION,1,1,,SELECT,,,x,<none>', /CLASS/],
    ['AUDIT: SESSION,1,1,READ,,,,x,<none>', /COMMAND is empty/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x,<none>,many', /ROWS/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x,<none>,1.5', /ROWS/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,"x,<none>,1', /unterminated quoted field 8 \(STATEMENT\)/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,"x"y,<none>,1', /after the closing quote of field 8/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x"y,<none>,1', /unquoted field 8 .* quote/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x\ny,<none>,1', /unquoted field 8 .*line break/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x,"a""b",1', /PARAMETER is not a valid list: unquoted field 1/],
    ['AUDIT: SESSION,1,1,READ,SELECT,,,x,"""a",1', /PARAMETER is not a valid list: unterminated/],
  ])('%j', (message, expected) => {
    expect(reason(message)).toMatch(expected);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property test: random records, formatted as pgaudit formats them, parse back identically.


const ALPHABET = ['a', 'b', 'Z', '0', '7', ' ', ',', ',', '"', '"', '""', '\n', '\r', '\r\n', '\t', "'", '\\', '<', '>', 'é', 'Ü', '中', '😀', '$', 'AUDIT: ', ',,', '<none>'];
const MARKERS = new Set(['<none>', '<not logged>', '<previously logged>']);

function randomString(r: () => number, maxLen: number): string {
  const n = Math.floor(r() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}
const nonEmpty = (r: () => number, maxLen: number) => {
  const s = randomString(r, maxLen);
  return s === '' || MARKERS.has(s) ? 'x' + s : s;
};

/** pgaudit's append_valid_csv. */
const csv = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** What pgaudit writes for a record (log_audit_event). */
function formatPgaudit(rec: PgauditRecord): string {
  let statement: string;
  let parameter: string;
  if (rec.statementStatus === 'PREVIOUSLY_LOGGED') { statement = '<previously logged>'; parameter = '<previously logged>'; }
  else if (rec.statementStatus === 'NOT_LOGGED') { statement = '<not logged>'; parameter = '<not logged>'; }
  else {
    statement = csv(rec.statement ?? '');
    parameter = rec.parameters === null ? '<not logged>' : rec.parameters.length === 0 ? '<none>' : csv(rec.parameters.map(csv).join(','));
  }
  return `AUDIT: ${rec.auditType},${rec.statementId},${rec.substatementId},${rec.class},`
    + [csv(rec.command), csv(rec.objectType ?? ''), csv(rec.objectName ?? ''), statement, parameter].join(',')
    + (rec.rows === null ? '' : `,${rec.rows}`);
}

function randomRecord(r: () => number): PgauditRecord {
  const status = r() < 0.8 ? 'LOGGED' : r() < 0.5 ? 'NOT_LOGGED' : 'PREVIOUSLY_LOGGED';
  let parameters: string[] | null = null;
  if (status === 'LOGGED' && r() < 0.8) {
    parameters = Array.from({ length: Math.floor(r() * 4) }, () => randomString(r, 8));
    if (parameters.length === 1 && MARKERS.has(parameters[0]!)) parameters = ['y'];
  }
  return {
    auditType: r() < 0.7 ? 'SESSION' : 'OBJECT',
    statementId: Math.floor(r() * 1e6),
    substatementId: 1 + Math.floor(r() * 5),
    class: ['READ', 'WRITE', 'FUNCTION', 'ROLE', 'DDL', 'MISC', 'MISC_SET'][Math.floor(r() * 7)]!,
    command: nonEmpty(r, 12),
    objectType: r() < 0.5 ? null : nonEmpty(r, 6),
    objectName: r() < 0.5 ? null : nonEmpty(r, 10),
    statement: status === 'LOGGED' ? nonEmpty(r, 60) : null,
    statementStatus: status,
    parameters,
    rows: r() < 0.3 ? null : Math.floor(r() * 1e9),
  };
}

describe('parseAuditMessage: property tests', () => {
  it('round-trips 5000 random records formatted as pgaudit writes them', () => {
    const r = prng(20261124);
    for (let k = 0; k < 5000; k++) {
      const rec = randomRecord(r);
      const message = formatPgaudit(rec);
      const parsed = parseAuditMessage(message);
      if (!parsed || !parsed.ok) throw new Error(`#${k}: ${JSON.stringify(message)} -> ${JSON.stringify(parsed)}`);
      expect(parsed.record).toEqual(rec);
    }
  });

  it('never throws on garbage or on mutated valid messages, and what it accepts is well-typed', () => {
    const r = prng(7);
    const garbage = ['"', ',', '\n', '\r', 'A', '1', '<', '>', '\u0000', '\uFFFD', '\uD800', 'é', ' '];
    let accepted = 0;
    for (let k = 0; k < 10000; k++) {
      let m: string;
      if (k % 2 === 0) {
        m = 'AUDIT: ' + Array.from({ length: Math.floor(r() * 40) }, () => garbage[Math.floor(r() * garbage.length)]).join('');
      } else {
        const chars = [...formatPgaudit(randomRecord(r))];
        for (let e = 0; e < 1 + Math.floor(r() * 3); e++) {
          const at = Math.floor(r() * chars.length);
          const op = r();
          if (op < 0.33) chars.splice(at, 1);
          else if (op < 0.66) chars.splice(at, 0, garbage[Math.floor(r() * garbage.length)]!);
          else chars[at] = garbage[Math.floor(r() * garbage.length)]!;
        }
        m = chars.join('');
      }
      const res = parseAuditMessage(m);
      if (res && res.ok) {
        accepted++;
        const x = res.record;
        expect(['SESSION', 'OBJECT']).toContain(x.auditType);
        expect(Number.isInteger(x.statementId) && Number.isInteger(x.substatementId)).toBe(true);
        expect(x.command.length).toBeGreaterThan(0);
        expect(x.parameters === null || Array.isArray(x.parameters)).toBe(true);
      } else if (res) {
        expect(typeof res.reason).toBe('string');
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('a very long hostile value is handled in linear time (no assertion on time; it must just finish)', () => {
    const long = 'AUDIT: SESSION,1,1,READ,SELECT,,,"' + '""'.repeat(500_000) + ',<none>,1';
    expect(parseAuditMessage(long)).toMatchObject({ ok: false });
    const commas = 'AUDIT: ' + ','.repeat(1_000_000);
    expect(parseAuditMessage(commas)).toMatchObject({ ok: false });
  });
});
