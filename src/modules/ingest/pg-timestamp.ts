/**
 * PostgreSQL's log timestamps (`2026-11-24 19:25:37.255 UTC`, `... 19:25:37 +03`, %n's epoch seconds) to
 * ISO-8601 UTC with milliseconds. Pure: no I/O, never throws. Every splitter parses one timestamp per
 * record, so the usual form (a UTC zone) has a fast path without a regex match or Date objects, and the
 * last second converted is remembered in a TimestampCache (consecutive log lines mostly fall in the same
 * second): each splitter holds its own.
 */

const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([A-Za-z]{1,10}|[+-]\d{2}(?::?\d{2})?)$/;
const UTC_NAMES = new Set(['UTC', 'GMT', 'UCT', 'Z', 'UT', 'Zulu']);

/** The last second isoSecondOf converted: consecutive log lines mostly fall in the same second. */
export interface TimestampCache { lastSecond: { text: string; iso: string } | null }

export const newTimestampCache = (): TimestampCache => ({ lastSecond: null });

/** The cache of callers that pass none (parsePgTimestamp used on its own, outside a splitter). */
const sharedCache = newTimestampCache();

/**
 * PostgreSQL's log time form (`2026-11-24 19:25:37.255 UTC`, `... 19:25:37 +03`) to ISO-8601 UTC with
 * milliseconds; null when it is not one or names an unknown zone abbreviation. Sub-millisecond digits
 * are dropped. `cache` only saves work: the answer is the same with any cache.
 */
export function parsePgTimestamp(text: string, zoneAbbreviations?: Readonly<Record<string, number>>,
  cache: TimestampCache = sharedCache): string | null {
  const fast = utcTimestampFast(text, cache);
  if (fast !== undefined) return fast;
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  let offsetMinutes: number;
  if (UTC_NAMES.has(zone)) offsetMinutes = 0;
  else if (zone[0] === '+' || zone[0] === '-') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (hours > 15 || minutes > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  } else if (zoneAbbreviations && Object.prototype.hasOwnProperty.call(zoneAbbreviations, zone)
    && Number.isFinite(zoneAbbreviations[zone])) {
    offsetMinutes = zoneAbbreviations[zone]!;
  } else return null;
  return utcIso(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s),
    frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0, offsetMinutes);
}

/**
 * Fast path of parsePgTimestamp for the usual form, `YYYY-MM-DD HH:MM:SS[.f{1,6}] UTC` (any UTC_NAMES
 * zone), without a regex match or Date objects: with a zero offset and a 4-digit year, the ISO string
 * is the text's own digits rearranged (`YYYY-MM-DDTHH:MM:SS.mmmZ`, the fraction cut or zero-padded to 3
 * digits, as utcIso gives). Returns undefined for anything else, invalid dates included, so that the
 * general path decides those exactly as before.
 */
function utcTimestampFast(text: string, cache: TimestampCache): string | undefined {
  if (text.length < 21) return undefined;
  let p = 19; // after the seconds
  if (text.charCodeAt(p) === 0x2e /* . */) {
    p += 1;
    while (p < text.length && isDigit(text.charCodeAt(p))) p += 1;
    if (p === 20 || p > 26) return undefined; // 1 to 6 fraction digits
  }
  if (text.charCodeAt(p) !== 0x20 || !UTC_NAMES.has(text.slice(p + 1))) return undefined;
  const isoSecond = isoSecondOf(text, cache);
  if (isoSecond === undefined) return undefined;
  const millis = p === 19 ? '000' : text.slice(20, Math.min(p, 23)).padEnd(3, '0'); // sub-millisecond digits dropped
  return isoSecond + `${millis}Z`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.` for text starting with a valid `YYYY-MM-DD HH:MM:SS` (year 1000 or later, a
 * day that exists), else undefined.
 */
function isoSecondOf(text: string, cache: TimestampCache): string | undefined {
  const lastSecond = cache.lastSecond;
  if (lastSecond !== null && text.startsWith(lastSecond.text)) return lastSecond.iso;
  if (text.charCodeAt(4) !== 0x2d /* - */ || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x20
    || text.charCodeAt(13) !== 0x3a /* : */ || text.charCodeAt(16) !== 0x3a) return undefined;
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  if (century < 0 || yy < 0) return undefined;
  const y = century * 100 + yy;
  const mo = twoDigits(text, 5);
  const d = twoDigits(text, 8);
  const h = twoDigits(text, 11);
  const mi = twoDigits(text, 14);
  const s = twoDigits(text, 17);
  // twoDigits is -1 for a non-digit, which every range check below rejects.
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  cache.lastSecond = { text: text.slice(0, 19), iso: `${text.slice(0, 10)}T${text.slice(11, 19)}.` };
  return cache.lastSecond.iso;
}

export function isDigit(c: number): boolean { return c >= 0x30 && c <= 0x39; }

/** The 2-digit number at `i`, or -1 when either character is not a digit. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 0x30;
  const b = text.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days in month `mo` (1-12) of year `y` in the proleptic Gregorian calendar, as Date uses. */
function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

function utcIso(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offsetMinutes: number): string | null {
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(local);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null; // 2026-02-30
  const t = local - offsetMinutes * 60_000;
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** %n: Unix epoch seconds with milliseconds (`1764012337.255`). */
export function parseEpochSeconds(text: string): string | null {
  if (!/^\d{1,12}(?:\.\d{1,6})?$/.test(text)) return null;
  const ms = Math.round(Number(text) * 1000);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
