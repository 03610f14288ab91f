import { randomBytes } from 'node:crypto';
import { keyring } from '../../base/crypto/master-keys';
import { credentialContext, CredentialVault } from './service-credential';
import { TenancyError, TenancyErrorCode } from './tenancy.errors';

const URL = 'postgres://avnadmin:vault-secret@db.example.com/defaultdb';
const A = '0b7c6d3e-1111-4111-8111-00000000000a';
const B = '0b7c6d3e-1111-4111-8111-00000000000b';
const [k1, k2] = [randomBytes(32), randomBytes(32)];
const v1 = new CredentialVault(keyring(new Map([[1, k1]])));
const v21 = new CredentialVault(keyring(new Map([[2, k2], [1, k1]])));

function refusal(fn: () => unknown): TenancyError {
  try { fn(); } catch (err) {
    expect(err).toBeInstanceOf(TenancyError);
    expect((err as Error).message).not.toContain('vault-secret');
    expect((err as Error).message).not.toContain('postgres://');
    return err as TenancyError;
  }
  throw new Error('expected a refusal');
}

describe('CredentialVault', () => {
  it('seals to the service id (case-insensitively, as the database spells it) and opens it', () => {
    const credential = v1.seal(A, URL);
    expect(v1.open({ id: A, credential })).toBe(URL);
    expect(v1.open({ id: A.toUpperCase(), credential })).toBe(URL);
    expect(credentialContext(A.toUpperCase())).toBe(`service:${A}`);
  });

  it('another service\'s credential: CREDENTIALS_UNREADABLE naming the service and the reason, never the URL', () => {
    const credential = v1.seal(A, URL);
    const err = refusal(() => v1.open({ id: B, credential }));
    expect(err.code).toBe(TenancyErrorCode.CREDENTIALS_UNREADABLE);
    expect(err.message).toBe(`the stored credentials of service ${B} cannot be decrypted: it does not authenticate (copied from another service, altered, or a wrong master key)`);
    expect(err.details).toEqual({ reason: 'CREDENTIALS_UNREADABLE' });
  });

  it('a key version no longer configured, and a process without keys', () => {
    const credential = v1.seal(A, URL);
    const rotated = v21.rewrap(A, credential);
    expect(rotated.keyVersion).toBe(2);
    expect(refusal(() => v1.open({ id: A, credential: rotated })).message).toMatch(/sealed under a master key version that is not configured/);
    expect(refusal(() => new CredentialVault(null).open({ id: A, credential })).message).toMatch(/no credentials master key is configured/);
    expect(refusal(() => new CredentialVault(null).seal(A, URL)).code).toBe(TenancyErrorCode.CREDENTIALS_UNREADABLE);
  });
});
