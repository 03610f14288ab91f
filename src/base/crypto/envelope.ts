/**
 * Authenticated envelope encryption of a small secret (a service's connection URL), with node:crypto only.
 *
 *   data key   32 random bytes, one per sealed secret
 *   ciphertext AES-256-GCM(data key, nonce, secret), AAD = "pg-audit-gateway/secret/v1" NUL context
 *   wrappedKey AES-256-GCM(master key[version], keyNonce, data key), AAD = "pg-audit-gateway/data-key/v1" NUL context NUL version
 *
 * `context` names what the secret belongs to (a service id): a sealed secret copied to another context
 * does not open, nor does one whose key version was changed, nor one with any byte altered (GCM tags
 * are 16 bytes, nonces 12 random bytes). Rotation re-wraps the data key under the current master key and
 * leaves the ciphertext as it is. Pure apart from the random source; errors never carry the secret or a key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../domain-error';
import type { MasterKeyring } from './master-keys';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/** A secret as stored: every part is needed to open it, and none of them reveals it without a master key. */
export interface SealedSecret {
  /** The master key version that wrapped the data key. */
  keyVersion: number;
  /** The data key, encrypted under the master key, with its GCM tag appended (48 bytes). */
  wrappedKey: Buffer;
  keyNonce: Buffer;
  /** The secret, encrypted under the data key, with its GCM tag appended. */
  ciphertext: Buffer;
  nonce: Buffer;
}

export enum EnvelopeErrorCode {
  /** Sealed under a master key version that is not configured (any more). */
  UNKNOWN_KEY_VERSION = 'UNKNOWN_KEY_VERSION',
  /** Authentication failed: another context's secret, a changed key version, a wrong key or altered bytes. */
  DECRYPTION_FAILED = 'DECRYPTION_FAILED',
  /** A part has the wrong length (not something seal() wrote). */
  MALFORMED = 'MALFORMED',
}

export class EnvelopeError extends DomainError<EnvelopeErrorCode> {}

const secretAad = (context: string) => Buffer.from(`pg-audit-gateway/secret/v1\0${context}`, 'utf8');
const keyAad = (context: string, version: number) => Buffer.from(`pg-audit-gateway/data-key/v1\0${context}\0${version}`, 'utf8');

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer, random: (n: number) => Buffer): { sealed: Buffer; nonce: Buffer } {
  const nonce = random(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { sealed, nonce };
}

function decrypt(key: Buffer, sealed: Buffer, nonce: Buffer, aad: Buffer): Buffer {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw new EnvelopeError(EnvelopeErrorCode.MALFORMED, 'sealed secret is malformed');
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new EnvelopeError(EnvelopeErrorCode.DECRYPTION_FAILED, 'sealed secret does not authenticate (another owner\'s, altered, or a wrong key)');
  }
}

function masterKey(keys: MasterKeyring, version: number): Buffer {
  const key = keys.key(version);
  if (!key) throw new EnvelopeError(EnvelopeErrorCode.UNKNOWN_KEY_VERSION, `sealed under master key version ${version}, which is not configured`);
  return key;
}

function unwrap(keys: MasterKeyring, context: string, s: SealedSecret): Buffer {
  const dataKey = decrypt(masterKey(keys, s.keyVersion), s.wrappedKey, s.keyNonce, keyAad(context, s.keyVersion));
  if (dataKey.length !== DATA_KEY_BYTES) throw new EnvelopeError(EnvelopeErrorCode.MALFORMED, 'sealed secret is malformed');
  return dataKey;
}

function wrap(keys: MasterKeyring, context: string, dataKey: Buffer, random: (n: number) => Buffer): Pick<SealedSecret, 'keyVersion' | 'wrappedKey' | 'keyNonce'> {
  const version = keys.current;
  const { sealed, nonce } = encrypt(masterKey(keys, version), dataKey, keyAad(context, version), random);
  return { keyVersion: version, wrappedKey: sealed, keyNonce: nonce };
}

/** Seals `secret` for `context` under a fresh data key wrapped by the current master key. */
export function seal(keys: MasterKeyring, context: string, secret: string, random: (n: number) => Buffer = randomBytes): SealedSecret {
  const dataKey = random(DATA_KEY_BYTES);
  try {
    const { sealed, nonce } = encrypt(dataKey, Buffer.from(secret, 'utf8'), secretAad(context), random);
    return { ...wrap(keys, context, dataKey, random), ciphertext: sealed, nonce };
  } finally { dataKey.fill(0); }
}

/** The secret sealed for `context`; EnvelopeError when it cannot be opened (never a partial or wrong plaintext). */
export function open(keys: MasterKeyring, context: string, sealed: SealedSecret): string {
  const dataKey = unwrap(keys, context, sealed);
  try {
    const plain = decrypt(dataKey, sealed.ciphertext, sealed.nonce, secretAad(context));
    try { return plain.toString('utf8'); } finally { plain.fill(0); }
  } finally { dataKey.fill(0); }
}

/**
 * The same secret with its data key re-wrapped under the current master key (the ciphertext is kept).
 * Checks that the secret still opens first, so a rotation never writes a row it could not read back.
 */
export function rewrap(keys: MasterKeyring, context: string, sealed: SealedSecret, random: (n: number) => Buffer = randomBytes): SealedSecret {
  const dataKey = unwrap(keys, context, sealed);
  try {
    decrypt(dataKey, sealed.ciphertext, sealed.nonce, secretAad(context)).fill(0);
    return { ...sealed, ...wrap(keys, context, dataKey, random) };
  } finally { dataKey.fill(0); }
}
