import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'pga_';

/** A new API token: 32 random bytes, base64url, with a recognisable prefix (for secret scanners). */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored and looked up: SHA-256 of the whole token (it has 256 bits of entropy, so no salt is needed). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The token from an `Authorization: Bearer <token>` header, or null when absent or malformed. The scheme is
 * matched case-insensitively, as HTTP auth schemes are (RFC 9110 section 11.1); the token is not.
 */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^bearer +([A-Za-z0-9_\-]{10,200})$/i.exec(header.trim());
  return match ? match[1]! : null;
}
