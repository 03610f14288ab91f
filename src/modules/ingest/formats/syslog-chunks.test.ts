/**
 * Reassembly of PostgreSQL's syslog pieces, against `writeSyslog` (test/support/syslog-writer.ts): PostgreSQL's
 * write_syslog (elog.c) as it splits a message.
 */
import { writeSyslog } from '../../../../test/support/syslog-writer';
import { SyslogChunkAssembler } from './syslog-chunks';

function roundTrip(messages: string[]): string[] {
  const a = new SyslogChunkAssembler<number>();
  const got: string[] = [];
  messages.forEach((m, i) => { for (const piece of writeSyslog(i + 1, m)) got.push(...a.push('host-1:4242', piece, i).map((x) => x.text)); });
  got.push(...a.flush().map((x) => x.text));
  return got;
}

describe('SyslogChunkAssembler', () => {
  it('short one-line messages come back as they were, each at once', () => {
    const a = new SyslogChunkAssembler<string>();
    expect(a.push('s', '[7] LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<not logged>', 'doc7')).toEqual([
      { text: 'LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<not logged>', first: 'doc7', pieces: 1, incomplete: false }]);
    expect(a.openStreams).toBe(0);
  });

  it('a multi-line statement and a long line over many pieces come back whole: every character kept', () => {
    // as PostgreSQL writes a message to every destination: a TAB after each newline (elog.c, append_with_tabs)
    const statement = `LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,,,"insert into notes values (1, 'a,b')\n\treturning id;\n\t-- ${'grüße '.repeat(300)}end\n\t${'x1'.repeat(1200)} ${'x1 '.repeat(900)}",<not logged>`;
    const long = `LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,"select ${Array.from({ length: 400 }, (_, i) => `col_${i}`).join(', ')} from t",<not logged>`;
    expect(writeSyslog(1, statement).length).toBeGreaterThan(4);
    expect(roundTrip([statement, long, 'LOG:  short'])).toEqual([statement, long, 'LOG:  short']);
  });

  it('pieces of several streams interleave; each stream\'s message completes when its next one starts', () => {
    const a = new SyslogChunkAssembler<string>();
    expect(a.push('p1', '[1-1] LOG:  first line', 'a')).toEqual([]);
    expect(a.push('p2', '[9-1] LOG:  other', 'b')).toEqual([]);
    expect(a.push('p1', '[1-2] \tsecond line', 'a2')).toEqual([]);
    expect(a.push('p1', '[2] LOG:  next', 'c').map((m) => m.text)).toEqual(['LOG:  first line\n\tsecond line', 'LOG:  next']);
    expect(a.flush('p2')).toEqual([{ text: 'LOG:  other', first: 'b', pieces: 1, incomplete: false }]);
  });

  it('what the pieces cannot tell: a long line cut just before a TAB of its own gets a newline; empty lines are gone (write_syslog drops them)', () => {
    const tabbed = `LOG:  ${'y'.repeat(894)}\tz`;   // 900 bytes, then the TAB: the cut falls on it, and the next piece starts with it
    expect(roundTrip([tabbed])).toEqual([`LOG:  ${'y'.repeat(894)}\n\tz`]);
    expect(roundTrip(['LOG:  a\n\t\n\tafter'])).toEqual(['LOG:  a\n\t\n\tafter']);   // a line holding a TAB only stays
    expect(roundTrip(['LOG:  a\n\nafter'])).toEqual(['LOG:  aafter']);   // not a message PostgreSQL writes (no TAB after the newline)
  });

  it('a missing piece or one past maxMessageBytes flags the message incomplete; a piece out of turn starts a new message', () => {
    const a = new SyslogChunkAssembler<null>(20);
    a.push('s', '[3-1] LOG:  one', null);
    a.push('s', '[3-3] \tthree', null);
    expect(a.flush()).toEqual([{ text: 'LOG:  one\n\tthree', first: null, pieces: 2, incomplete: true }]);
    a.push('s', '[4-1] 0123456789', null);
    a.push('s', '[4-2] 0123456789abcdef', null);
    expect(a.flush()[0]).toMatchObject({ text: '0123456789', incomplete: true });
    a.push('s', '[5-2] late', null);
    expect(a.flush()[0]).toMatchObject({ text: 'late', incomplete: true });
  });
});
