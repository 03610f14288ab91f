import type { AuditEventDocument } from './event.document';
import { csvCell, csvHeader, csvRecords, EXPORT_COLUMNS, ndjsonEnd, ndjsonLines, neutraliseCell } from './export.format';
import { parseCsv } from '../../../test/support/csv';

const doc = (over: Partial<AuditEventDocument> = {}): AuditEventDocument => ({
  id: 'abcDEF123_-x', serviceId: 's1', projectId: 'p1', organizationId: 'o1', timestamp: '2026-12-04T10:00:00.123Z',
  auditType: 'SESSION', statementId: 3, substatementId: 1, class: 'READ', command: 'SELECT', objectType: 'TABLE', objectName: 'public.t',
  statement: 'select 1', statementStatus: 'LOGGED', parameters: ['a', 'b'], rows: 1, user: 'alice', database: 'db', sessionId: '6750.1',
  sessionLineNum: 7, applicationName: 'psql', remoteHost: '10.0.0.1', ...over,
});

describe('CSV cells', () => {
  it.each([
    ['=1+1', "'=1+1"], ['+1', "'+1"], ['-2', "'-2"], ['@SUM(A1)', "'@SUM(A1)"], ['\tx', "'\tx"], ['\rx', "'\rx"],
    ['=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'],
    ['select 1', 'select 1'], ['', ''], [' =1', ' =1'], ["'=1", "'=1"], ['a=b', 'a=b'],
  ])('neutralises %j as %j', (input, output) => {
    expect(neutraliseCell(input)).toBe(output);
  });

  it('null is an empty cell, numbers are digits, parameters a JSON array text, every text neutralised', () => {
    expect(csvCell('statement', null)).toBe('');
    expect(csvCell('rows', 0)).toBe('0');
    expect(csvCell('parameters', ['=1', 'x,"y"'])).toBe('["=1","x,\\"y\\""]');
    expect(csvCell('parameters', [])).toBe('[]');
    expect(csvCell('applicationName', '-cmd|calc')).toBe("'-cmd|calc");
    expect(csvCell('user', '@evil')).toBe("'@evil");
  });

  it('a header row and one record per event, RFC 4180 (CRLF, quotes doubled, line breaks quoted), read back exactly', () => {
    const tricky = doc({ statement: 'select "a",\r\n\'b\'\nfrom t', parameters: ['1', 'multi\nline', '=cmd', ''], applicationName: '+app', remoteHost: null, rows: null });
    const text = csvHeader() + csvRecords([doc(), tricky]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(EXPORT_COLUMNS);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toHaveLength(EXPORT_COLUMNS.length);
    const back = Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, rows[2]![i]]));
    expect(back).toMatchObject({ statement: tricky.statement, parameters: JSON.stringify(tricky.parameters), applicationName: "'+app",
      remoteHost: '', rows: '', statementId: '3', timestamp: tricky.timestamp, id: tricky.id });
  });

  it('every field of the event is a column, once; tenant internals are not', () => {
    expect(new Set(EXPORT_COLUMNS).size).toBe(EXPORT_COLUMNS.length);
    expect(EXPORT_COLUMNS).toEqual(expect.arrayContaining(['id', 'timestamp', 'statement', 'parameters', 'rows', 'remoteHost']));
    expect(EXPORT_COLUMNS).not.toContain('projectId');
  });
});

describe('NDJSON', () => {
  it('one whole event per line: statement and parameters uncut', () => {
    const long = 'x'.repeat(100_000);
    const text = ndjsonLines([doc({ statement: long, parameters: Array.from({ length: 500 }, (_, i) => `${i}`) }), doc({ id: 'other' })]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const first = JSON.parse(lines[0]!);
    expect(first.statement).toBe(long);
    expect(first.parameters).toHaveLength(500);
    expect(Object.keys(first)).toEqual(EXPORT_COLUMNS);
  });

  it('the end marker is one line with the @export key', () => {
    expect(JSON.parse(ndjsonEnd({ status: 'complete', events: 3, resume: null }))).toEqual({ '@export': { status: 'complete', events: 3, resume: null } });
  });
});
