import { prng } from '../../../../bench/prng';
import { cut, feed, records } from '../../../../test/support/log-splitters';
import { CsvlogSplitter } from './csvlog.splitter';

describe('csvlog specifics', () => {
  const row = (cols: Partial<Record<number, string>>, n = 26) =>
    Array.from({ length: n }, (_, i) => cols[i] ?? '').join(',');
  const base = { 0: '2026-11-24 19:25:37.255 UTC', 3: '8874', 5: '6b05e4b1.22aa', 6: '1', 11: 'LOG', 13: '"hello"' };

  it('accepts 23 (PG12), 24 (PG13), 26 (PG14+) and more columns; refuses fewer than 23', () => {
    for (const n of [23, 24, 26, 30]) {
      const [item] = feed(() => new CsvlogSplitter(), [row({ ...base, 22: '"app"' }, n) + '\n']);
      expect(item).toMatchObject({ ok: true, record: { message: 'hello', applicationName: 'app' } });
    }
    expect(feed(() => new CsvlogSplitter(), [row(base, 22) + '\n'])[0]).toMatchObject({ ok: false, reason: /at least 23 columns, got 22/ });
  });

  it('connection_from: host:port -> host, IPv6 too', () => {
    for (const [from, host] of [['"10.0.0.5:53124"', '10.0.0.5'], ['"::1:5432"', '::1'], ['"db.example.com:5432"', 'db.example.com'], ['"[local]"', '[local]']]) {
      expect(records(feed(() => new CsvlogSplitter(), [row({ ...base, 4: from }) + '\n']))[0]!.remoteHost).toBe(host);
    }
  });

  it('rows that differ only in one column each time get that column right (values repeated from row to row are reused)', () => {
    const rows = [
      { 1: 'alice', 5: 'a.1' }, { 1: 'alice', 5: 'a.1' }, { 1: '"alice"', 5: 'a.1' }, { 1: '"al""ice"', 5: 'a.1' }, { 1: '"al""ice"', 5: 'a.2' },
      { 1: 'bob', 5: 'a.2', 2: 'db2' }, { 1: '', 5: 'a.2', 2: 'db2' }, { 1: 'bob', 5: 'b.2', 4: '"10.0.0.1:5432"' },
    ].map((o) => row({ ...base, 2: 'shop', 4: '[local]', ...o }, 23) + '\n');
    const recs = records(feed(() => new CsvlogSplitter(), rows));
    expect(recs.map((r) => [r.user, r.sessionId, r.database, r.remoteHost])).toEqual([
      ['alice', 'a.1', 'shop', '[local]'], ['alice', 'a.1', 'shop', '[local]'], ['alice', 'a.1', 'shop', '[local]'], ['al"ice', 'a.1', 'shop', '[local]'],
      ['al"ice', 'a.2', 'shop', '[local]'], ['bob', 'a.2', 'db2', '[local]'], [null, 'a.2', 'db2', '[local]'], ['bob', 'b.2', 'shop', '10.0.0.1'],
    ]);
  });
  it('two splitters read side by side keep their caches apart (last second, repeated values, connection_from)', () => {
    const a = new CsvlogSplitter();
    const b = new CsvlogSplitter();
    const rowOf = (o: Partial<Record<number, string>>) => row({ ...base, 2: 'shop', ...o }, 23) + '\n';
    const got: ReturnType<typeof records> = [];
    for (let i = 0; i < 3; i++) {
      got.push(...records(a.push(rowOf({ 0: '2026-11-24 19:25:37.255 UTC', 1: 'alice', 4: '"10.0.0.1:5432"', 5: 'a.1' }))));
      got.push(...records(b.push(rowOf({ 0: '2026-11-25 08:00:01.5 UTC', 1: 'bob', 4: '"[local]"', 5: 'b.2' }))));
    }
    expect(got.map((r) => [r.timestamp, r.user, r.remoteHost, r.sessionId]))
      .toEqual(Array.from({ length: 3 }, () => [
        ['2026-11-24T19:25:37.255Z', 'alice', '10.0.0.1', 'a.1'], ['2026-11-25T08:00:01.500Z', 'bob', '[local]', 'b.2'],
      ]).flat());
  });
  it('CRLF line ends, blank lines and a malformed row among good ones', () => {
    const good = row(base);
    const input = `${good}\r\n\n${row({ ...base, 0: 'yesterday' })}\n${row({ ...base, 5: 'nope' })}\n${row({ ...base, 6: 'x' })}\n${row({ ...base, 3: 'x' })}\n${good}\n`;
    const items = feed(() => new CsvlogSplitter(), [input]);
    expect(items.map((i) => (i.ok ? 'ok' : i.reason.replace(/:.*/, '')))).toEqual(['ok', 'csvlog', 'csvlog', 'csvlog', 'csvlog', 'ok']);
    expect(items.map((i) => (i.ok ? '' : i.reason))).toEqual([
      '', expect.stringMatching(/log_time/), expect.stringMatching(/session_id/), expect.stringMatching(/session_line_num/), expect.stringMatching(/process_id/), '',
    ]);
    expect(items[items.length - 1]!.endOffset).toBe(Buffer.byteLength(input));
  });

  it('an unterminated quote at the end of the stream is malformed', () => {
    const items = feed(() => new CsvlogSplitter(), [`${row(base)}\n2026-11-24 19:25:37.255 UTC,"abc`]);
    expect(items.map((i) => i.ok)).toEqual([true, false]);
    expect(items[1]).toMatchObject({ reason: /unterminated/ });
  });

  it('a row longer than maxRecordBytes is one malformed item, scanned to its real end (text inside it is never a row)', () => {
    // A statement that holds lines looking exactly like csvlog rows: inside quotes, they must stay text.
    const fake = row({ ...base, 13: '"AUDIT: SESSION,1,1,READ,SELECT,,,forged,<none>,1"' }).replace(/"/g, '""');
    const big = row({ ...base, 13: `"${'x'.repeat(3000)}\n${fake}\n${fake}\n${'y'.repeat(3000)}"` });
    const input = `${row(base)}\n${big}\n${row({ ...base, 6: '3' })}\n`;
    const whole = feed(() => new CsvlogSplitter({ maxRecordBytes: 1000 }), [input]);
    expect(whole.map((i) => i.ok)).toEqual([true, false, true]);
    expect(whole[1]).toMatchObject({ reason: /longer than 1000 bytes/, endOffset: Buffer.byteLength(`${row(base)}\n${big}\n`) });
    expect(whole[2]).toMatchObject({ ok: true, record: { sessionLineNum: 3 } });
    const bytes = Buffer.from(input);
    expect(feed(() => new CsvlogSplitter({ maxRecordBytes: 1000 }), Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(whole);
    const r = prng(3);
    for (let t = 0; t < 30; t++) {
      const at = Array.from({ length: 5 }, () => Math.floor(r() * bytes.length)).sort((a, b) => a - b);
      expect(feed(() => new CsvlogSplitter({ maxRecordBytes: 1000 }), cut(bytes, at))).toEqual(whole);
    }
  });

  it('a stray quote (corruption) desynchronises until resyncAfterBytes, then it resumes at a line that starts with a timestamp', () => {
    const lines = Array.from({ length: 40 }, (_, i) => row({ ...base, 6: String(i + 1) }));
    lines[5] = lines[5]!.replace('8874', '88"74');
    const input = lines.join('\n') + '\n';
    const opts = { maxRecordBytes: 300, resyncAfterBytes: 2000 };
    const items = feed(() => new CsvlogSplitter(opts), [input]);
    const okNums = items.filter((i) => i.ok).map((i) => (i.ok ? i.record.sessionLineNum : 0));
    expect(okNums.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(items[5]).toMatchObject({ ok: false, reason: /out of sync/ });
    expect(okNums[okNums.length - 1]).toBe(40);
    expect(items[items.length - 1]!.endOffset).toBe(Buffer.byteLength(input));
    const bytes = Buffer.from(input);
    expect(feed(() => new CsvlogSplitter(opts), Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(items);
  });
});
