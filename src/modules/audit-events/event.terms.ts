/**
 * The names a statement mentions, as the text search finds them (`searchTerms`, a keyword array of the
 * stored event). Pure: no I/O.
 *
 * Why: the statement is also indexed as text with the standard analyzer (the only analyzer of the minimal
 * OpenSearch the project runs), whose tokenizer keeps `hr.raise`, `first_name` and `"Hr"."Employee"`
 * pieces together or apart in ways a person does not expect: `raise` does not find `hr.raise(1, 10)`.
 * This extracts, in JavaScript and so identically on every cluster, each compound name and its parts:
 *
 * - a name is an identifier, unquoted (`hr`, `first_name`, `foo$1`) or quoted (`"Hr"`, `"my table"`), or
 *   several joined by dots (`hr.employee`, `"Hr"."Employee"`, `e.first_name`);
 * - for a name of several parts: the whole, and every run of consecutive parts (`a.b.c`: a, b, c, a.b, b.c,
 *   a.b.c; names of more than MAX_RUN_PARTS parts give the whole and each part only);
 * - every part is split again at anything that is not a letter or digit (`_`, `$`, a space or a dash in
 *   a quoted name): `first_name` gives first_name, first, name; `user_last_login` also last_login,
 *   user_last, ... (every run, up to MAX_RUN_PARTS pieces);
 * - a name that is a single plain word (letters and digits only: `employee`, `"Employee"`) gives nothing:
 *   the standard analyzer indexes it as that same word already, and the query asks both (event.text-query.ts);
 * - everything lower-cased (quoted names too: the search is case-insensitive);
 * - string literals (`'hr.employee'::regclass`, `nextval('hr.emp_seq')`) and comments are read too, for
 *   names of letters, digits, `_` and `$` joined by dots (a quote inside them is text); numbers
 *   (`1.5`, `192.168.0.1`) and parameters (`$1`) are not names; the body of a dollar-quoted string
 *   (`DO $$ ... $$`, a function body) is read as SQL;
 * - the event's objectName gives its whole and every part, even a single word (a statement may be
 *   `<not logged>` while pgaudit names the object).
 *
 * Bounded: at most MAX_TERMS_PER_EVENT distinct terms per event (the first ones in the statement, the
 * object name's first), each at most MAX_TERM_CHARS characters (longer ones are left out); the scan stops
 * once the terms are full. What is left out is still found as the standard analyzer splits it.
 */

import { LRUCache } from 'lru-cache';

export const MAX_TERMS_PER_EVENT = 256;
export const MAX_TERM_CHARS = 128;
/** Names (or parts of a name) of more pieces than this give only the whole and each piece, not every run. */
export const MAX_RUN_PARTS = 6;

const NON_ASCII_WORD = /[\p{L}\p{N}\p{M}]/u;

/** A letter, digit, `_` or `$` (an identifier character after the first). */
function isIdentChar(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
  return NON_ASCII_WORD.test(s[i]!);
}

/** A letter or `_` (an identifier's first character). */
function isIdentStart(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  return NON_ASCII_WORD.test(s[i]!) && !/\p{N}/u.test(s[i]!);
}

const isDigit = (s: string, i: number) => { const c = s.charCodeAt(i); return c >= 48 && c <= 57; };
const PLAIN_WORD = /^[\p{L}\p{N}\p{M}]+$/u;
const PIECE = /[\p{L}\p{N}\p{M}]+/gu;
const ALL_DIGITS = /^\d+$/;

class TermSet {
  readonly terms = new Set<string>();
  get full(): boolean { return this.terms.size >= MAX_TERMS_PER_EVENT; }
  add(term: string): void {
    if (term.length === 0 || term.length > MAX_TERM_CHARS || this.full) return;
    this.terms.add(term);
  }

  /** Every run of consecutive items of `parts` (joined by `join(i, j)`), or only the whole and each item past MAX_RUN_PARTS. */
  private runs(n: number, join: (i: number, j: number) => string): void {
    if (n > MAX_RUN_PARTS) {
      this.add(join(0, n - 1));
      for (let i = 0; i < n; i++) this.add(join(i, i));
      return;
    }
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) this.add(join(i, j));
  }

  /** One name (its parts as written, quotes removed); `always`: a single plain word counts too (object names). */
  name(parts: readonly string[], always = false): void {
    if (parts.length === 0 || parts.every((p) => ALL_DIGITS.test(p))) return;
    if (parts.length === 1 && !always && PLAIN_WORD.test(parts[0]!)) return;
    const lower = parts.map((p) => p.toLowerCase());
    this.runs(lower.length, (i, j) => lower.slice(i, j + 1).join('.'));
    for (const part of lower) {
      const pieces = [...part.matchAll(PIECE)];
      if (pieces.length < 2 && (pieces.length === 0 || pieces[0]![0].length === part.length)) continue;
      // runs of pieces keep what stood between them in the part (first_name -> first_name, first, name)
      this.runs(pieces.length, (i, j) => part.slice(pieces[i]!.index, pieces[j]!.index + pieces[j]![0].length));
    }
  }
}

/** Reads a quoted identifier opening at `i` (a `"`); returns its text ("" doubled -> ") and the index after it. */
function quotedIdent(s: string, i: number): { text: string; end: number } {
  let text = '';
  let k = i + 1;
  for (;;) {
    const q = s.indexOf('"', k);
    if (q < 0) return { text: text + s.slice(k), end: s.length };
    text += s.slice(k, q);
    if (s.charCodeAt(q + 1) === 34) { text += '"'; k = q + 2; continue; }
    return { text, end: q + 1 };
  }
}

/**
 * Reads an unquoted identifier starting at `i` (an identifier start); returns its text, the index after it, and
 * whether it is a plain ASCII word (letters and digits only: alone, it gives no term).
 */
function plainIdent(s: string, i: number): { text: string; end: number; plain: boolean } {
  let k = i;
  let plain = true;
  for (; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) continue;
    if (c === 95 || c === 36 || (c >= 128 && isIdentChar(s, k))) { plain = false; continue; }
    break;
  }
  return { text: s.slice(i, k), end: k, plain };
}

/**
 * Names in free text (a string literal's or a comment's content, `s` from `from` to `to`): runs of
 * letters, digits, `_` and `$` joined by single dots.
 */
function plainNames(s: string, from: number, to: number, out: TermSet): void {
  let i = from;
  while (i < to && !out.full) {
    if (!isIdentChar(s, i)) { i++; continue; }
    const parts: string[] = [];
    let k = i;
    for (;;) {
      const start = k;
      while (k < to && isIdentChar(s, k)) k++;
      parts.push(s.slice(start, k));
      if (k + 1 < to && s.charCodeAt(k) === 46 && isIdentChar(s, k + 1)) { k++; continue; }
      break;
    }
    out.name(parts);
    i = k;
  }
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Names in SQL text: identifiers and dotted names; literals and comments through plainNames. */
function sqlNames(s: string, out: TermSet, always: boolean): void {
  let i = 0;
  const n = s.length;
  while (i < n && !out.full) {
    const c = s.charCodeAt(i);
    if (c === 39) {                                                     // '...' ('' inside; E'...' also \')
      const escapes = i > 0 && (s.charCodeAt(i - 1) | 32) === 101 && (i < 2 || !isIdentChar(s, i - 2));
      let k = i + 1;
      for (; k < n; k++) {
        const d = s.charCodeAt(k);
        if (escapes && d === 92) { k++; continue; }
        if (d === 39) { if (s.charCodeAt(k + 1) === 39) { k++; continue; } break; }
      }
      plainNames(s, i + 1, Math.min(k, n), out);
      i = k + 1;
    } else if (c === 45 && s.charCodeAt(i + 1) === 45) {                // -- comment
      const end = s.indexOf('\n', i);
      const to = end < 0 ? n : end;
      plainNames(s, i + 2, to, out);
      i = to;
    } else if (c === 47 && s.charCodeAt(i + 1) === 42) {                // /* comment */, nested as PostgreSQL does
      let depth = 1;
      let k = i + 2;
      while (k < n && depth > 0) {
        if (s.charCodeAt(k) === 47 && s.charCodeAt(k + 1) === 42) { depth++; k += 2; }
        else if (s.charCodeAt(k) === 42 && s.charCodeAt(k + 1) === 47) { depth--; k += 2; }
        else k++;
      }
      plainNames(s, i + 2, k, out);
      i = k;
    } else if (c === 36) {                                              // $1, or a $tag$ delimiter (its body is SQL)
      if (isDigit(s, i + 1)) { i++; while (i < n && isDigit(s, i)) i++; continue; }
      DOLLAR_TAG.lastIndex = i;
      i = DOLLAR_TAG.test(s) ? DOLLAR_TAG.lastIndex : i + 1;
    } else if (c === 34 || isIdentStart(s, i)) {                        // a name: identifiers joined by dots
      const first = c === 34 ? null : plainIdent(s, i);
      const dotted = (k: number) => s.charCodeAt(k) === 46 && k + 1 < n && (s.charCodeAt(k + 1) === 34 || isIdentStart(s, k + 1));
      if (first && first.plain && !always && !dotted(first.end)) { i = first.end; continue; }   // one plain word, the common case
      const parts: string[] = [];
      let k = i;
      for (;;) {
        const id = s.charCodeAt(k) === 34 ? quotedIdent(s, k) : plainIdent(s, k);
        parts.push(id.text);
        k = id.end;
        if (dotted(k)) { k++; continue; }
        break;
      }
      out.name(parts, always);
      i = k;
    } else if (isIdentChar(s, i)) {                                     // a number (digits, dots, exponent...): not a name
      while (i < n && (isIdentChar(s, i) || (s.charCodeAt(i) === 46 && isDigit(s, i + 1)))) i++;
    } else {
      i++;
    }
  }
}

/** The searchTerms of an event: its object name's terms first, then its statement's. */
export function searchTerms(statement: string | null, objectName: string | null): string[] {
  const out = new TermSet();
  if (objectName) sqlNames(objectName, out, true);
  if (statement) sqlNames(statement, out, false);
  return [...out.terms];
}

/**
 * The characters searchTermsJson keeps at most (its keys and answers together, UTF-16 code units: up to twice as
 * many bytes); a pair whose key and answer exceed TERMS_CACHE_MAX_ENTRY_CHARS is computed every time, never kept.
 */
export const TERMS_CACHE_CHARS = 4_000_000;
export const TERMS_CACHE_MAX_ENTRY_CHARS = 16_000;

const termsCache = new LRUCache<string, string>({ maxSize: TERMS_CACHE_CHARS, maxEntrySize: TERMS_CACHE_MAX_ENTRY_CHARS,
  sizeCalculation: (json, key) => Math.max(1, key.length + json.length) });

/**
 * searchTerms as the JSON text of its array ('' when there are none), remembered for the (object name, statement)
 * pairs seen last: most audit events repeat a statement (parameters as $n, an application's few queries), and
 * scanning it anew was about a seventh of the ingester's CPU (bench/README.md, "Ingest beside a raw shipper").
 * The same answer as JSON.stringify(searchTerms(...)), bounded by TERMS_CACHE_CHARS.
 */
export function searchTermsJson(statement: string | null, objectName: string | null): string {
  // the object name's length first: no (name, statement) pair's key is another's (no name and an empty one give the same terms)
  const key = objectName ? `${objectName.length}:${objectName}${statement ?? ''}` : `-${statement ?? ''}`;
  const hit = termsCache.get(key);
  if (hit !== undefined) return hit;
  const terms = searchTerms(statement, objectName);
  const json = terms.length === 0 ? '' : JSON.stringify(terms);
  termsCache.set(key, json);
  return json;
}
