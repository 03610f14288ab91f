/**
 * SQL quoting for the statements the gateway runs on customer servers (pure, no I/O).
 *
 * Used where bind parameters are impossible (ALTER SYSTEM / ALTER DATABASE ... SET take no $1).
 */

/** Always double-quoted identifier, inner " doubled. Throws on NUL or empty. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string') throw new TypeError('quoteIdent: identifier must be a string');
  if (name.length === 0) throw new Error('quoteIdent: an identifier cannot be empty');
  if (name.includes('\0')) throw new Error('quoteIdent: an identifier cannot contain a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * SQL string literal: '...' with ' doubled; if the text has a backslash, E'...' with backslashes
 * doubled too (safe whatever standard_conforming_strings is). Throws on NUL.
 */
export function quoteLiteral(text: string): string {
  if (typeof text !== 'string') throw new TypeError('quoteLiteral: value must be a string');
  if (text.includes('\0')) throw new Error('quoteLiteral: a string literal cannot contain a NUL character');
  const quoted = text.replace(/'/g, "''");
  if (!text.includes('\\')) return `'${quoted}'`;
  return `E'${quoted.replace(/\\/g, '\\\\')}'`;
}
