import { feed, records } from '../../../../test/support/log-splitters';
import { StderrSplitter } from './stderr.splitter';

describe('stderr: records', () => {
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

  it('an overlong line that starts a record makes that record too large, never the record before it', () => {
    const line = (n: number, statement: string) => `2026-11-24 19:25:37.25${n} UTC [1] u@d LOG:  AUDIT: SESSION,${n},1,READ,SELECT,,,${statement},<none>\n`;
    const input = line(1, 'select 1') + line(2, `select '${'x'.repeat(2000)}'`) + '\tmore of it\n' + line(3, 'select 3');
    const items = feed(() => new StderrSplitter({ maxRecordBytes: 1000 }), [input]);
    expect(items.map((i) => (i.ok ? i.record.message : i.code))).toEqual([
      'AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>', 'record_too_large', 'AUDIT: SESSION,3,1,READ,SELECT,,,select 3,<none>']);
    expect(items[1]).toMatchObject({ excerptTruncated: true, excerpt: expect.stringMatching(/^2026-11-24 19:25:37.252 UTC \[1\] u@d LOG:  AUDIT: SESSION,2/) });
    expect(items[1]!.endOffset).toBe(Buffer.byteLength(line(1, 'select 1') + line(2, `select '${'x'.repeat(2000)}'`) + '\tmore of it\n'));
  });

  it('a timestamp with an unknown zone is malformed unless configured', () => {
    const line = '2026-11-24 20:25:37.255 CET [1] u@d LOG:  AUDIT: x\n';
    expect(feed(() => new StderrSplitter(), [line])[0]).toMatchObject({ ok: false, reason: /unknown zone/ });
    expect(feed(() => new StderrSplitter({ zoneAbbreviations: { CET: 60 } }), [line])[0]).toMatchObject({ ok: true, record: { timestamp: '2026-11-24T19:25:37.255Z' } });
  });
});
