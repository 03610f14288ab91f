/** The LogSplitter contract (log-record.ts), over every format: the samples, chunk boundaries, resuming, hostile input. */
import { prng } from '../../../bench/prng';
import { CSV, cut, Factory, feed, FORMATS, records } from '../../../test/support/log-splitters';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { ManagedLogSplitter } from './formats/managed.splitter';
import { StderrSplitter } from './formats/stderr.splitter';
import { LogRecord } from './log-record';

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
      format: 'csvlog', timestamp: '2026-11-24T19:25:33.943Z', user: null, database: null, pid: 8800, remoteHost: null, remotePort: null,
      sessionId: '6b05e4ad.2260', sessionLineNum: 1, applicationName: null, severity: 'LOG',
      message: 'starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit',
      context: null, query: null, endOffset: CSV.indexOf('\n') + 1,
    });
    const audit = csv.find((r) => r.sessionId === '6b05e4b1.22aa' && r.sessionLineNum === 37)!;
    expect(audit).toMatchObject({
      timestamp: '2026-11-24T19:25:37.277Z', user: 'avnadmin', database: 'shop', pid: 8874, remoteHost: '[local]', remotePort: null,
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
        format: 'stderr', timestamp: c.timestamp, user: c.user, database: c.database, pid: c.pid, remoteHost: null, remotePort: null,
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
});
