/**
 * Reassembly of PostgreSQL's syslog pieces, against `writeSyslog` below: PostgreSQL's write_syslog (elog.c) as it
 * splits a message (lines; PG_SYSLOG_LIMIT bytes cut back to a UTF-8 character and, where it can, to a space).
 */
import { SyslogChunkAssembler } from './syslog-chunks';

const PG_SYSLOG_LIMIT = 900;

/** The syslog messages PostgreSQL sends for `message` as message number `seq` (sequence numbers and splitting on). */
function writeSyslog(seq: number, message: string): string[] {
  let line = Buffer.from(message);
  if (line.length <= PG_SYSLOG_LIMIT && !line.includes(0x0a)) return [`[${seq}] ${message}`];
  const out: string[] = [];
  let chunk = 0;
  const isSpace = (b: number | undefined) => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
  while (line.length > 0) {
    if (line[0] === 0x0a) { line = line.subarray(1); continue; }
    const nl = line.indexOf(0x0a);
    let len = Math.min(nl >= 0 ? nl : line.length, PG_SYSLOG_LIMIT);
    while (len > 0 && len < line.length && (line[len]! & 0xc0) === 0x80) len--;   // pg_mbcliplen: whole characters only
    if (len < line.length && line[len] !== 0x0a && !isSpace(line[len])) {
      let i = len - 1;
      while (i > 0 && !isSpace(line[i])) i--;
      if (i > 0) len = i;
    }
    out.push(`[${seq}-${++chunk}] ${line.subarray(0, len).toString()}`);
    line = line.subarray(len);
  }
  return out;
}

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
    const statement = `LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,,,"insert into notes values (1, 'a,b')\nreturning id;\n-- ${'grüße '.repeat(300)}end\n${'x1 '.repeat(900)}",<not logged>`;
    const long = `LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,"select ${Array.from({ length: 400 }, (_, i) => `col_${i}`).join(', ')} from t",<not logged>`;
    expect(writeSyslog(1, statement).length).toBeGreaterThan(4);
    expect(roundTrip([statement, long, 'LOG:  short'])).toEqual([statement, long, 'LOG:  short']);
  });

  it('pieces of several streams interleave; each stream\'s message completes when its next one starts', () => {
    const a = new SyslogChunkAssembler<string>();
    expect(a.push('p1', '[1-1] LOG:  first line', 'a')).toEqual([]);
    expect(a.push('p2', '[9-1] LOG:  other', 'b')).toEqual([]);
    expect(a.push('p1', '[1-2] second line', 'a2')).toEqual([]);
    expect(a.push('p1', '[2] LOG:  next', 'c').map((m) => m.text)).toEqual(['LOG:  first line\nsecond line', 'LOG:  next']);
    expect(a.flush('p2')).toEqual([{ text: 'LOG:  other', first: 'b', pieces: 1, incomplete: false }]);
  });

  it('what the pieces cannot tell: an indented line joins the line before, empty lines are gone (write_syslog drops them), a long word is cut by a newline', () => {
    expect(roundTrip(['LOG:  a\n    indented\n\nafter'])).toEqual(['LOG:  a    indented\nafter']);
    // 1400 bytes without a space: cut back to the space after LOG:, then the rest (the space and 449 ü, 899 bytes)
    // cut where it has no space, so the last 251 ü follow a newline the message did not have
    const word = 'ü'.repeat(700);
    expect(roundTrip([`LOG:  ${word}`])).toEqual([`LOG:  ${word.slice(0, 449)}\n${word.slice(449)}`]);
  });

  it('a missing piece or one past maxMessageBytes flags the message incomplete; a piece out of turn starts a new message', () => {
    const a = new SyslogChunkAssembler<null>(20);
    a.push('s', '[3-1] LOG:  one', null);
    a.push('s', '[3-3] three', null);
    expect(a.flush()).toEqual([{ text: 'LOG:  one\nthree', first: null, pieces: 2, incomplete: true }]);
    a.push('s', '[4-1] 0123456789', null);
    a.push('s', '[4-2] 0123456789abcdef', null);
    expect(a.flush()[0]).toMatchObject({ text: '0123456789', incomplete: true });
    a.push('s', '[5-2] late', null);
    expect(a.flush()[0]).toMatchObject({ text: 'late', incomplete: true });
  });
});
