import { randomBytes } from 'node:crypto';
import { MasterKeysError, newMasterKeyEntry, parseMasterKeys } from './master-keys';

const b64 = () => randomBytes(32).toString('base64');

describe('parseMasterKeys', () => {
  it('the first entry is current; the others open what they sealed', () => {
    const [a, b] = [b64(), b64()];
    const ring = parseMasterKeys(`7:${a},3:${b}`);
    expect(ring.current).toBe(7);
    expect(ring.versions).toEqual([7, 3]);
    expect(ring.key(7)!.toString('base64')).toBe(a);
    expect(ring.key(3)!.toString('base64')).toBe(b);
    expect(ring.key(1)).toBeUndefined();
  });

  it('takes commas, spaces and newlines between entries (a file may hold one per line)', () => {
    const [a, b] = [b64(), b64()];
    expect(parseMasterKeys(`\n 2:${a}\n1:${b}\n`).versions).toEqual([2, 1]);
    expect(parseMasterKeys(`2:${a} , 1:${b}`).versions).toEqual([2, 1]);
  });

  it('newMasterKeyEntry writes what parseMasterKeys reads', () => {
    expect(parseMasterKeys(newMasterKeyEntry(1, randomBytes)).current).toBe(1);
  });

  const secret = b64();
  it.each([
    ['empty', ''],
    ['only separators', ' , \n'],
    ['no version', secret],
    ['version 0', `0:${secret}`],
    ['negative version', `-1:${secret}`],
    ['version over 2^31-1', `2147483648:${secret}`],
    ['not base64', `1:${'!'.repeat(43)}=`],
    ['31 bytes', `1:${randomBytes(31).toString('base64')}`],
    ['33 bytes', `1:${randomBytes(33).toString('base64')}`],
    ['base64url', `1:${randomBytes(32).toString('base64url')}`],
    ['a duplicate version', `1:${secret},1:${b64()}`],
    ['a trailing junk entry', `1:${secret},junk`],
    ['all zero bytes', `1:${Buffer.alloc(32).toString('base64')}`],
    ['seventeen keys', Array.from({ length: 17 }, (_, i) => `${i + 1}:${b64()}`).join(',')],
  ])('refuses %s, naming the variable and never the key', (_what, value) => {
    let error: unknown;
    try { parseMasterKeys(value); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(MasterKeysError);
    const message = (error as Error).message;
    expect(message).toContain('CREDENTIALS_MASTER_KEYS');
    expect(message).not.toContain(secret);
    expect(message).not.toContain(secret.slice(0, 12));
  });
});
