import { BulkBody } from './bulk-body';

const op = (id: string, text: string) => ({ id, ndjson: `{"index":{"_id":"${id}"}}\n{"t":${JSON.stringify(text)}}\n` });

describe('BulkBody', () => {
  it('holds the writes in order, UTF-8 encoded, with their ids', () => {
    const b = new BulkBody();
    const ops = [op('a', 'plain'), op('b', 'naïve — 日本語 🐘'), op('c', '')];
    for (const o of ops) b.add(o);
    expect(b.count).toBe(3);
    expect(b.ids).toEqual(['a', 'b', 'c']);
    expect(b.bytes().toString('utf8')).toBe(ops.map((o) => o.ndjson).join(''));
    expect(b.byteLength).toBe(Buffer.byteLength(ops.map((o) => o.ndjson).join('')));
  });
  it('grows past its buffer, multi-byte text at the edge included', () => {
    const b = new BulkBody(Buffer.alloc(16));
    const ops = Array.from({ length: 50 }, (_, i) => op(`id${i}`, '€'.repeat(i * 7)));
    for (const o of ops) b.add(o);
    expect(b.bytes().toString('utf8')).toBe(ops.map((o) => o.ndjson).join(''));
  });
  it('a subset is the chosen writes, byte for byte, in order', () => {
    const b = new BulkBody();
    const ops = [op('a', 'x'), op('b', 'ÿÿ'), op('c', 'zz'), op('d', '')];
    for (const o of ops) b.add(o);
    const s = b.subset([1, 3]);
    expect(s.ids).toEqual(['b', 'd']);
    expect(s.bytes().toString('utf8')).toBe(ops[1]!.ndjson + ops[3]!.ndjson);
    expect(b.subset([]).count).toBe(0);
  });
  it('hands its buffer back for reuse, unless it grew large', () => {
    const b = new BulkBody();
    b.add(op('a', 'x'));
    const buf = b.release();
    expect(buf).not.toBeNull();
    expect(b.count).toBe(0);
    const reused = new BulkBody(buf!);
    reused.add(op('b', 'y'));
    expect(reused.bytes().toString('utf8')).toBe(op('b', 'y').ndjson);
    const big = new BulkBody(Buffer.alloc(8));
    big.add(op('c', 'z'.repeat(5 << 20)));
    expect(big.release()).toBeNull();
  });
});
