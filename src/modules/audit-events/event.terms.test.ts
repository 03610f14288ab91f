import { MAX_TERM_CHARS, MAX_TERMS_PER_EVENT, TERMS_CACHE_MAX_ENTRY_CHARS, searchTerms, searchTermsJson } from './event.terms';

const sorted = (s: string | null, o: string | null = null) => [...searchTerms(s, o)].sort();

describe('searchTerms', () => {
  it('a qualified name: the whole and each part', () => {
    expect(sorted('select hr.raise(1, 10)')).toEqual(['hr', 'hr.raise', 'raise']);
    expect(sorted('SELECT * FROM a.b.c')).toEqual(['a', 'a.b', 'a.b.c', 'b', 'b.c', 'c']);
  });

  it('underscored names: the whole, each piece and every run of pieces', () => {
    expect(sorted('update hr.employee set first_name = $1 where id = $2'))
      .toEqual(['employee', 'first', 'first_name', 'hr', 'hr.employee', 'name']);
    expect(sorted('select user_last_login from t')).toEqual(['last', 'last_login', 'login', 'user', 'user_last', 'user_last_login']);
    expect(sorted('select _tmp, a$b from t')).toEqual(['_tmp', 'a', 'a$b', 'b', 'tmp']);
  });

  it('a single plain word gives nothing (the standard analyzer indexes it already), keywords included', () => {
    expect(searchTerms('SELECT id, owner FROM accounts WHERE id = 1', null)).toEqual([]);
    expect(searchTerms('select "Employee" from x', null)).toEqual([]);
  });

  it('quoted identifiers, lower-cased, joined with unquoted ones; "" inside', () => {
    expect(sorted('SELECT "Hr"."Employee".first_name FROM "Hr"."Employee"'))
      .toEqual(['employee', 'employee.first_name', 'first', 'first_name', 'hr', 'hr.employee', 'hr.employee.first_name', 'name']);
    expect(sorted('select * from "my table"')).toEqual(['my', 'my table', 'table']);
    expect(sorted('select * from "a""b"')).toEqual(['a', 'a"b', 'b']);
    expect(sorted('select * from "unterminated_x')).toEqual(['unterminated', 'unterminated_x', 'x']);
  });

  it('string literals: names inside count, quotes inside are text, E-strings escape with \\', () => {
    expect(sorted(`select nextval('hr.emp_seq')`)).toEqual(['emp', 'emp_seq', 'hr', 'hr.emp_seq', 'seq']);
    expect(sorted(`select 'it''s "not_an" ident', col_a from t`)).toEqual(['a', 'col', 'col_a', 'an', 'not', 'not_an'].sort());
    expect(sorted(`select E'a\\'b c_d', x_y`)).toEqual(['c', 'c_d', 'd', 'x', 'x_y', 'y']);
    expect(sorted(`select 'unterminated first_name`)).toEqual(['first', 'first_name', 'name']);
  });

  it('numbers and parameters are not names; dotted numbers neither', () => {
    expect(searchTerms('select 1.5, 2e10, $1, $22 from t where x = 192.168', null)).toEqual([]);
    expect(searchTerms(`select '192.168.0.1'`, null)).toEqual([]);
    expect(sorted('select t1.c2 from t1')).toEqual(['c2', 't1', 't1.c2']);
  });

  it('dollar-quoted bodies are read as SQL; comments as text, nested /* */ too', () => {
    const sql = 'DO $body$ BEGIN PERFORM hr.raise(1); -- calls app_audit.log\n /* outer /* in_ner */ still_comment */ END $body$';
    expect(sorted(sql)).toEqual(['app', 'app_audit', 'app_audit.log', 'audit', 'comment', 'hr', 'hr.raise', 'in', 'in_ner',
      'log', 'ner', 'raise', 'still', 'still_comment'].sort());
    expect(sorted('do $$ begin perform 1; execute \'create table public.tmp_do (x int)\'; end $$'))
      .toEqual(['do', 'public', 'public.tmp_do', 'tmp', 'tmp_do']);
  });

  it('real pgaudit statements (src/modules/ingest/fixtures/pgaudit-pg15)', () => {
    expect(sorted("create or replace function billing.total(c text) returns numeric language sql as $$ select coalesce(sum(amount),0) from billing.invoice where customer = c $$;"))
      .toEqual(['billing', 'billing.invoice', 'billing.total', 'invoice', 'total']);
    expect(sorted('grant usage, select on sequence billing.invoice_id_seq to app_user;')).toEqual(['app', 'app_user', 'billing', 'billing.invoice_id_seq',
      'id', 'id_seq', 'invoice', 'invoice_id', 'invoice_id_seq', 'seq', 'user'].sort());
    expect(sorted("with w as (select id from public.account) update public.account set name = name || '!' where id in (select id from w);"))
      .toEqual(['account', 'public', 'public.account']);
    expect(sorted('select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.id in (1, 2);'))
      .toEqual(['a', 'a.id', 'a.name', 'account', 'id', 'name', 'public', 'public.account']);
  });

  it('the object name: its whole and parts, even a single word, first', () => {
    expect(searchTerms('select 1', 'hr.employee')).toEqual(['hr', 'hr.employee', 'employee']);
    expect(searchTerms(null, 'employee')).toEqual(['employee']);
    expect(sorted(null, 'billing.total(pg_catalog.text)')).toEqual(['billing', 'billing.total', 'catalog', 'pg', 'pg_catalog', 'pg_catalog.text', 'text', 'total']);
  });

  it('bounded: at most MAX_TERMS_PER_EVENT distinct terms, none longer than MAX_TERM_CHARS', () => {
    const long = `select ${Array.from({ length: 5000 }, (_, i) => `t${i}.c_${i}`).join(', ')}, ${'x_'.repeat(200)}y`;
    const t0 = performance.now();
    const terms = searchTerms(long, 'public.some_table');
    expect(performance.now() - t0).toBeLessThan(200);
    expect(terms.length).toBe(MAX_TERMS_PER_EVENT);
    expect(terms.slice(0, 3)).toEqual(['public', 'public.some_table', 'some_table']);   // the object name's come first
    expect(terms.every((t) => t.length <= MAX_TERM_CHARS)).toBe(true);
    const huge = 'select ' + 'a_b '.repeat(300_000);                    // 1.2 MB, the same name again and again
    expect(searchTerms(huge, null).sort()).toEqual(['a', 'a_b', 'b']);
    expect(searchTerms('x'.repeat(MAX_TERM_CHARS + 1) + '.y', null)).toEqual(['y']);
  });

  it('a name of many parts gives the whole and each part, not every run', () => {
    expect(sorted('select a.b.c.d.e.f.g')).toEqual(['a', 'a.b.c.d.e.f.g', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('never throws on odd text', () => {
    for (const s of ['"', "'", '$', '$$', '$a', '/*', '--', 'E\'\\', '"a"."', 'a.', '.a', '\uD800', '😀_x', 'ß_İ', '\u0000a_b']) {
      expect(() => searchTerms(s, s)).not.toThrow();
    }
    expect(sorted('select straße_nr, 日本_表 from t')).toEqual(['nr', 'straße', 'straße_nr', '日本', '日本_表', '表']);
  });
});

describe('searchTermsJson', () => {
  const pairs: [string | null, string | null][] = [
    ['SELECT e.first_name FROM hr.employee e', 'hr.employee'], ['SELECT e.first_name FROM hr.employee e', null],
    ['SELECT e.first_name FROM hr.employee e', 'hr.employee2'], [null, 'hr.employee'], [null, null], ['SELECT 1', null],
    // pairs a plain concatenation of name and statement would confuse
    ['b.c', 'a'], ['c', 'a.b'], ['a.bc', ''], ['', 'a.bc'], ['-x.y', null], ['x.y', '-'], ['x.y', undefined as unknown as null],
    [`SELECT ${'a_b.'.repeat(TERMS_CACHE_MAX_ENTRY_CHARS / 4)}c`, 't.u'],
  ];

  it('answers JSON.stringify(searchTerms(...)) (or nothing), the first time and every time after', () => {
    for (let round = 0; round < 3; round++) {
      for (const [statement, objectName] of pairs) {
        const terms = searchTerms(statement, objectName);
        expect(searchTermsJson(statement, objectName)).toBe(terms.length === 0 ? '' : JSON.stringify(terms));
      }
    }
  });
});
