import { maskSqlLiterals, MAX_DOLLAR_TAG } from './sql-literal.masker';

const ALL = { strings: true, numbers: true };

/** [input, expected with strings and numbers masked, literals masked]. */
const CASES: [string, string, number][] = [
  // nothing to mask
  ['', '', 0],
  ['SELECT a FROM t', 'SELECT a FROM t', 0],
  ['select t1.col_2, "x1", x$1 from s3.t4', 'select t1.col_2, "x1", x$1 from s3.t4', 0],
  ['SELECT $1, $2::int FROM t WHERE a = $10', 'SELECT $1, $2::int FROM t WHERE a = $10', 0],
  // strings
  ["SELECT 'secret'", "SELECT '***'", 1],
  ["SELECT 'it''s'", "SELECT '***'", 1],
  ["SELECT ''", "SELECT '***'", 1],
  ["SELECT 'a' 'b'", "SELECT '***' '***'", 2],
  ["SELECT 'a'\n'b'", "SELECT '***'\n'***'", 2],
  ["SELECT 'back\\slash'", "SELECT '***'", 1],
  ["SELECT 'x\\' AS y", "SELECT '***' AS y", 1],
  ["SELECT E'it\\'s', e'a\\\\'", "SELECT '***', '***'", 2],
  ["SELECT E'a''b\\n'", "SELECT '***'", 1],
  ["SELECT U&'d\\0061t\\+000061'", "SELECT '***'", 1],
  ["SELECT U&'d!0061t' UESCAPE '!'", "SELECT '***' UESCAPE '***'", 2],
  ["SELECT u&'x'", "SELECT '***'", 1],
  ["SELECT N'national'", "SELECT '***'", 1],
  ["SELECT B'1010', X'1F', b'1', x'ff'", "SELECT '***', '***', '***', '***'", 4],
  // a word ending in e/b/x/n/u is an identifier followed by a string
  ["SELECT fee'x', tab'y'", "SELECT fee'***', tab'***'", 2],
  // typed literals and casts
  ["SELECT DATE '2024-01-01', interval '1 day'", "SELECT DATE '***', interval '***'", 2],
  ["SELECT '5'::int, 5::text, x::numeric(10,2)", "SELECT '***'::int, ***::text, x::numeric(***,***)", 4],
  ["SELECT CAST('42' AS int)", "SELECT CAST('***' AS int)", 1],
  // dollar quotes
  ['SELECT $$secret$$', 'SELECT $$***$$', 1],
  ['SELECT $tag$it\'s $$ not the end$tag$', 'SELECT $tag$***$tag$', 1],
  ['DO $$ BEGIN PERFORM 1; END $$', 'DO $$***$$', 1],
  ['CREATE FUNCTION f() RETURNS int AS $body$ SELECT 42 $body$ LANGUAGE sql', 'CREATE FUNCTION f() RETURNS int AS $body$***$body$ LANGUAGE sql', 1],
  ['SELECT $a$x$b$y$a$', 'SELECT $a$***$a$', 1],
  ['SELECT $_1$x$_1$', 'SELECT $_1$***$_1$', 1],
  ['SELECT $$unterminated', 'SELECT $$***', 1],
  ['SELECT $word and more', 'SELECT $word and more', 0],
  // quoted identifiers are kept, even with quotes and digits inside
  ['SELECT "it\'s 42" FROM "t""1"', 'SELECT "it\'s 42" FROM "t""1"', 0],
  ['SELECT U&"d\\0061t" FROM t', 'SELECT U&"d\\0061t" FROM t', 0],
  ['SELECT "unterminated \'x\' 5', 'SELECT "unterminated \'x\' 5', 0],
  // comments keep their text and structure; a quote inside is not a string
  ["SELECT 1 -- it's 2\n, 'x'", "SELECT *** -- it's 2\n, '***'", 2],
  ["SELECT /* it's /* nested 3 */ 4 */ 'x'", "SELECT /* it's /* nested 3 */ 4 */ '***'", 1],
  ['SELECT 1 /* unterminated', 'SELECT *** /* unterminated', 1],
  ['SELECT a--b', 'SELECT a--b', 0],
  // numbers
  ['SELECT 42, 3.14, .5, 5., 1e10, 1.5E-3, 2e+7', 'SELECT ***, ***, ***, ***, ***, ***, ***', 7],
  ['SELECT 0x1F, 0o17, 0b101, 1_000_000, 0X1f', 'SELECT ***, ***, ***, ***, ***', 5],
  ['SELECT -5, +7, 3-2', 'SELECT -***, +***, ***-***', 4],
  ['SELECT a[1], a[2:3]', 'SELECT a[***], a[***:***]', 3],
  ['SELECT 1e, 1ea', 'SELECT ***e, ***ea', 2],
  ['SELECT 123abc', 'SELECT ***abc', 1],
  ['FOR i IN 1..10 LOOP', 'FOR i IN ***..*** LOOP', 2],
  ['SELECT 0x', 'SELECT ***x', 1],
  ['LIMIT 10 OFFSET 20', 'LIMIT *** OFFSET ***', 2],
  // unterminated strings mask to the end
  ["SELECT 'secret", "SELECT '***'", 1],
  ["SELECT E'secret\\'", "SELECT '***'", 1],
  // non-ASCII identifiers and text
  ["SELECT 日本, 'ålice' FROM tëst", "SELECT 日本, '***' FROM tëst", 1],
  ["SELECT '😀', x😀1", "SELECT '***', x😀1", 1],
  // parameters and operators next to literals
  ["SELECT $1||'a'", "SELECT $1||'***'", 1],
  ["SELECT @-1, |/25.0", 'SELECT @-***, |/***', 2],
  // statements as pgaudit logs them (many in one, with a semicolon)
  ["INSERT INTO accounts VALUES (1, 'bob', 4111111111111111); SELECT 2", "INSERT INTO accounts VALUES (***, '***', ***); SELECT ***", 4],
];

describe('maskSqlLiterals', () => {
  it.each(CASES)('%j', (input, expected, count) => {
    expect(maskSqlLiterals(input, ALL)).toEqual({ text: expected, masked: count });
  });

  it('masks strings only, or numbers only', () => {
    expect(maskSqlLiterals("SELECT 'a', 1, $$b$$", { strings: true, numbers: false }).text).toBe("SELECT '***', 1, $$***$$");
    expect(maskSqlLiterals("SELECT 'a', 1, $$b$$", { strings: false, numbers: true }).text).toBe("SELECT 'a', ***, $$b$$");
    expect(maskSqlLiterals("SELECT 'a', 1", { strings: false, numbers: false })).toEqual({ text: "SELECT 'a', 1", masked: 0 });
  });

  it('masks the rest of the text after a dollar tag longer than any identifier (never searched for)', () => {
    const tag = `$${'t'.repeat(MAX_DOLLAR_TAG + 1)}$`;
    expect(maskSqlLiterals(`SELECT ${tag}x${tag} AS secret`, ALL).text).toBe('SELECT $***');
    const ok = `$${'t'.repeat(MAX_DOLLAR_TAG)}$`;
    expect(maskSqlLiterals(`SELECT ${ok}x${ok} AS y`, ALL).text).toBe(`SELECT ${ok}***${ok} AS y`);
  });

  it('never leaves a string literal\'s content in the output (random statements)', () => {
    const parts = ["'s3cr3t'", "E's3cr\\'3t'", ' $$s3cr3t$$', ' $q$s3cr3t$q$', "U&'s3cr3t'", ' ', ',', '(', ')', 'a', '"id"', '--c\n', '/*c*/', '1', '::int', '$1', "''", '\\', 'e', '$', '"'];
    let seed = 7;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (let k = 0; k < 3000; k++) {
      let s = '';
      const len = 1 + rnd(12);
      for (let j = 0; j < len; j++) s += `${parts[rnd(parts.length)]} `;
      const out = maskSqlLiterals(s, ALL).text;
      // a secret can only survive inside a quoted identifier or a comment (kept by design). Parts are joined by
      // spaces: run together, PostgreSQL itself reads some as words (x$q$s3cr3t$q$ is one identifier; the table covers adjacency)
      if (!/"|--|\/\*/.test(s)) expect(out).not.toContain('s3cr3t');
    }
  });

  it('hostile input never throws and stays linear', () => {
    const hostile = ["'", '$', '$$', '$a', '$a$', 'E', "E'", "E'\\", 'U&', "U&'", 'U&"', '"', '/*', '--', '.', '0x', '1e', '1e+', "''''", '\u0000', '\ud800'];
    for (const h of hostile) for (const times of [1, 2, 3, 101]) expect(() => maskSqlLiterals(h.repeat(times), ALL)).not.toThrow();
    expect(maskSqlLiterals(undefined as unknown as string, ALL)).toEqual({ text: '', masked: 0 });
    const sizes = [20_000, 160_000];
    const best = (s: string) => Math.min(...[0, 1, 2].map(() => { const t0 = performance.now(); maskSqlLiterals(s, ALL); return performance.now() - t0; }));
    for (const unit of ['$a', "'x''", '/*', '$a$b', '1.', 'eyJ', "E'\\", '"', '$$x', 'U&"', '$a$$a']) {
      const [small, large] = sizes.map((n) => best(unit.repeat(n / unit.length)));
      // 8x the input: far less than 64x (quadratic); generous for a shared, loaded machine
      expect({ unit, slow: large! > Math.max(40 * small!, 300) }).toEqual({ unit, slow: false });
    }
  });
});
