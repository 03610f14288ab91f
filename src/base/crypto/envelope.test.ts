import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { EnvelopeError, EnvelopeErrorCode, open, rewrap, seal, SealedSecret } from './envelope';
import { keyring, MasterKeyring } from './master-keys';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring1 = keyring(new Map([[1, k1]]));
const ring21 = keyring(new Map([[2, k2], [1, k1]]));   // 2 current, 1 kept to open
const ring2 = keyring(new Map([[2, k2]]));
const SERVICE_A = '6f1d1a4e-0000-4000-8000-00000000000a';
const SERVICE_B = '6f1d1a4e-0000-4000-8000-00000000000b';
const URL = 'postgres://avnadmin:s3cret-Pässword@db.example.com:5432/defaultdb?sslmode=require';

function code(fn: () => unknown): EnvelopeErrorCode {
  try { fn(); } catch (err) {
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as Error).message).not.toContain('s3cret');
    expect((err as Error).message).not.toContain(k1.toString('base64'));
    return (err as EnvelopeError).code;
  }
  throw new Error('expected a refusal');
}

const copy = (s: SealedSecret): SealedSecret => ({ keyVersion: s.keyVersion, wrappedKey: Buffer.from(s.wrappedKey),
  keyNonce: Buffer.from(s.keyNonce), ciphertext: Buffer.from(s.ciphertext), nonce: Buffer.from(s.nonce) });

describe('envelope: seal / open', () => {
  it('round trip, for texts of every size', () => {
    for (const text of ['', 'x', URL, 'é'.repeat(3000)]) {
      const s = seal(ring1, SERVICE_A, text);
      expect(open(ring1, SERVICE_A, s)).toBe(text);
    }
  });

  it('stores nothing of the secret in clear, and two seals of one secret share no bytes of note', () => {
    const a = seal(ring1, SERVICE_A, URL);
    const b = seal(ring1, SERVICE_A, URL);
    for (const part of [a.wrappedKey, a.keyNonce, a.ciphertext, a.nonce]) {
      expect(part.includes(Buffer.from('s3cret'))).toBe(false);
      expect(part.toString('latin1')).not.toContain('avnadmin');
    }
    expect(a.ciphertext.length).toBe(Buffer.byteLength(URL) + 16);
    expect(a.wrappedKey.length).toBe(48);
    expect([a.keyNonce.length, a.nonce.length]).toEqual([12, 12]);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.keyVersion).toBe(1);
  });

  it('a change of any single byte of any part refuses to open (DECRYPTION_FAILED), never a wrong plaintext', () => {
    const s = seal(ring1, SERVICE_A, URL);
    let tried = 0;
    for (const part of ['wrappedKey', 'keyNonce', 'ciphertext', 'nonce'] as const) {
      for (let i = 0; i < s[part].length; i++) {
        for (const flip of [0x01, 0x80]) {
          const t = copy(s);
          t[part][i] ^= flip;
          expect(code(() => open(ring1, SERVICE_A, t))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
          tried += 1;
        }
      }
    }
    expect(tried).toBe(2 * (48 + 12 + s.ciphertext.length + 12));
    expect(open(ring1, SERVICE_A, s)).toBe(URL);   // the original still opens
  });

  it('a part cut short or lengthened refuses to open', () => {
    const s = seal(ring1, SERVICE_A, URL);
    for (const part of ['wrappedKey', 'keyNonce', 'ciphertext', 'nonce'] as const) {
      const shorter = { ...copy(s), [part]: s[part].subarray(0, s[part].length - 1) };
      const longer = { ...copy(s), [part]: Buffer.concat([s[part], Buffer.from([0])]) };
      expect([EnvelopeErrorCode.DECRYPTION_FAILED, EnvelopeErrorCode.MALFORMED]).toContain(code(() => open(ring1, SERVICE_A, shorter)));
      expect([EnvelopeErrorCode.DECRYPTION_FAILED, EnvelopeErrorCode.MALFORMED]).toContain(code(() => open(ring1, SERVICE_A, longer)));
    }
    expect(code(() => open(ring1, SERVICE_A, { ...copy(s), ciphertext: Buffer.alloc(0) }))).toBe(EnvelopeErrorCode.MALFORMED);
  });

  it('another service id does not open it (a row copied to another service)', () => {
    const s = seal(ring1, SERVICE_A, URL);
    expect(code(() => open(ring1, SERVICE_B, s))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
    expect(code(() => open(ring1, SERVICE_A.toUpperCase(), s))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
    // only the ciphertext moved, with the other service's own key parts: still refused
    const b = seal(ring1, SERVICE_B, 'postgres://other@h/db');
    expect(code(() => open(ring1, SERVICE_B, { ...b, ciphertext: s.ciphertext, nonce: s.nonce }))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
  });

  it('a changed key version is refused: configured but wrong (DECRYPTION_FAILED), or unknown (UNKNOWN_KEY_VERSION)', () => {
    const s = seal(ring1, SERVICE_A, URL);
    const both = keyring(new Map([[1, k1], [2, k1]]));   // even the same key under another version
    expect(code(() => open(both, SERVICE_A, { ...s, keyVersion: 2 }))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
    expect(code(() => open(ring21, SERVICE_A, { ...s, keyVersion: 2 }))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
    expect(code(() => open(ring1, SERVICE_A, { ...s, keyVersion: 3 }))).toBe(EnvelopeErrorCode.UNKNOWN_KEY_VERSION);
    expect(code(() => open(ring2, SERVICE_A, s))).toBe(EnvelopeErrorCode.UNKNOWN_KEY_VERSION);
  });

  it('a wrong master key under the right version is refused', () => {
    const s = seal(ring1, SERVICE_A, URL);
    expect(code(() => open(keyring(new Map([[1, randomBytes(32)]])), SERVICE_A, s))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
  });
});

describe('envelope: rewrap (rotation)', () => {
  it('moves the data key to the current version, keeps the ciphertext, and opens without the old key', () => {
    const s = seal(ring1, SERVICE_A, URL);
    const r = rewrap(ring21, SERVICE_A, s);
    expect(r.keyVersion).toBe(2);
    expect(r.ciphertext.equals(s.ciphertext)).toBe(true);
    expect(r.nonce.equals(s.nonce)).toBe(true);
    expect(r.wrappedKey.equals(s.wrappedKey)).toBe(false);
    expect(open(ring21, SERVICE_A, r)).toBe(URL);
    expect(open(ring2, SERVICE_A, r)).toBe(URL);
    expect(code(() => open(ring2, SERVICE_A, s))).toBe(EnvelopeErrorCode.UNKNOWN_KEY_VERSION);
    // idempotent in effect: re-wrapping again stays at version 2 and still opens
    expect(open(ring2, SERVICE_A, rewrap(ring2, SERVICE_A, r))).toBe(URL);
  });

  it('refuses what does not open (it never writes a row it could not read back)', () => {
    const s = seal(ring1, SERVICE_A, URL);
    expect(code(() => rewrap(ring21, SERVICE_B, s))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
    const t = copy(s);
    t.ciphertext[0] ^= 1;
    expect(code(() => rewrap(ring21, SERVICE_A, t))).toBe(EnvelopeErrorCode.DECRYPTION_FAILED);
  });
});

describe('keyring', () => {
  it('never shows key material when printed or serialised', () => {
    const ring: MasterKeyring = ring21;
    for (const text of [inspect(ring), JSON.stringify(ring), String(JSON.stringify({ ring }))]) {
      expect(text).not.toContain(k1.toString('base64'));
      expect(text).not.toContain(k2.toString('base64'));
      expect(text).not.toContain(k1.toString('hex'));
    }
    expect(inspect(ring)).toContain('current 2');
  });
});
