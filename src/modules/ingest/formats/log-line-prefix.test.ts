import { compileLogLinePrefix } from './log-line-prefix';

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
      { timestamp: '2026-11-24T19:25:37.255Z', sessionId: '6b05e4b1.22aa', sessionLineNum: 12, remoteHost: '10.0.0.9', remotePort: 51234 }],
    ['%-12u|%5p|%% ', 'bob         |   42|% LOG:  x', { user: 'bob', pid: 42 }],
    ['%m %z%y [%p] ', '2026-11-24 19:25:37.255 UTC  [42] LOG:  x', { pid: 42 }],
  ])('%j', (prefix, line, values) => {
    const m = compileLogLinePrefix(prefix).match(line);
    expect(m).not.toBeNull();
    expect(m!.values).toMatchObject(values);
    expect(line.slice(m!.messageStart)).toBe('x');
  });
});

describe('hostile input never throws', () => {
  it('long lines of hostile prefix-like text match in bounded time (no assertion on time)', () => {
    const p = compileLogLinePrefix('%t [%p]: user=%u,db=%d,app=%a,client=%h ');
    const line = '2026-11-24 19:25:37 UTC [1]: user=' + 'a,db=b,app=c,client=d '.repeat(5000);
    expect(p.match(line)).toBeNull();
    expect(p.match('2026-11-24 19:25:37 UTC [1]: user=' + '@'.repeat(100_000))).toBeNull();
  });
});
