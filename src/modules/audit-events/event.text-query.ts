/**
 * `AuditEventFilter.text`: a tiny grammar of our own, parsed here, turned into OpenSearch clauses in which
 * the user's text is only ever a VALUE (of `match`, `match_phrase`, `term` and `prefix`). Nothing a user
 * types reaches a query parser (no query_string, no wildcard, no regexp). Pure: no I/O.
 *
 * Grammar (README "Searching statements"):
 * - the text is split at white space into words; every word (and phrase) must match: AND;
 * - `"..."` is a phrase: its words adjacent and in order, as the standard analyzer splits the statement
 *   (`"hr.employee set"`); a quote that is not closed runs to the end of the text; `*` and `\` inside are
 *   plain characters;
 * - a word ending in `*` is a prefix (`emp*`): at least MIN_PREFIX_CHARS letters or digits before the star;
 * - any other character is part of its word (`\`, `:`, `(`, `{`...): the word is a value, never an operator;
 *   a word without any letter or digit (`*`, `=`, `(`) is left out, as the analyzer leaves it out;
 * - case does not matter.
 *
 * A word or prefix matches an event when it matches any of: the statement as the standard analyzer reads it
 * (what the text filter always did: indices written before searchTerms existed still answer), the
 * searchTerms of the event (event.terms.ts: every part of a qualified or underscored name, object names),
 * or the objectName exactly as typed.
 */
import { invalidArgument } from './audit-events.errors';

export const MAX_TEXT_CHARS = 500;
/** Words, prefixes and phrases in one text. */
export const MAX_TEXT_TERMS = 32;
export const MAX_TEXT_PREFIXES = 3;
export const MIN_PREFIX_CHARS = 2;
/**
 * Index terms one prefix matches, per field and daily index: the alphabetically first ones. Three fields
 * per prefix, so MAX_TEXT_PREFIXES prefixes stay well under OpenSearch's 1024 clauses of one query.
 */
export const PREFIX_EXPANSIONS = 100;

const ARG = 'filter.text';
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const LETTERS_OR_DIGITS = /[\p{L}\p{N}]/gu;

export type TextTerm = { kind: 'word' | 'prefix' | 'phrase'; value: string };

/** The text's words, prefixes and phrases, in order; INVALID_ARGUMENT (filter.text) when out of bounds. */
export function parseText(text: string): TextTerm[] {
  if (text.length > MAX_TEXT_CHARS) throw invalidArgument(`${ARG} is at most ${MAX_TEXT_CHARS} characters`, ARG);
  const out: TextTerm[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (/\s/u.test(text[i]!)) { i++; continue; }
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close < 0 ? n : close;
      const value = text.slice(i + 1, end).trim();
      if (LETTER_OR_DIGIT.test(value)) out.push({ kind: 'phrase', value });
      i = end + 1;
      continue;
    }
    let k = i;
    while (k < n && !/\s/u.test(text[k]!)) k++;
    const word = text.slice(i, k);
    i = k;
    const stem = word.replace(/\*+$/, '');
    if (!LETTER_OR_DIGIT.test(stem)) continue;
    if (stem.length < word.length) {
      if ((stem.match(LETTERS_OR_DIGITS)?.length ?? 0) < MIN_PREFIX_CHARS) {
        throw invalidArgument(`${ARG}: a prefix (a word ending in *) needs at least ${MIN_PREFIX_CHARS} letters or digits before the *`, ARG);
      }
      out.push({ kind: 'prefix', value: stem });
    } else {
      out.push({ kind: 'word', value: word });
    }
  }
  if (out.length > MAX_TEXT_TERMS) throw invalidArgument(`${ARG}: at most ${MAX_TEXT_TERMS} words and phrases`, ARG);
  if (out.filter((t) => t.kind === 'prefix').length > MAX_TEXT_PREFIXES) {
    throw invalidArgument(`${ARG}: at most ${MAX_TEXT_PREFIXES} prefixes (words ending in *)`, ARG);
  }
  return out;
}

type Clause = Record<string, unknown>;
const anyOf = (should: Clause[]): Clause => ({ bool: { should, minimum_should_match: 1 } });

/** One clause per word, prefix or phrase, all to hold (a filter: pages sort by time, nothing is scored). */
export function textClauses(terms: readonly TextTerm[]): Clause[] {
  return terms.map(({ kind, value }) => {
    const lower = value.toLowerCase();
    switch (kind) {
      case 'word':
        return anyOf([{ match: { statement: { query: value, operator: 'and' } } }, { term: { searchTerms: lower } }, { term: { objectName: value } }]);
      case 'prefix': {
        const rewrite = `top_terms_${PREFIX_EXPANSIONS}`;
        return anyOf([{ prefix: { statement: { value: lower, rewrite } } }, { prefix: { searchTerms: { value: lower, rewrite } } },
          { prefix: { objectName: { value, rewrite } } }]);
      }
      case 'phrase':
        return anyOf([{ match_phrase: { statement: { query: value } } }, { term: { searchTerms: lower } }, { term: { objectName: value } }]);
    }
  });
}

/** The clauses of a text filter; a text of no word at all (only `*`, `(`, `=`...) matches nothing, as the plain match did. */
export function textFilter(text: string): Clause[] {
  const terms = parseText(text);
  return terms.length > 0 ? textClauses(terms) : [{ match_none: {} }];
}
