/** Text helpers of the settings model: PostgreSQL's ASCII-only case rules, and quoting untrusted text in messages. */
import { MAX_ECHO_CHARS } from './settings.descriptors';

/** ASCII-only lower-casing, like PostgreSQL's pg_strcasecmp (JS toLowerCase maps e.g. 'İ', 'K'). */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** ASCII-only upper-casing (JS toUpperCase maps e.g. 'ı' -> 'I' and 'ſ' -> 'S', PostgreSQL does not). */
export function asciiUpper(s: string): string {
  return s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Quote at most MAX_ECHO_CHARS characters (code points) of untrusted text, control characters escaped. */
export function echo(text: string): string {
  const chars = Array.from(text);
  if (chars.length <= MAX_ECHO_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(chars.slice(0, MAX_ECHO_CHARS).join(''))}… (${chars.length} characters)`;
}

/** Show a runtime value of unknown type safely in a message. */
export function echoUnknown(v: unknown): string {
  if (typeof v === 'string') return echo(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return echo(String(v));
  if (Array.isArray(v)) return `a list`;
  return `a value of type ${typeof v}`;
}
