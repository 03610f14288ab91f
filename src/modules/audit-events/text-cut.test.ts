import { prng } from '../../../bench/prng';
import { cutParameters, cutUtf8 } from './text-cut';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

describe('cutUtf8', () => {
  it('keeps a text that fits, whole, with its length in bytes', () => {
    expect(cutUtf8('', 4)).toEqual({ text: '', truncated: false, bytes: 0 });
    expect(cutUtf8('abcd', 4)).toEqual({ text: 'abcd', truncated: false, bytes: 4 });
    expect(cutUtf8('日本', 6)).toEqual({ text: '日本', truncated: false, bytes: 6 });
  });

  it('cuts on a character boundary: 2-, 3- and 4-byte characters are never split', () => {
    expect(cutUtf8('abcde', 4)).toEqual({ text: 'abcd', truncated: true, bytes: 5 });
    expect(cutUtf8('aåb', 2)).toEqual({ text: 'a', truncated: true, bytes: 4 });         // å is 2 bytes
    expect(cutUtf8('a日本', 3)).toEqual({ text: 'a', truncated: true, bytes: 7 });         // 日 is 3 bytes
    expect(cutUtf8('a日本', 4)).toEqual({ text: 'a日', truncated: true, bytes: 7 });
    expect(cutUtf8('a😀b', 4)).toEqual({ text: 'a', truncated: true, bytes: 6 });         // 😀 is a surrogate pair, 4 bytes
    expect(cutUtf8('a😀b', 5)).toEqual({ text: 'a😀', truncated: true, bytes: 6 });
    expect(cutUtf8('😀', 3)).toEqual({ text: '', truncated: true, bytes: 4 });
  });

  it('a lone surrogate counts as the 3 bytes it is encoded as (U+FFFD)', () => {
    expect(cutUtf8('a\ud800b', 4)).toEqual({ text: 'a\ud800', truncated: true, bytes: 5 });
    expect(cutUtf8('\udc00\ud800', 3)).toEqual({ text: '\udc00', truncated: true, bytes: 6 });
  });

  it('property: the cut is the longest prefix of whole characters within the limit (seeded random strings)', () => {
    const rnd = prng(20261130);
    const alphabet = ['a', 'Z', '\n', 'å', 'é', 'ß', '日', '本', '€', '😀', '𝄞', '\ud800', '\udfff', '\u0000', '\uffff'];
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rnd() * 40);
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const max = Math.floor(rnd() * 60);
      const c = cutUtf8(s, max);
      expect(c.bytes).toBe(utf8(s));
      expect(s.startsWith(c.text)).toBe(true);
      expect(utf8(c.text)).toBeLessThanOrEqual(max);
      expect(c.truncated).toBe(c.text.length < s.length);
      expect(c.truncated).toBe(utf8(s) > max);
      if (c.truncated) {
        // never ends inside a surrogate pair...
        const last = c.text.charCodeAt(c.text.length - 1);
        const next = s.charCodeAt(c.text.length);
        expect(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff).toBe(false);
        // ...and the next whole character would not have fitted
        const pair = next >= 0xd800 && next <= 0xdbff && c.text.length + 1 < s.length
          && s.charCodeAt(c.text.length + 1) >= 0xdc00 && s.charCodeAt(c.text.length + 1) <= 0xdfff;
        expect(utf8(s.slice(0, c.text.length + (pair ? 2 : 1)))).toBeGreaterThan(max);
      }
    }
  });

  it('cuts a long text quickly, walking only up to the limit', () => {
    const big = '日'.repeat(11 * 1024 * 1024);   // 33 MiB of UTF-8
    const t0 = Date.now();
    const c = cutUtf8(big, 4096);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(c).toEqual({ text: '日'.repeat(1365), truncated: true, bytes: 3 * big.length });
  });
});

describe('cutParameters', () => {
  it('caps the count and cuts each value; the flag covers both', () => {
    const bounds = { textMaxBytes: 3, maxParameters: 2 };
    expect(cutParameters([], bounds)).toEqual({ values: [], truncated: false });
    expect(cutParameters(['ab', 'cde'], bounds)).toEqual({ values: ['ab', 'cde'], truncated: false });
    expect(cutParameters(['ab', 'cdef'], bounds)).toEqual({ values: ['ab', 'cde'], truncated: true });
    expect(cutParameters(['a', 'b', 'c'], bounds)).toEqual({ values: ['a', 'b'], truncated: true });
  });
});
