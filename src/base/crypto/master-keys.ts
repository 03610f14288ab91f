/**
 * The master keys that wrap every service's data key (envelope encryption, ./envelope.ts).
 * Written as `version:base64(32 bytes)` entries separated by commas (or whitespace, in a file); the FIRST
 * entry is the current key, which seals and re-wraps; the others are kept only to open what older keys
 * sealed, until `admin rotate-key` has moved every service to the current one. Pure: no I/O.
 * Error messages name the entry by its position, never by its content: they never carry key material.
 */
import { hkdfSync } from 'node:crypto';
import { BaseError, BaseErrorCode } from '../domain-error';

export const MASTER_KEY_BYTES = 32;
export const MAX_MASTER_KEYS = 16;
export const MAX_KEY_VERSION = 2_147_483_647;   // fits PostgreSQL's integer column

export interface MasterKeyring {
  /** The version that seals and re-wraps (the first entry). */
  readonly current: number;
  /** Every configured version, current first. */
  readonly versions: readonly number[];
  /** The key of `version`, or undefined when it is not configured. */
  key(version: number): Buffer | undefined;
}

/** Why a master key list was refused; the message names the entry's position, never its content. */
export class MasterKeysError extends BaseError {
  constructor(message: string) { super(BaseErrorCode.INVALID_CONFIG, message); }
}

const ENTRY = /^([0-9]{1,10}):([A-Za-z0-9+/]{43}=)$/;

export function parseMasterKeys(text: string, source = 'CREDENTIALS_MASTER_KEYS'): MasterKeyring {
  const entries = text.split(/[\s,]+/).filter((e) => e !== '');
  if (entries.length === 0) throw new MasterKeysError(`${source} holds no key (version:base64 of 32 bytes)`);
  if (entries.length > MAX_MASTER_KEYS) throw new MasterKeysError(`${source} holds ${entries.length} keys; at most ${MAX_MASTER_KEYS}`);
  const keys = new Map<number, Buffer>();
  entries.forEach((entry, i) => {
    const m = ENTRY.exec(entry);
    const where = `${source} entry ${i + 1}`;
    if (!m) throw new MasterKeysError(`${where} is not version:base64 of ${MASTER_KEY_BYTES} bytes (e.g. 1:$(openssl rand -base64 32))`);
    const version = Number(m[1]);
    if (version < 1 || version > MAX_KEY_VERSION) throw new MasterKeysError(`${where}: the version must be an integer from 1 to ${MAX_KEY_VERSION}`);
    if (keys.has(version)) throw new MasterKeysError(`${where}: version ${version} appears twice`);
    const key = Buffer.from(m[2]!, 'base64');
    if (key.length !== MASTER_KEY_BYTES) throw new MasterKeysError(`${where} is not version:base64 of ${MASTER_KEY_BYTES} bytes`);
    if (key.every((b) => b === key[0])) throw new MasterKeysError(`${where}: the key is one byte repeated, not a random key`);
    keys.set(version, key);
  });
  return keyring(keys);
}

/** A keyring from versions and keys, the first being current (used by parseMasterKeys and tests). */
export function keyring(keys: ReadonlyMap<number, Buffer>): MasterKeyring {
  const versions = [...keys.keys()];
  if (versions.length === 0) throw new MasterKeysError('a master keyring needs at least one key');
  const copy = new Map(keys);
  return {
    current: versions[0]!,
    versions,
    key: (version) => copy.get(version),
    // never print key material, whatever logs or inspects the keyring
    toJSON: () => ({ current: versions[0], versions }),
    [Symbol.for('nodejs.util.inspect.custom')]: () => `MasterKeyring(current ${versions[0]}, versions ${versions.join(',')})`,
  } as MasterKeyring;
}

/** A fresh entry for `version`: what the dev launcher writes and what an operator adds before rotating. */
export function newMasterKeyEntry(version: number, random: (n: number) => Buffer): string {
  return `${version}:${random(MASTER_KEY_BYTES).toString('base64')}`;
}

/**
 * A key of its own for one purpose, derived from the master key of `version` (HKDF-SHA256, the purpose and the
 * subject as HKDF's info): what it protects never shares a key with the sealed credentials, and needs no storage.
 * Undefined when `version` is not configured.
 */
export function derivedKey(ring: MasterKeyring, version: number, purpose: string, subject: string): Buffer | undefined {
  const master = ring.key(version);
  return master ? Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `${purpose}\u0000${subject}`, MASTER_KEY_BYTES)) : undefined;
}
