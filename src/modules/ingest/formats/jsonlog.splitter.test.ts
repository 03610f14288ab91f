import { feed } from '../../../../test/support/log-splitters';
import { JsonlogSplitter } from './jsonlog.splitter';

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
