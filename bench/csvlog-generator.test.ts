import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CsvlogSplitter } from '../src/modules/ingest/log-records';
import { generateCsvlog } from './csvlog-generator';

describe('generateCsvlog', () => {
  it('is deterministic and every audit row parses as one event with a unique id', () => {
    const a = generateCsvlog(3000, 7);
    expect(generateCsvlog(3000, 7).text).toBe(a.text);
    expect(generateCsvlog(3000, 8).text).not.toBe(a.text);
    const splitter = new CsvlogSplitter();
    const items = [...splitter.push(Buffer.from(a.text)), ...splitter.end()];
    expect(items.every((i) => i.ok)).toBe(true);
    expect(items).toHaveLength(a.lines);
    const events = items.flatMap((i) => (i.ok ? [auditEventOf('svc', i.record)] : [])).filter((x) => x.kind !== 'not-audit');
    expect(events.every((x) => x.kind === 'event')).toBe(true);
    expect(events).toHaveLength(a.auditLines);
    expect(new Set(events.map((x) => (x.kind === 'event' ? x.event.id : ''))).size).toBe(a.auditLines);
    const kinds = new Set(events.map((x) => (x.kind === 'event' ? `${x.event.auditType}/${x.event.class}` : '')));
    expect(kinds).toEqual(new Set(['SESSION/READ', 'SESSION/WRITE', 'SESSION/DDL', 'SESSION/ROLE', 'SESSION/FUNCTION', 'SESSION/MISC', 'OBJECT/READ', 'OBJECT/WRITE']));
  });
});
