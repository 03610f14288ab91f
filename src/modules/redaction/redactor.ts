/**
 * A service's rules at one version, ready to apply: what the ingester calls on every event and dead letter
 * between parsing and encoding the bulk request. Pure (no I/O), never throws, linear in the text.
 *
 * - event: statement -> literals masked (sql-literal.masker.ts), then patterns masked; parameters -> dropped
 *   (null) or, when kept, each pattern-masked; `redaction` records the rules' version and what was taken out.
 *   The id is never touched: it derives from the record's position or session line, not its text.
 * - dead letter: its line could not be parsed, so what is a literal or a parameter in it cannot be told. When
 *   the rules mask literals or drop parameters, the excerpt keeps its shape only (letters -> x, digits -> 9, any
 *   other non-ASCII character -> x; punctuation and spacing kept: enough to see why it did not parse) and the
 *   reason (which may quote the line) becomes a fixed sentence for its code. With patterns only, both are
 *   pattern-masked, and what was cut (the end of a truncated excerpt, a quoted field cut at `…` in a reason) loses
 *   its last word and the digit groups before it: a secret cut in half is no longer a match, so it is dropped.
 */
import type { AuditEvent } from '../audit-events/event.document';
import type { DeadLetterCode } from '../audit-events/event.index';
import { maskPatterns } from './pattern.detectors';
import { isActive, NO_REDACTION, RedactionRules, withholdsLines } from './redaction.rules';
import { maskSqlLiterals } from './sql-literal.masker';

/** What a dead letter's reason says when the rules withhold its details (the code stays as it is). */
export const WITHHELD_REASON = {
  malformed: 'not a log record of the format',
  record_too_large: 'a record over the ingester\'s maximum record size',
  malformed_audit: 'an AUDIT: message that is not a well-formed pgaudit record',
  not_from_pgaudit: 'an AUDIT: message pgaudit cannot have written (a CONTEXT or STATEMENT attached)',
  timestamp_out_of_window: 'an event time outside the accepted window',
  malformed_session: 'a connection or disconnection line that does not parse',
  not_from_server: 'a connection line the server cannot have written (a CONTEXT or STATEMENT attached)',
  unauthenticated_source: 'a message of a shared log stream that is not signed for the service it names',
} as const satisfies Record<DeadLetterCode, string>;

/** A line in shape only: ASCII letters and any non-ASCII character -> x, digits -> 9, the rest kept. */
export function lineShape(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const r = c >= 48 && c <= 57 ? '9' : (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128 ? 'x' : null;
    if (r === null) continue;
    if (i > from) out += text.slice(from, i);
    // a surrogate pair is one character: one x
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { const d = text.charCodeAt(i + 1); if (d >= 0xdc00 && d <= 0xdfff) i++; }
    out += r;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isDigitOrSeparator = (c: number) => (c >= 48 && c <= 57) || c === 32 || c === 45;
const CUT = '…';

/**
 * `text` without what precedes each cut point (each `…`, and the end when `cutAtEnd`): the word cut there and
 * the digit groups before it (the start of a card number cut in half). Each walk back stops at the previous cut
 * point: linear time.
 */
export function dropCutTails(text: string, cutAtEnd: boolean): string {
  let out = '';
  let from = 0;
  const cut = (at: number) => {
    let s = at;
    while (s > from && !isSpace(text.charCodeAt(s - 1))) s--;
    while (s > from && isDigitOrSeparator(text.charCodeAt(s - 1))) s--;
    out += text.slice(from, s);
  };
  for (let at = text.indexOf(CUT); at >= 0; at = text.indexOf(CUT, at + 1)) { cut(at); from = at; }
  if (cutAtEnd && from < text.length) { cut(text.length); return `${out}${CUT}`; }
  return from === 0 ? text : out + text.slice(from);
}

export class Redactor {
  readonly active: boolean;
  private readonly withholdLines: boolean;

  constructor(readonly rules: RedactionRules, readonly version: number) {
    this.active = isActive(rules);
    this.withholdLines = withholdsLines(rules);
  }

  /** Redacts the event in place (it is the ingest loop's own fresh object); no rules: untouched. */
  event(e: AuditEvent): void {
    if (!this.active) return;
    const r = this.rules;
    let literalsMasked = 0;
    let patternsMasked = 0;
    if (e.statement !== null) {
      let text = e.statement;
      if (r.maskStringLiterals || r.maskNumericLiterals) {
        const m = maskSqlLiterals(text, { strings: r.maskStringLiterals, numbers: r.maskNumericLiterals });
        text = m.text; literalsMasked = m.masked;
      }
      if (r.patterns.length > 0) {
        const p = maskPatterns(text, r.patterns);
        text = p.text; patternsMasked += p.masked;
      }
      e.statement = text;
    }
    const parametersDropped = r.dropParameters && e.parameters !== null;
    if (r.dropParameters) e.parameters = null;
    else if (e.parameters !== null && r.patterns.length > 0) {
      for (let i = 0; i < e.parameters.length; i++) {
        const p = maskPatterns(e.parameters[i]!, r.patterns);
        e.parameters[i] = p.text; patternsMasked += p.masked;
      }
    }
    e.redaction = { rulesVersion: this.version, parametersDropped, literalsMasked, patternsMasked };
  }

  /** A dead letter's reason and excerpt as they may be stored (before they are cut to size); `truncated`: the excerpt is the start of a longer line. */
  deadLetter(code: DeadLetterCode, reason: string, excerpt: string, truncated = false): { reason: string; excerpt: string } {
    if (!this.active) return { reason, excerpt };
    if (this.withholdLines) {
      return { reason: `${WITHHELD_REASON[code]} (details withheld by redaction rules v${this.version})`, excerpt: lineShape(excerpt) };
    }
    return { reason: dropCutTails(maskPatterns(reason, this.rules.patterns).text, false),
      excerpt: dropCutTails(maskPatterns(excerpt, this.rules.patterns).text, truncated) };
  }
}

/** What an ingester without rules applies: nothing. */
export const NO_REDACTOR = new Redactor(NO_REDACTION, 0);
