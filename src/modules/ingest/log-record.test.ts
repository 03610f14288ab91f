import { prng } from '../../../test/support/prng';
import * as fs from 'fs';
import * as path from 'path';
import {
  compileLogLinePrefix, CsvlogSplitter, JsonlogSplitter, LogItem, LogRecord, managedDocumentToItem, ManagedLogSplitter,
  parsePgTimestamp, splitCsvRow, StderrSplitter,
} from './log-records';

const FIX = path.join(__dirname, 'fixtures', 'pgaudit-pg15');
const CSV = fs.readFileSync(path.join(FIX, 'postgresql.csv'));
const JSONLOG = fs.readFileSync(path.join(FIX, 'postgresql.json'));
const STDERR = fs.readFileSync(path.join(FIX, 'postgresql.stderr'));

interface Splitter { push(chunk: string | Uint8Array): LogItem[]; end(): LogItem[] }
type Factory = (startOffset?: number) => Splitter;
const FORMATS: [string, Buffer, Factory][] = [
  ['csvlog', CSV, (startOffset) => new CsvlogSplitter({ startOffset })],
  ['jsonlog', JSONLOG, (startOffset) => new JsonlogSplitter({ startOffset })],
  ['stderr', STDERR, (startOffset) => new StderrSplitter({ startOffset })],
];

function feed(make: Factory, chunks: (string | Uint8Array)[], startOffset?: number): LogItem[] {
  const s = make(startOffset);
  const out: LogItem[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}
const cut = (buf: Buffer, at: number[]) => [0, ...at, buf.length].slice(1).map((end, i, a) => buf.subarray(i === 0 ? 0 : a[i - 1]!, end));
const records = (items: LogItem[]): LogRecord[] => items.map((i) => {
  if (!i.ok) throw new Error(`malformed: ${i.reason} @${i.endOffset}: ${i.excerpt}`);
  return i.record;
});


describe('parsePgTimestamp', () => {
  it.each<[string, string | null]>([
    ['2026-11-24 19:25:37.255 UTC', '2026-11-24T19:25:37.255Z'],
    ['2026-11-24 19:25:37 UTC', '2026-11-24T19:25:37.000Z'],
    ['2026-11-24 19:25:37.255123 GMT', '2026-11-24T19:25:37.255Z'],
    ['2026-11-24 19:25:37.2 UTC', '2026-11-24T19:25:37.200Z'],
    ['2026-11-24 01:00:00.000 +03', '2026-11-23T22:00:00.000Z'],
    ['2026-11-24 01:00:00.000 -0330', '2026-11-24T04:30:00.000Z'],
    ['2026-11-24 01:00:00.000 +05:30', '2026-11-23T19:30:00.000Z'],
    ['2026-11-24 19:25:37.255 CET', null],
    ['2026-02-30 00:00:00 UTC', null],
    ['2026-11-24 24:00:00 UTC', null],
    ['2026-11-24T19:25:37Z', null],
    ['0099-01-01 00:00:00 UTC', null],
    ['', null],
  ])('%j -> %j', (text, iso) => {
    expect(parsePgTimestamp(text)).toBe(iso);
  });
  it.each<[string, string | null]>([
    // The UTC fast path: calendar checks, fraction lengths, zone spellings; anything it declines goes the general way.
    ['2024-02-29 23:59:59.999 UTC', '2024-02-29T23:59:59.999Z'],
    ['2100-02-29 00:00:00 UTC', null],
    ['2000-02-29 00:00:00 UTC', '2000-02-29T00:00:00.000Z'],
    ['2026-04-31 00:00:00 UTC', null],
    ['1000-01-01 00:00:00.5 Zulu', '1000-01-01T00:00:00.500Z'],
    ['9999-12-31 23:59:59.99999 GMT', '9999-12-31T23:59:59.999Z'],
    ['2026-11-24 19:25:37.1234567 UTC', null],
    ['2026-11-24 19:25:37. UTC', null],
    ['2026-11-24 19:25:37.255 UTC ', null],
    ['2026-11-24 19:25:37.255  UTC', null],
    ['2026-11-24 19:25:37.255 utc', null],
    ['2O26-11-24 19:25:37.255 UTC', null],
  ])('%j -> %j', (text, iso) => {
    expect(parsePgTimestamp(text)).toBe(iso);
  });
  it('the same second again, with another fraction, zone or tail', () => {
    expect(parsePgTimestamp('2026-11-24 19:25:37.001 UTC')).toBe('2026-11-24T19:25:37.001Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37.2 UTC')).toBe('2026-11-24T19:25:37.200Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37 +01')).toBe('2026-11-24T18:25:37.000Z');
    expect(parsePgTimestamp('2026-11-24 19:25:37.3x UTC')).toBeNull();
    expect(parsePgTimestamp('2026-11-24 19:25:37.004 UT')).toBe('2026-11-24T19:25:37.004Z');
  });
  it('named zones through zoneAbbreviations', () => {
    expect(parsePgTimestamp('2026-07-01 12:00:00.000 CEST', { CEST: 120 })).toBe('2026-07-01T10:00:00.000Z');
    expect(parsePgTimestamp('2026-07-01 12:00:00.000 toString', { CEST: 120 })).toBeNull();
  });
});

describe('splitCsvRow', () => {
  it('quoted fields with commas, doubled quotes and newlines; empty fields', () => {
    expect(splitCsvRow('a,"b,c","d""e","f\ng",,""')).toEqual({ ok: true, fields: ['a', 'b,c', 'd"e', 'f\ng', '', ''] });
    expect(splitCsvRow('')).toEqual({ ok: true, fields: [''] });
    expect(splitCsvRow('a,"b"x')).toMatchObject({ ok: false });
    expect(splitCsvRow('a,b"c')).toMatchObject({ ok: false });
    expect(splitCsvRow('a,"bc')).toMatchObject({ ok: false });
  });
});

describe('the three samples (PG15, pgaudit 1.7)', () => {
  const all = Object.fromEntries(FORMATS.map(([name, buf, make]) => [name, records(feed(make, [buf]))])) as Record<string, LogRecord[]>;
  const csv = all.csvlog!;
  const json = all.jsonlog!;
  const stderr = all.stderr!;

  it('every line of every sample is a record: 85 each (stderr: the ERROR and its STATEMENT line are one)', () => {
    expect([csv.length, json.length, stderr.length]).toEqual([85, 85, 85]);
  });

  it('csvlog fields, including a postmaster line and a client line', () => {
    expect(csv[0]).toEqual({
      format: 'csvlog', timestamp: '2026-11-24T19:25:33.943Z', user: null, database: null, pid: 8800, remoteHost: null,
      sessionId: '6b05e4ad.2260', sessionLineNum: 1, applicationName: null, severity: 'LOG',
      message: 'starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit',
      context: null, query: null, endOffset: CSV.indexOf('\n') + 1,
    });
    const audit = csv.find((r) => r.sessionId === '6b05e4b1.22aa' && r.sessionLineNum === 37)!;
    expect(audit).toMatchObject({
      timestamp: '2026-11-24T19:25:37.277Z', user: 'avnadmin', database: 'shop', pid: 8874, remoteHost: '[local]',
      applicationName: 'psql', severity: 'LOG',
      message: 'AUDIT: SESSION,25,1,READ,SELECT,,,"select\n  a.id,\n  a.name\nfrom public.account a\nwhere a.id in (1, 2);",<none>,2',
    });
    const error = csv.find((r) => r.severity === 'ERROR')!;
    expect(error).toMatchObject({ message: 'relation "missing_table" does not exist', query: 'select * from missing_table;', context: null });
  });

  it('endOffsets increase strictly, end on a newline, and the last one is the file size', () => {
    for (const [name, buf] of FORMATS) {
      const recs = all[name]!;
      recs.forEach((r, i) => {
        expect(buf[r.endOffset - 1]).toBe(0x0a);
        if (i > 0) expect(r.endOffset).toBeGreaterThan(recs[i - 1]!.endOffset);
      });
      expect(recs[recs.length - 1]!.endOffset).toBe(buf.length);
    }
  });

  it('csvlog and jsonlog give identical records for every (session_id, line_num)', () => {
    const strip = ({ format: _f, endOffset: _e, ...rest }: LogRecord) => rest;
    const byKey = new Map(json.map((r) => [`${r.sessionId}/${r.sessionLineNum}`, r]));
    expect(byKey.size).toBe(85);
    for (const r of csv) expect(strip(byKey.get(`${r.sessionId}/${r.sessionLineNum}`)!)).toEqual(strip(r));
    expect(json.map((r) => `${r.sessionId}/${r.sessionLineNum}`)).toEqual(csv.map((r) => `${r.sessionId}/${r.sessionLineNum}`));
  });

  it('stderr gives the same records in the same order (what its prefix %m [%p] %q%u@%d carries)', () => {
    csv.forEach((c, i) => {
      const s = stderr[i]!;
      // stderr appends the error position to the message; csvlog has it in query_pos.
      const message = c.severity === 'ERROR' ? `${c.message} at character 15` : c.message;
      expect({ ...s, endOffset: 0 }).toEqual({
        format: 'stderr', timestamp: c.timestamp, user: c.user, database: c.database, pid: c.pid, remoteHost: null,
        sessionId: null, sessionLineNum: null, applicationName: null, severity: c.severity, message,
        context: c.context, query: c.query, endOffset: 0,
      });
    });
  });
});

describe('incremental splitting: identical results whatever the chunk boundaries', () => {
  for (const [name, buf, make] of FORMATS) {
    describe(name, () => {
      const whole = feed(make, [buf]);
      const ends = [0, ...whole.map((i) => i.endOffset)];

      it('split at every byte position (each split checked within its record: a splitter resumed at the record start)', () => {
        // For every k, a splitter resumed at the record boundary b before k, fed [b,k) and [k,e) where e is
        // the end of the record holding k, must return exactly that record. The resume contract is checked below.
        let r = 1;
        for (let k = 1; k < buf.length; k++) {
          while (ends[r]! < k) r++;
          const b = ends[r - 1]!;
          const e = ends[r]!;
          const got = feed(make, [buf.subarray(b, k), buf.subarray(k, e)], b);
          if (got.length !== 1 || JSON.stringify(got[0]) !== JSON.stringify(whole[r - 1])) {
            throw new Error(`${name}: split at byte ${k} gives ${JSON.stringify(got).slice(0, 300)}`);
          }
        }
      });

      it('split into two at every 29th byte of the whole file', () => {
        const expected = JSON.stringify(whole);
        for (let k = 0; k <= buf.length; k += 29) {
          const got = feed(make, cut(buf, [k]));
          if (JSON.stringify(got) !== expected) throw new Error(`${name}: split at ${k} differs`);
        }
      });

      it('one byte at a time (every position is a boundary at once)', () => {
        const chunks = Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
        expect(feed(make, chunks)).toEqual(whole);
      });

      it('at random positions (seeded), as Buffers and as strings', () => {
        const r = prng(name.length * 7919);
        const text = buf.toString('utf8');
        for (let trial = 0; trial < 60; trial++) {
          const n = 1 + Math.floor(r() * 40);
          const at = Array.from({ length: n }, () => Math.floor(r() * buf.length)).sort((a, b) => a - b);
          expect(feed(make, cut(buf, at))).toEqual(whole);
          // string chunks: cut on code-unit positions that do not split a surrogate pair
          const sat = Array.from({ length: n }, () => Math.floor(r() * text.length))
            .map((p) => (p > 0 && /[\uDC00-\uDFFF]/.test(text[p]!) ? p - 1 : p)).sort((a, b) => a - b);
          const strChunks = [0, ...sat, text.length].slice(1).map((end, i, a) => text.slice(i === 0 ? 0 : a[i - 1]!, end));
          expect(feed(make, strChunks)).toEqual(whole);
        }
      });

      it('resuming at every endOffset returns exactly the items after it', () => {
        whole.forEach((item, i) => {
          const resumed = feed(make, [buf.subarray(item.endOffset)], item.endOffset);
          expect(resumed).toEqual(whole.slice(i + 1));
        });
      });

      it('a trailing partial record is not returned until completed or end()', () => {
        const lastStart = ends[ends.length - 2]!;
        const s = make();
        const first = s.push(buf.subarray(0, buf.length - 1));
        if (name === 'stderr') {
          // stderr: a record is complete only once the next record's first line is; the last one waits for end()
          expect(first).toEqual(whole.slice(0, -2));
          expect(s.push(buf.subarray(buf.length - 1))).toEqual([whole[whole.length - 2]]);
          expect(s.end()).toEqual([whole[whole.length - 1]]);
        } else {
          expect(first).toEqual(whole.slice(0, -1));
          expect(first[first.length - 1]!.endOffset).toBe(lastStart);
          expect(s.push(buf.subarray(buf.length - 1))).toEqual([whole[whole.length - 1]]);
          expect(s.end()).toEqual([]);
        }
        expect(s.end()).toEqual([]);
        expect(() => s.push('x')).toThrow(/after end/);
      });

      it('end() returns a final record that has no newline', () => {
        const got = feed(make, [buf.subarray(0, buf.length - 1)]);
        expect(got.length).toBe(whole.length);
        expect(got[got.length - 1]!.endOffset).toBe(buf.length - 1);
        expect(got.slice(0, -1)).toEqual(whole.slice(0, -1));
      });
    });
  }
});

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

describe('jsonlog specifics', () => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ timestamp: '2026-11-24 19:25:37.255 UTC', pid: 1, session_id: 'a.1', line_num: 1, message: 'm', ...o });
  it('bad lines are malformed items, not throws; blank lines are skipped', () => {
    const input = [line({}), '{not json', '[1,2]', 'null', '', '   ', line({ timestamp: 'x' }), line({ message: 5 }), line({ session_id: undefined }),
      line({ line_num: '1' }), line({ pid: 'x' }), line({ user: 7 }), line({ line_num: 2, user: 'u', dbname: 'd', remote_host: '10.0.0.1', remote_port: 5, application_name: '' })].join('\n') + '\n';
    const items = feed(() => new JsonlogSplitter(), [input]);
    expect(items.map((i) => (i.ok ? 'ok' : i.reason))).toEqual([
      'ok', 'jsonlog: not valid JSON', 'jsonlog: not a JSON object', 'jsonlog: not a JSON object',
      expect.stringMatching(/timestamp/), expect.stringMatching(/message/), expect.stringMatching(/session_id/),
      expect.stringMatching(/line_num/), expect.stringMatching(/pid/), expect.stringMatching(/user/), 'ok',
    ]);
    expect(items[items.length - 1]).toMatchObject({ record: { user: 'u', database: 'd', remoteHost: '10.0.0.1', applicationName: null, sessionLineNum: 2 } });
  });
  it('a line longer than maxRecordBytes is skipped to its newline, chunk-independently', () => {
    const input = `${line({})}\n${line({ message: 'x'.repeat(5000) })}\n${line({ line_num: 3 })}\n`;
    const whole = feed(() => new JsonlogSplitter({ maxRecordBytes: 1000 }), [input]);
    expect(whole.map((i) => i.ok)).toEqual([true, false, true]);
    const bytes = Buffer.from(input);
    expect(feed(() => new JsonlogSplitter({ maxRecordBytes: 1000 }), Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(whole);
  });
});

describe('stderr: log_line_prefix', () => {
  it('the sample prefix, with and without the %q part', () => {
    const p = compileLogLinePrefix('%m [%p] %q%u@%d ');
    expect(p.match('2026-11-24 19:25:33.943 UTC [8800] LOG:  database system is ready')).toMatchObject({
      severity: 'LOG', values: { timestamp: '2026-11-24T19:25:33.943Z', pid: 8800, user: null, database: null },
    });
    const m = p.match('2026-11-24 19:25:37.255 UTC [8874] avnadmin@shop LOG:  AUDIT: SESSION,1,1,x LOG:  y')!;
    expect(m).toMatchObject({ severity: 'LOG', values: { user: 'avnadmin', database: 'shop', pid: 8874 } });
    expect('2026-11-24 19:25:37.255 UTC [8874] avnadmin@shop LOG:  AUDIT: SESSION,1,1,x LOG:  y'.slice(m.messageStart)).toBe('AUDIT: SESSION,1,1,x LOG:  y');
    expect(p.match('2026-11-24 19:25:37.255 UTC [8874] [unknown]@[unknown] LOG:  connection received')).toMatchObject({ values: { user: null, database: null } });
    expect(p.match('2026-11-24 19:25:37.255 UTC [8874] my user@my db ERROR:  x')).toMatchObject({ severity: 'ERROR', values: { user: 'my user', database: 'my db' } });
    expect(p.match('\t  a.id,')).toBeNull();
    expect(p.match('2026-11-24 19:25:37.255 UTC [8874] no severity here')).toBeNull();
    expect(p.hasSessionIdentity).toBe(false);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['%m [%p] ', '2026-11-24 19:25:37.255 UTC [42] LOG:  x', { pid: 42, timestamp: '2026-11-24T19:25:37.255Z' }],
    ['%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ', '2026-11-24 19:25:37 UTC [42]: [7-1] user=bob,db=shop,app=psql,client=10.1.2.3 LOG:  x',
      { pid: 42, sessionLineNum: 7, user: 'bob', database: 'shop', applicationName: 'psql', remoteHost: '10.1.2.3', timestamp: '2026-11-24T19:25:37.000Z' }],
    ['pid=%p,user=%u,db=%d,app=%a,client=%h ', 'pid=42,user=bob,db=shop,app=[unknown],client=[local] LOG:  x', { pid: 42, user: 'bob', applicationName: null, remoteHost: '[local]', timestamp: null }],
    ['%n %c %l %r %x %v %e %Q %b %i %s %P %L ', '1795548337.255 6b05e4b1.22aa 12 10.0.0.9(51234) 739 3/29 00000 -123 client backend INSERT 2026-11-24 19:25:37 UTC  127.0.0.1 LOG:  x',
      { timestamp: '2026-11-24T19:25:37.255Z', sessionId: '6b05e4b1.22aa', sessionLineNum: 12, remoteHost: '10.0.0.9' }],
    ['%-12u|%5p|%% ', 'bob         |   42|% LOG:  x', { user: 'bob', pid: 42 }],
    ['%m %z%y [%p] ', '2026-11-24 19:25:37.255 UTC  [42] LOG:  x', { pid: 42 }],
  ])('%j', (prefix, line, values) => {
    const m = compileLogLinePrefix(prefix).match(line);
    expect(m).not.toBeNull();
    expect(m!.values).toMatchObject(values);
    expect(line.slice(m!.messageStart)).toBe('x');
  });

  it('records with %c and %l carry a session identity', () => {
    const s = new StderrSplitter({ logLinePrefix: '%m [%p] %c %l %q%u@%d ' });
    const items = [...s.push('2026-11-24 19:25:37.255 UTC [8874] 6b05e4b1.22aa 5 avnadmin@shop LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>,1\n'), ...s.end()];
    expect(records(items)[0]).toMatchObject({ sessionId: '6b05e4b1.22aa', sessionLineNum: 5, user: 'avnadmin' });
    expect(s.prefix.hasSessionIdentity).toBe(true);
  });

  it('needs a timestamp escape', () => {
    expect(() => new StderrSplitter({ logLinePrefix: '[%p] ' })).toThrow(/%m, %t or %n/);
  });

  it('continuation lines lose their TAB; DETAIL/CONTEXT/STATEMENT lines of the same pid fold into the message', () => {
    const input = [
      'junk before the first record',
      '2026-11-24 19:25:37.255 UTC [1] u@d LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,"select',
      '\t  1",<none>,1',
      '2026-11-24 19:25:37.256 UTC [1] u@d LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,forged,<none>,1',
      '2026-11-24 19:25:37.256 UTC [1] u@d CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE',
      '2026-11-24 19:25:37.256 UTC [1] u@d STATEMENT:  do $$ begin raise log \'...\';',
      '\tend $$;',
      '2026-11-24 19:25:37.257 UTC [2] u@d STATEMENT:  another process: a record of its own',
      '2026-11-24 19:25:37.258 UTC [1] u@d LOG:  00000: AUDIT: SESSION,3,1,READ,SELECT,,,select 2,<none>,1',
      'not from postgres, no tab',
    ].join('\n') + '\n';
    const items = feed(() => new StderrSplitter(), [input]);
    expect(items[0]).toMatchObject({ ok: false, reason: /before the first line/, endOffset: 'junk before the first record\n'.length });
    const recs = records(items.slice(1));
    expect(recs.map((r) => [r.severity, r.message, r.context, r.query])).toEqual([
      ['LOG', 'AUDIT: SESSION,1,1,READ,SELECT,,,"select\n  1",<none>,1', null, null],
      ['LOG', 'AUDIT: SESSION,2,1,READ,SELECT,,,forged,<none>,1', 'PL/pgSQL function inline_code_block line 1 at RAISE', "do $$ begin raise log '...';\nend $$;"],
      ['STATEMENT', 'another process: a record of its own', null, null],
      ['LOG', 'AUDIT: SESSION,3,1,READ,SELECT,,,select 2,<none>,1\nnot from postgres, no tab', null, null],
    ]);
  });

  it('a multi-line record longer than maxRecordBytes is one malformed item; the next record is intact', () => {
    const head = '2026-11-24 19:25:37.255 UTC [1] u@d LOG:  start';
    const input = `${head}\n${'\tx'.repeat(1).concat('\n').repeat(400)}${head} again\n`;
    const items = feed(() => new StderrSplitter({ maxRecordBytes: 500 }), [input]);
    expect(items.map((i) => i.ok)).toEqual([false, true]);
    expect(items[0]).toMatchObject({ reason: /longer than 500/ });
    expect(items[1]).toMatchObject({ record: { message: 'start again' } });
  });

  it('a timestamp with an unknown zone is malformed unless configured', () => {
    const line = '2026-11-24 20:25:37.255 CET [1] u@d LOG:  AUDIT: x\n';
    expect(feed(() => new StderrSplitter(), [line])[0]).toMatchObject({ ok: false, reason: /unknown zone/ });
    expect(feed(() => new StderrSplitter({ zoneAbbreviations: { CET: 60 } }), [line])[0]).toMatchObject({ ok: true, record: { timestamp: '2026-11-24T19:25:37.255Z' } });
  });
});

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

describe('hostile input never throws', () => {
  it('random bytes, random text made of format characters, and mutated samples', () => {
    const r = prng(99);
    const alphabet = Buffer.from('",\n\r\t{}[]:\\ 0123456789-.UTCLOGAUDIT:@[]%é', 'utf8');
    const inputs: Buffer[] = [];
    for (let k = 0; k < 25; k++) inputs.push(Buffer.from(Array.from({ length: 500 + Math.floor(r() * 3000) }, () => Math.floor(r() * 256))));
    for (let k = 0; k < 25; k++) inputs.push(Buffer.from(Array.from({ length: 500 + Math.floor(r() * 3000) }, () => alphabet[Math.floor(r() * alphabet.length)]!)));
    for (const [, buf] of FORMATS) {
      for (let k = 0; k < 12; k++) {
        const b = Buffer.from(buf);
        for (let e = 0; e < 20; e++) b[Math.floor(r() * b.length)] = alphabet[Math.floor(r() * alphabet.length)]!;
        inputs.push(b);
      }
    }
    const makers: Factory[] = [...FORMATS.map(([, , m]) => m), () => new ManagedLogSplitter(),
      () => new StderrSplitter({ logLinePrefix: '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ', maxRecordBytes: 700 }),
      () => new CsvlogSplitter({ maxRecordBytes: 300, resyncAfterBytes: 1000 })];
    for (const input of inputs) {
      for (const make of makers) {
        const at = Array.from({ length: 5 }, () => Math.floor(r() * input.length)).sort((a, b) => a - b);
        const items = feed(make, cut(input, at));
        let last = 0;
        for (const it of items) {
          expect(it.endOffset).toBeGreaterThanOrEqual(last);
          last = it.endOffset;
        }
        expect(last).toBeLessThanOrEqual(input.length);
      }
    }
  });

  it('long lines of hostile prefix-like text match in bounded time (no assertion on time)', () => {
    const p = compileLogLinePrefix('%t [%p]: user=%u,db=%d,app=%a,client=%h ');
    const line = '2026-11-24 19:25:37 UTC [1]: user=' + 'a,db=b,app=c,client=d '.repeat(5000);
    expect(p.match(line)).toBeNull();
    expect(p.match('2026-11-24 19:25:37 UTC [1]: user=' + '@'.repeat(100_000))).toBeNull();
  });
});
