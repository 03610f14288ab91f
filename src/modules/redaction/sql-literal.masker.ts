/**
 * Masks the literals of one SQL statement as PostgreSQL's own lexer (scan.l) would find them, and nothing else:
 * identifiers (plain and "quoted", U&"..."), keywords, operators, casts (`::int`), parameters (`$1`), comments
 * and whitespace come out exactly as they went in. Pure, never throws, one pass over the text (linear time:
 * every character is looked at a bounded number of times; the only search, for a dollar quote's closing tag,
 * looks for a tag of at most MAX_DOLLAR_TAG characters).
 *
 * Literals (PostgreSQL 11 to 17):
 * - strings `'...'` ('' inside), `E'...'` (backslash escapes and ''), `U&'...'` (and its `UESCAPE '!'`, itself a
 *   string), `N'...'`, bit strings `B'...'` / `X'...'`: the whole literal, prefix included, becomes STRING_MASK;
 * - dollar quotes `$$...$$`, `$tag$...$tag$`: the body becomes `***` between the tags (the tag is kept);
 * - numbers `42`, `3.14`, `.5`, `1e10`, `1.5E-3`, and PostgreSQL 16's `0x1F`, `0o17`, `0b101`, `1_000_000`:
 *   become NUMBER_MASK (a sign is an operator: `-5` gives `-***`).
 * An unterminated string or dollar quote is masked to the end of the text (what follows it cannot be told
 * apart from its content). standard_conforming_strings is assumed on (PostgreSQL's default since 9.1): with it
 * off, `'a\'b'` is one literal to PostgreSQL but ends at `\'` here.
 */

export const STRING_MASK = "'***'";
export const NUMBER_MASK = '***';
/** The body of a dollar-quoted string, between its kept tags. */
export const DOLLAR_BODY_MASK = '***';
/** Longer dollar-quote tags are not looked for (an identifier is at most 63 bytes): the rest of the text is masked. */
export const MAX_DOLLAR_TAG = 64;

export interface MaskOptions { strings: boolean; numbers: boolean }
export interface MaskResult { text: string; masked: number }

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHexDigit = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** scan.l's ident_start: [A-Za-z\200-\377_] (any non-ASCII character, as UTF-8 bytes of 0x80+). */
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
/** scan.l's ident_cont: ident_start, digits and `$`. */
const isIdentCont = (c: number) => isIdentStart(c) || isDigit(c) || c === 36;

/** The end (exclusive) of a '...' body starting after the opening quote at `i`; backslashes escape in E'' strings. */
function stringEnd(s: string, i: number, backslashes: boolean): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (backslashes && c === 92) { i += 2; continue; }
    if (c === 39) {
      if (s.charCodeAt(i + 1) === 39) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** The end of a "..." identifier ("" inside) opening at `i`; unterminated: the end of the text. */
function quotedIdentEnd(s: string, i: number): number {
  const n = s.length;
  i++;
  while (i < n) {
    if (s.charCodeAt(i) === 34) {
      if (s.charCodeAt(i + 1) === 34) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** The end of a /* comment *\/ opening at `i` (they nest, as in PostgreSQL); unterminated: the end of the text. */
function blockCommentEnd(s: string, i: number): number {
  const n = s.length;
  let depth = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 47 && s.charCodeAt(i + 1) === 42) { depth++; i += 2; continue; }
    if (c === 42 && s.charCodeAt(i + 1) === 47) { depth--; i += 2; if (depth === 0) return i; continue; }
    i++;
  }
  return n;
}

/** The end of a number starting at `i` (a digit, or `.` followed by a digit). */
function numberEnd(s: string, i: number): number {
  const n = s.length;
  const c0 = s.charCodeAt(i);
  const c1 = s.charCodeAt(i + 1) | 0x20;
  if (c0 === 48 && (c1 === 0x78 || c1 === 0x6f || c1 === 0x62)) {   // 0x, 0o, 0b (PostgreSQL 16)
    let j = i + 2;
    while (j < n && (isHexDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 95)) j++;
    if (j > i + 2) return j;
  }
  let j = digitsEnd(s, i);
  // `1..10` (PL/pgSQL ranges) is 1, `..`, 10, as in scan.l
  if (s.charCodeAt(j) === 46 && s.charCodeAt(j + 1) !== 46) j = digitsEnd(s, j + 1);
  const e = s.charCodeAt(j) | 0x20;
  if (e === 0x65) {
    let k = j + 1;
    const sign = s.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (isDigit(s.charCodeAt(k))) j = digitsEnd(s, k);
  }
  return j;
}

/** The end of a run of digits from `j` (PostgreSQL 16's `_` separators between digits included). */
function digitsEnd(s: string, j: number): number {
  const n = s.length;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (isDigit(c) || (c === 95 && isDigit(s.charCodeAt(j + 1)))) j++;
    else break;
  }
  return j;
}

/**
 * A dollar quote's opening tag at `i` (`$$` or `$tag$`): its length; 0 when `$` does not open one here (`$1` is a
 * parameter, `$word` without a closing `$` is `$` then a word, as in scan.l); -1 for a tag over MAX_DOLLAR_TAG.
 */
function dollarTagLength(s: string, i: number): number {
  const n = s.length;
  if (s.charCodeAt(i + 1) === 36) return 2;
  if (!isIdentStart(s.charCodeAt(i + 1))) return 0;
  let j = i + 2;
  while (j < n && (isIdentStart(s.charCodeAt(j)) || isDigit(s.charCodeAt(j)))) j++;
  if (j >= n || s.charCodeAt(j) !== 36) return 0;
  return j - i - 1 > MAX_DOLLAR_TAG ? -1 : j - i + 1;
}

/**
 * `sql` with its string and/or numeric literals masked, and how many were. Whatever the input (hostile, cut,
 * not SQL at all), it returns: the worst outcome is masking too much.
 */
export function maskSqlLiterals(sql: string, opts: MaskOptions = { strings: true, numbers: true }): MaskResult {
  if (typeof sql !== 'string') return { text: '', masked: 0 };
  const n = sql.length;
  let out = '';
  let copied = 0;       // sql[0, copied) is in out
  let masked = 0;
  const replace = (from: number, to: number, mask: string) => { out += sql.slice(copied, from) + mask; copied = to; masked++; };
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    // comments: -- to the end of the line, /* nested */
    if (c === 45 && sql.charCodeAt(i + 1) === 45) { const nl = sql.indexOf('\n', i); i = nl < 0 ? n : nl + 1; continue; }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) { i = blockCommentEnd(sql, i); continue; }
    if (c === 39) {   // '...'
      const end = stringEnd(sql, i + 1, false);
      if (opts.strings) replace(i, end, STRING_MASK);
      i = end; continue;
    }
    if (c === 34) { i = quotedIdentEnd(sql, i); continue; }
    if (c === 36) {   // $1, $$...$$, $tag$...$tag$
      const tagLength = dollarTagLength(sql, i);
      if (tagLength > 0) {
        const tag = sql.slice(i, i + tagLength);
        const close = sql.indexOf(tag, i + tagLength);
        const end = close < 0 ? n : close + tagLength;
        if (opts.strings) replace(i, end, close < 0 ? `${tag}${DOLLAR_BODY_MASK}` : `${tag}${DOLLAR_BODY_MASK}${tag}`);
        i = end; continue;
      }
      if (tagLength < 0) {   // a tag longer than any identifier: masked to the end, never searched for
        if (opts.strings) replace(i, n, `$${DOLLAR_BODY_MASK}`);
        i = n; continue;
      }
      i++;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      continue;
    }
    if (c === 46 && sql.charCodeAt(i + 1) === 46) { i += 2; continue; }   // `..` (PL/pgSQL ranges: 1..10)
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      const end = numberEnd(sql, i);
      if (opts.numbers) replace(i, end, NUMBER_MASK);
      i = end;
      // trailing junk (`123abc`: PostgreSQL 16 refuses it, older ones read 123 then abc): an identifier, kept
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentCont(sql.charCodeAt(j))) j++;
      const word = j - i;
      const next = sql.charCodeAt(j);
      if (word === 1 && next === 39) {   // E'..', B'..', X'..', N'..'
        const p = c | 0x20;
        if (p === 0x65 || p === 0x62 || p === 0x78 || p === 0x6e) {
          const end = stringEnd(sql, j + 1, p === 0x65);
          if (opts.strings) replace(i, end, STRING_MASK);
          i = end; continue;
        }
      }
      if (word === 1 && (c | 0x20) === 0x75 && next === 38) {   // U&'...' and U&"..."
        const q = sql.charCodeAt(j + 1);
        if (q === 39) {
          const end = stringEnd(sql, j + 2, false);
          if (opts.strings) replace(i, end, STRING_MASK);
          i = end; continue;
        }
        if (q === 34) { i = quotedIdentEnd(sql, j + 1); continue; }
      }
      i = j; continue;
    }
    i++;
  }
  if (copied === 0) return { text: sql, masked: 0 };
  return { text: out + sql.slice(copied), masked };
}
