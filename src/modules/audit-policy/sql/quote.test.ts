import { quoteIdent, quoteLiteral } from './quote';

/**
 * Reference readers, written as PostgreSQL's lexer reads the tokens. Each asserts that the token
 * spans the WHOLE string (nothing can follow the closing quote, so nothing can be injected).
 */
function readIdent(sql: string): string {
  expect(sql[0]).toBe('"');
  let out = '';
  let i = 1;
  for (;;) {
    if (i >= sql.length) throw new Error(`unterminated identifier: ${sql}`);
    if (sql[i] === '"') {
      if (sql[i + 1] === '"') {
        out += '"';
        i += 2;
        continue;
      }
      if (i !== sql.length - 1) throw new Error(`identifier ends early: ${sql}`);
      return out;
    }
    out += sql[i];
    i++;
  }
}

function readLiteral(sql: string, standardConformingStrings: boolean): string {
  let i = 0;
  let escapes = !standardConformingStrings;
  if (sql[0] === 'E') {
    escapes = true;
    i = 1;
  }
  expect(sql[i]).toBe("'");
  i++;
  let out = '';
  for (;;) {
    if (i >= sql.length) throw new Error(`unterminated literal: ${sql}`);
    const c = sql[i];
    if (c === "'") {
      if (sql[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      if (i !== sql.length - 1) throw new Error(`literal ends early: ${sql}`);
      return out;
    }
    if (c === '\\' && escapes) {
      // Our output only ever uses \\ ; any other escape would change the value.
      if (sql[i + 1] !== '\\') throw new Error(`unexpected escape in ${sql}`);
      out += '\\';
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
}

const HOSTILE = [
  "x'; DROP TABLE t; --",
  'a"b',
  '"',
  '""',
  "'",
  "''",
  '\\',
  "\\'",
  "\\'; DROP TABLE t; --",
  'C:\\path\\to',
  'line1\nline2\r\n',
  '\t tab',
  'ролевой',
  '監査',
  '🔒 audit',
  "E'x'",
  '$$ dollar $$',
  '$tag$',
  '/* comment */',
  '-- comment',
  'a;b',
  'U&"\\0041"',
  ' ',
  'x'.repeat(5000),
];

describe('quoteIdent', () => {
  it.each([
    ['auditor', '"auditor"'],
    ['Auditor', '"Auditor"'],
    ['a"b', '"a""b"'],
    ['"', '""""'],
    ["x'; DROP TABLE t; --", `"x'; DROP TABLE t; --"`],
    ['my db', '"my db"'],
    ['ролевой', '"ролевой"'],
    ['a\\b', '"a\\b"'],
    ['select', '"select"'],
  ])('%j -> %s', (name, expected) => {
    expect(quoteIdent(name)).toBe(expected);
  });

  it.each(HOSTILE)('reads back exactly: %j', (name) => {
    expect(readIdent(quoteIdent(name))).toBe(name);
  });

  it('throws on empty and NUL', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
    expect(() => quoteIdent('\0')).toThrow(/NUL/);
  });
});

describe('quoteLiteral', () => {
  it.each([
    ['', "''"],
    ['abc', "'abc'"],
    ["it's", "'it''s'"],
    ["x'; DROP TABLE t; --", "'x''; DROP TABLE t; --'"],
    ['a\\b', "E'a\\\\b'"],
    ["\\'", "E'\\\\'''"],
    ['read,write,-misc', "'read,write,-misc'"],
    ['ролевой', "'ролевой'"],
    ['a\nb', "'a\nb'"],
    ['a"b', `'a"b'`],
  ])('%j -> %s', (text, expected) => {
    expect(quoteLiteral(text)).toBe(expected);
  });

  it.each(HOSTILE)('reads back exactly under both standard_conforming_strings settings: %j', (text) => {
    const sql = quoteLiteral(text);
    expect(readLiteral(sql, true)).toBe(text);
    expect(readLiteral(sql, false)).toBe(text);
  });

  it('uses E-syntax only when there is a backslash', () => {
    expect(quoteLiteral('plain')).toMatch(/^'/);
    expect(quoteLiteral('back\\slash')).toMatch(/^E'/);
  });

  it('throws on NUL', () => {
    expect(() => quoteLiteral('a\0b')).toThrow(/NUL/);
  });

  it('round-trips pseudo-random strings from a hostile alphabet', () => {
    let seed = 0x5eed;
    const rnd = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = ["'", '"', '\\', ';', '-', ' ', '\n', 'a', 'Z', 'é', '€', '🔒', 'E', '$', '*', '/'];
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rnd() * 12);
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(readLiteral(quoteLiteral(s), true)).toBe(s);
      expect(readLiteral(quoteLiteral(s), false)).toBe(s);
      if (s !== '') expect(readIdent(quoteIdent(s))).toBe(s);
    }
  });
});
