/**
 * The named detectors a redaction rule set can turn on: each finds the spans of one kind of secret in any text
 * (a statement, a parameter, a dead letter's line) by a hand-written scan. Pure, never throws, linear time: no
 * regular expression runs on logged text, and users cannot supply patterns (README, "Redaction at ingest":
 * V8's regular expressions backtrack, so a caller's pattern could make the ingester run for hours on one line).
 * One table, PATTERNS: the GraphQL enum, validation, the masks and the docs all come from it.
 */

/** A span [start, end) of the text to replace by its pattern's mask. */
export type Span = readonly [number, number];

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlnum = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isBase64Url = (c: number) => isAlnum(c) || c === 45 || c === 95;
/** RFC 5322's atext, the usual part of it: letters, digits and . _ % + - */
const isLocalPart = (c: number) => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomainChar = (c: number) => isAlnum(c) || c === 45 || c === 46;

/** Card lengths (ISO/IEC 7812 PANs as issued: 13 to 19 digits). */
const CARD_MIN_DIGITS = 13;
const CARD_MAX_DIGITS = 19;

/** The Luhn check over the digits of `text` in the groups [from, to) of `groups` (pairs of offsets). */
function luhn(text: string, groups: number[], from: number, to: number): boolean {
  let sum = 0;
  let double = false;
  for (let g = to - 1; g >= from; g--) {
    for (let i = groups[2 * g + 1]! - 1; i >= groups[2 * g]!; i--) {
      let d = text.charCodeAt(i) - 48;
      if (double) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
      double = !double;
    }
  }
  return sum % 10 === 0;
}

/**
 * Card numbers: 13 to 19 digits, written whole or in groups separated by one space or dash
 * (`4111 1111 1111 1111`, `4111-1111-1111-1111`, `378282246310005`), starting with 2 to 6 (the issuer ranges in
 * use: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6), passing the Luhn check. A group is a
 * whole run of digits: a card is never found inside a longer number, and a run of groups is tried from each group
 * for the longest valid card (at most 19 groups each: linear time).
 */
function findCardNumbers(text: string): Span[] {
  const spans: Span[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) { i++; continue; }
    // most numbers are short: count the run's digits before anything is allocated
    let j = i;
    let total = 0;
    for (;;) {
      const c = text.charCodeAt(j);
      if (isDigit(c)) { total++; j++; continue; }
      if ((c === 32 || c === 45) && isDigit(text.charCodeAt(j + 1))) { j++; continue; }
      break;
    }
    if (total < CARD_MIN_DIGITS) { i = j; continue; }
    // a run of digit groups joined by single separators: [start0, end0, start1, end1, ...]
    const groups: number[] = [];
    j = i;
    for (;;) {
      const start = j;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      groups.push(start, j);
      const sep = text.charCodeAt(j);
      if ((sep === 32 || sep === 45) && isDigit(text.charCodeAt(j + 1))) { j++; continue; }
      break;
    }
    const count = groups.length / 2;
    for (let a = 0; a < count;) {
      const first = text.charCodeAt(groups[2 * a]!);
      let digits = 0;
      let best = -1;
      if (first >= 50 && first <= 54) {
        for (let b = a; b < count; b++) {
          digits += groups[2 * b + 1]! - groups[2 * b]!;
          if (digits > CARD_MAX_DIGITS) break;
          if (digits >= CARD_MIN_DIGITS && luhn(text, groups, a, b + 1)) best = b;
        }
      }
      if (best >= 0) { spans.push([groups[2 * a]!, groups[2 * best + 1]!]); a = best + 1; } else a++;
    }
    i = j;
  }
  return spans;
}

/**
 * E-mail addresses: local@domain, the local part of letters, digits and `._%+-`, the domain of at least two
 * labels ending in a top-level label of two or more letters. Each character is looked at by at most one backward
 * and one forward scan (each bounded by the neighbouring `@`): linear time.
 */
function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  const n = text.length;
  let floor = 0;   // no span starts before the end of the last one
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', Math.max(at + 1, floor))) {
    let s = at;
    while (s > floor && isLocalPart(text.charCodeAt(s - 1))) s--;
    if (s === at) continue;
    let e = at + 1;
    while (e < n && isDomainChar(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
    let lastDot = e - 1;
    while (lastDot > at && text.charCodeAt(lastDot) !== 46) lastDot--;   // within the domain only
    if (lastDot <= at + 1 || e - lastDot - 1 < 2) continue;
    let tld = true;
    for (let k = lastDot + 1; k < e; k++) { const c = text.charCodeAt(k) | 0x20; if (c < 97 || c > 122) { tld = false; break; } }
    if (!tld) continue;
    spans.push([s, e]);
    floor = e;
  }
  return spans;
}

/** The end of the run of base64url characters from `i`. */
function base64UrlEnd(text: string, i: number): number {
  while (i < text.length && isBase64Url(text.charCodeAt(i))) i++;
  return i;
}

/**
 * JSON Web Tokens (and other JWS compact forms): `eyJ` (base64url of `{"`), then base64url, `.`, a payload of at
 * least 4 base64url characters, `.`, and a signature (possibly empty: alg none). A failed try skips the whole run it
 * looked at, so each character is scanned a bounded number of times.
 */
function findJwts(text: string): Span[] {
  const spans: Span[] = [];
  for (let i = text.indexOf('eyJ'); i >= 0; i = text.indexOf('eyJ', i)) {
    const headerEnd = base64UrlEnd(text, i + 3);
    if (i > 0 && isBase64Url(text.charCodeAt(i - 1))) { i = headerEnd; continue; }
    if (text.charCodeAt(headerEnd) !== 46) { i = headerEnd; continue; }
    const payloadEnd = base64UrlEnd(text, headerEnd + 1);
    if (payloadEnd - headerEnd - 1 < 4 || text.charCodeAt(payloadEnd) !== 46) { i = headerEnd; continue; }
    const end = base64UrlEnd(text, payloadEnd + 1);
    spans.push([i, end]);
    i = end;
  }
  return spans;
}

/** AWS access key ids: AKIA or ASIA and 16 upper-case letters or digits, as a whole word. */
function findAwsAccessKeyIds(text: string): Span[] {
  const spans: Span[] = [];
  const scan = (prefix: string) => {
    for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(prefix, i + 4)) {
      if (i > 0 && isAlnum(text.charCodeAt(i - 1))) continue;
      let k = i + 4;
      while (k < i + 20 && k < text.length) { const c = text.charCodeAt(k); if (!(isDigit(c) || (c >= 65 && c <= 90))) break; k++; }
      if (k === i + 20 && !isAlnum(text.charCodeAt(k))) spans.push([i, k]);
    }
  };
  scan('AKIA'); scan('ASIA');
  return spans;
}

/** The detectors, by the name rules use (GraphQL enum RedactionPattern). `mask` replaces what is found. */
export const PATTERNS = {
  CARD_NUMBER: { find: findCardNumbers, mask: '[REDACTED:CARD_NUMBER]',
    description: 'Payment card numbers: 13 to 19 digits starting with 2 to 6, whole or in groups separated by one space or dash, passing the Luhn check.' },
  EMAIL: { find: findEmails, mask: '[REDACTED:EMAIL]',
    description: 'E-mail addresses (local part of letters, digits and ._%+-; a domain of two or more labels).' },
  JWT: { find: findJwts, mask: '[REDACTED:JWT]',
    description: 'JSON Web Tokens: eyJ... header, payload and signature in base64url, separated by dots.' },
  AWS_ACCESS_KEY_ID: { find: findAwsAccessKeyIds, mask: '[REDACTED:AWS_ACCESS_KEY_ID]',
    description: 'AWS access key ids: AKIA or ASIA followed by 16 upper-case letters or digits.' },
} as const satisfies Record<string, { find: (text: string) => Span[]; mask: string; description: string }>;

export type PatternName = keyof typeof PATTERNS;
export const PATTERN_NAMES = Object.keys(PATTERNS) as PatternName[];
export const isPatternName = (s: string): s is PatternName => Object.hasOwn(PATTERNS, s);

/**
 * `text` with every span the named detectors find replaced by its mask, and how many. Overlapping finds (an
 * e-mail address made of digits...) are merged into the first one's mask.
 */
export function maskPatterns(text: string, names: readonly PatternName[]): { text: string; masked: number } {
  if (names.length === 0 || text.length === 0) return { text, masked: 0 };
  const found: { start: number; end: number; mask: string }[] = [];
  for (const name of names) {
    const p = PATTERNS[name];
    for (const [start, end] of p.find(text)) found.push({ start, end, mask: p.mask });
  }
  if (found.length === 0) return { text, masked: 0 };
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let copied = 0;
  let masked = 0;
  for (const f of found) {
    if (f.start < copied) { copied = Math.max(copied, f.end); continue; }
    out += text.slice(copied, f.start) + f.mask;
    copied = f.end;
    masked++;
  }
  return { text: out + text.slice(copied), masked };
}
