import { AuditEventsError, AuditEventsErrorCode } from './audit-events.errors';
import { MAX_TEXT_PREFIXES, MAX_TEXT_TERMS, parseText, PREFIX_EXPANSIONS, textClauses, textFilter } from './event.text-query';

const refusal = (text: string): AuditEventsError => {
  try { parseText(text); } catch (e) { return e as AuditEventsError; }
  throw new Error(`accepted: ${text}`);
};

/** Every string value anywhere in a query: what the user's text may become. */
function values(q: unknown, out: string[] = []): string[] {
  if (typeof q === 'string') out.push(q);
  else if (Array.isArray(q)) q.forEach((x) => values(x, out));
  else if (q && typeof q === 'object') Object.values(q).forEach((x) => values(x, out));
  return out;
}
/** Every key anywhere in a query: the query's structure. */
function keys(q: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(q)) q.forEach((x) => keys(x, out));
  else if (q && typeof q === 'object') for (const [k, v] of Object.entries(q)) { out.add(k); keys(v, out); }
  return out;
}
const STRUCTURE = new Set(['bool', 'should', 'minimum_should_match', 'match', 'match_phrase', 'term', 'prefix', 'match_none',
  'statement', 'searchTerms', 'objectName', 'query', 'operator', 'value', 'rewrite']);

describe('parseText: the grammar', () => {
  it('words, prefixes and "phrases", in order', () => {
    expect(parseText('raise hr.raise emp* "hr.employee set" EMPLOYEE')).toEqual([
      { kind: 'word', value: 'raise' }, { kind: 'word', value: 'hr.raise' }, { kind: 'prefix', value: 'emp' },
      { kind: 'phrase', value: 'hr.employee set' }, { kind: 'word', value: 'EMPLOYEE' }]);
  });

  it('white space of any kind separates; a quote not closed runs to the end; empty phrases are nothing', () => {
    expect(parseText('a\tb\nc\u00a0d')).toEqual(['a', 'b', 'c', 'd'].map((value) => ({ kind: 'word', value })));
    expect(parseText('x "drop table')).toEqual([{ kind: 'word', value: 'x' }, { kind: 'phrase', value: 'drop table' }]);
    expect(parseText('"" "  " x')).toEqual([{ kind: 'word', value: 'x' }]);
  });

  it('stars, backslashes and quotes inside a phrase are plain characters', () => {
    expect(parseText('"emp* \\ x"')).toEqual([{ kind: 'phrase', value: 'emp* \\ x' }]);
  });

  it('a star only at the end of a word makes a prefix; more stars are one', () => {
    expect(parseText('e*p emp** hr.emp*')).toEqual([{ kind: 'word', value: 'e*p' }, { kind: 'prefix', value: 'emp' }, { kind: 'prefix', value: 'hr.emp' }]);
  });

  it('a word without letters or digits is left out, as the analyzer leaves it out (a pasted `select * from t`)', () => {
    expect(parseText('select * from t = ( ) ?*?*')).toEqual(['select', 'from', 't'].map((value) => ({ kind: 'word', value })));
    expect(parseText('* ( = ')).toEqual([]);
  });

  it.each([
    ['e*', /prefix/], ['t.*', /prefix/], ['_x*', /prefix/],
    [Array.from({ length: MAX_TEXT_TERMS + 1 }, (_, i) => `w${i}`).join(' '), /at most 32 words/],
    [Array.from({ length: MAX_TEXT_PREFIXES + 1 }, (_, i) => `ab${i}*`).join(' '), /at most 3 prefixes/],
    ['x'.repeat(501), /at most 500 characters/],
  ])('refuses %s: INVALID_ARGUMENT naming filter.text', (text, message) => {
    const e = refusal(text);
    expect(e).toBeInstanceOf(AuditEventsError);
    expect(e.code).toBe(AuditEventsErrorCode.INVALID_ARGUMENT);
    expect(e.details.argument).toBe('filter.text');
    expect(e.message).toMatch(message);
  });

  it('at the bounds it accepts', () => {
    expect(parseText(Array.from({ length: MAX_TEXT_TERMS }, (_, i) => `w${i}`).join(' '))).toHaveLength(MAX_TEXT_TERMS);
    expect(parseText('ab* cd* ef*')).toHaveLength(3);
    expect(parseText('x'.repeat(500))).toHaveLength(1);
  });
});

describe('textClauses: user text only as values', () => {
  it('a word: the statement as analysed (old indices), its lower-cased searchTerm, or the object name as typed', () => {
    expect(textClauses([{ kind: 'word', value: 'Hr.Raise' }])).toEqual([{ bool: { minimum_should_match: 1, should: [
      { match: { statement: { query: 'Hr.Raise', operator: 'and' } } }, { term: { searchTerms: 'hr.raise' } }, { term: { objectName: 'Hr.Raise' } }] } }]);
  });

  it('a prefix: lower-cased on the analysed statement and the terms, bounded expansions', () => {
    const rewrite = `top_terms_${PREFIX_EXPANSIONS}`;
    expect(textClauses([{ kind: 'prefix', value: 'Emp' }])).toEqual([{ bool: { minimum_should_match: 1, should: [
      { prefix: { statement: { value: 'emp', rewrite } } }, { prefix: { searchTerms: { value: 'emp', rewrite } } },
      { prefix: { objectName: { value: 'Emp', rewrite } } }] } }]);
  });

  it('a phrase: match_phrase on the statement, or one name (a quoted identifier with a space, an object name)', () => {
    expect(textClauses([{ kind: 'phrase', value: 'My Table' }])).toEqual([{ bool: { minimum_should_match: 1, should: [
      { match_phrase: { statement: { query: 'My Table' } } }, { term: { searchTerms: 'my table' } }, { term: { objectName: 'My Table' } }] } }]);
  });

  it('a text of no word matches nothing, as the plain match of such a text did', () => {
    expect(textFilter('* ( =')).toEqual([{ match_none: {} }]);
  });

  it.each([
    'select * OR statement:"x" AND serviceId:other* {"script": 1} \\ /re/',
    '{"query":{"match_all":{}}} _id:* OR projectId:* [* TO *] a~10 AND b^100',
    '"}},"query":{"match_all":{}},"x":{"',
    'hr\\.raise \\"quoted\\" \\* back\\\\slash',
    '__proto__ constructor {"$gt": ""} <script>',
  ])('hostile text stays values: %s', (text) => {
    const q = textFilter(text);
    expect([...keys(q)].filter((k) => !STRUCTURE.has(k))).toEqual([]);        // no key came from the text
    const typed = parseText(text).map((t) => t.value);
    for (const v of values(q)) {
      if (v === 'and' || v.startsWith('top_terms_')) continue;
      expect(typed.some((t) => t === v || t.toLowerCase() === v)).toBe(true);   // every value is one of the user's words, as typed or lower-cased
    }
  });
});
