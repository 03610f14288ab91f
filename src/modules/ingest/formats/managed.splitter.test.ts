import { feed, records, STDERR } from '../../../../test/support/log-splitters';
import { compileLogLinePrefix } from './log-line-prefix';
import { managedDocumentToItem, ManagedLogSplitter } from './managed.splitter';
import { StderrSplitter } from './stderr.splitter';

describe('managed log integration NDJSON', () => {
  const prefix = compileLogLinePrefix('%m [%p] %q%u@%d ');
  const stderrRecords = records(feed(() => new StderrSplitter(), [STDERR]));
  // Each stderr record's raw text, as a log shipper would put it in MESSAGE.
  const raws: string[] = [];
  stderrRecords.reduce((start, r) => { raws.push(STDERR.subarray(start, r.endOffset).toString('utf8').replace(/\n$/, '')); return r.endOffset; }, 0);
  const docs = raws.map((MESSAGE, i) => ({ MESSAGE, timestamp: `2026-11-24T19:25:3${i % 10}.000Z`, HOSTNAME: 'pg-1', SYSTEMD_UNIT: 'postgresql.service' }));

  it('maps each document to the same record the stderr splitter gives', () => {
    docs.forEach((d, i) => {
      const item = managedDocumentToItem(d, prefix, 1000 + i);
      expect(item).toEqual({ ok: true, record: { ...stderrRecords[i], endOffset: 1000 + i }, endOffset: 1000 + i });
    });
  });

  it('ManagedLogSplitter over an NDJSON stream, with offsets and bad lines', () => {
    const lines = docs.slice(10, 14).map((d) => JSON.stringify(d));
    const input = [lines[0], '{bad', JSON.stringify({ MESSAGE: 5 }), JSON.stringify({ MESSAGE: 'no prefix here' }), '"str"', lines[1], lines[2], lines[3]].join('\n') + '\n';
    const items = feed(() => new ManagedLogSplitter(), [input]);
    expect(items.map((i) => (i.ok ? i.record.message.slice(0, 20) : i.reason))).toEqual([
      'AUDIT: SESSION,1,1,D', 'managed log: not valid JSON', expect.stringMatching(/MESSAGE missing/), expect.stringMatching(/does not start/),
      expect.stringMatching(/not a JSON object/), 'AUDIT: SESSION,2,1,R', 'AUDIT: SESSION,3,1,R', 'AUDIT: SESSION,4,1,R',
    ]);
    expect(items[items.length - 1]!.endOffset).toBe(Buffer.byteLength(input));
    const bytes = Buffer.from(input);
    expect(feed(() => new ManagedLogSplitter(), Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(items);
  });

  it('MESSAGE as journald byte array; document timestamp used only when the prefix has no time', () => {
    const m = 'pid=42,user=bob,db=shop LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select \'Zoë\',<none>,1';
    const p = compileLogLinePrefix('pid=%p,user=%u,db=%d ');
    for (const ts of ['2026-11-24T19:25:37.255Z', 1795548337255, 1795548337.255, '1795548337255000', 1795548337255000000, '2026-11-24 19:25:37.255 UTC']) {
      expect(managedDocumentToItem({ MESSAGE: [...Buffer.from(m)], timestamp: ts }, p, 1)).toMatchObject({
        ok: true, record: { timestamp: '2026-11-24T19:25:37.255Z', pid: 42, user: 'bob', message: m.slice(m.indexOf('AUDIT')) },
      });
    }
    expect(managedDocumentToItem({ MESSAGE: m, timestamp: 'soon' }, p, 1)).toMatchObject({ ok: false, reason: /no timestamp/ });
    expect(managedDocumentToItem({ MESSAGE: [300] }, p, 1)).toMatchObject({ ok: false, reason: /MESSAGE/ });
    expect(managedDocumentToItem(null, p, 1)).toMatchObject({ ok: false });
  });
});
