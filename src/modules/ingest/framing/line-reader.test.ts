import { LineReader } from './line-reader';

describe('LineReader', () => {
  it('LF-terminated lines with the offset each ends at; a CR is kept; the rest waits for more or for the end', () => {
    const r = new LineReader(100, 1000);
    r.push('a\r\nbc\n');
    r.push(Buffer.from('d'));
    expect(r.lines(false)).toEqual([{ kind: 'line', text: 'a\r', endOffset: 103 }, { kind: 'line', text: 'bc', endOffset: 106 }]);
    r.push('é');
    expect(r.lines(false)).toEqual([]);
    expect(r.lines(true)).toEqual([{ kind: 'line', text: 'dé', endOffset: 109 }]);
  });

  it('a line longer than max becomes one overlong entry at its newline (or at the end)', () => {
    const r = new LineReader(0, 4);
    r.push('123456');
    expect(r.lines(false)).toEqual([]);
    r.push('78\nok\n9999999');
    expect(r.lines(false)).toEqual([{ kind: 'overlong', excerpt: '12345', endOffset: 9 }, { kind: 'line', text: 'ok', endOffset: 12 }]);
    expect(r.lines(true)).toEqual([{ kind: 'overlong', excerpt: '99999', endOffset: 19 }]);
  });
});
