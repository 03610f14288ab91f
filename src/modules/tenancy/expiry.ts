/**
 * When a token expires, from `admin create-token --expires-in DURATION` or `--expires-at ISO`. Pure.
 *   --expires-in: a positive whole number and a unit: `30m`, `12h`, `90d`, `2w` (minutes, hours, days, weeks).
 *   --expires-at: an ISO 8601 date-time with a time zone (`2027-01-31T00:00:00Z`, `...+02:00`), or a date
 *   (`2027-01-31`, midnight UTC); it must be in the future.
 * Neither: the token never expires (as tokens made before expiry existed). There is no maximum: a cap would
 * only push callers to the one choice without any limit.
 */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The latest expiry accepted: JavaScript dates and PostgreSQL timestamps both hold it comfortably. */
const LATEST = Date.UTC(9999, 11, 31);

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Whether the date part names a real day (Date.parse reads 2027-02-30 as 2 March). */
function realDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

export type Expiry = { expiresAt: Date | null } | { problem: string };

export function tokenExpiry(opts: { expiresIn?: string; expiresAt?: string }, now: Date): Expiry {
  if (opts.expiresIn !== undefined && opts.expiresAt !== undefined) return { problem: 'give --expires-in or --expires-at, not both' };
  if (opts.expiresIn !== undefined) {
    const m = /^(\d{1,7})([mhdw])$/.exec(opts.expiresIn.trim());
    if (!m || Number(m[1]) === 0) return { problem: '--expires-in takes a positive duration such as 30m, 12h, 90d or 2w' };
    const at = now.getTime() + Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    if (at > LATEST) return { problem: '--expires-in is too far in the future' };
    return { expiresAt: new Date(at) };
  }
  if (opts.expiresAt !== undefined) {
    const text = opts.expiresAt.trim();
    const at = ISO.test(text) && realDate(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : NaN;
    if (Number.isNaN(at)) return { problem: '--expires-at takes an ISO 8601 date-time with a time zone, e.g. 2027-01-31T00:00:00Z, or a date' };
    if (at <= now.getTime()) return { problem: '--expires-at must be in the future' };
    if (at > LATEST) return { problem: '--expires-at is too far in the future' };
    return { expiresAt: new Date(at) };
  }
  return { expiresAt: null };
}

/** Whether a token with this expiry is expired at `now` (the instant itself counts as expired). */
export const isExpired = (expiresAt: Date | null, now: number): boolean => expiresAt !== null && expiresAt.getTime() <= now;

/** What `admin list-tokens` says of a token at `now`: a revoked token is revoked whatever its expiry. */
export function tokenStatus(t: { revokedAt: Date | null; expiresAt: Date | null }, now: number): 'active' | 'expired' | 'revoked' {
  return t.revokedAt ? 'revoked' : isExpired(t.expiresAt, now) ? 'expired' : 'active';
}
