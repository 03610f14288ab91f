import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import { generateCsvlog } from './csvlog-generator';

describe('generateCsvlog', () => {
  it('is deterministic and every audit row parses as one event with a unique id', () => {
    const a = generateCsvlog(3000, { seed: 7 });
    expect(generateCsvlog(3000, { seed: 7 }).text).toBe(a.text);
    expect(generateCsvlog(3000, { seed: 8 }).text).not.toBe(a.text);
    const splitter = new CsvlogSplitter();
    const items = [...splitter.push(Buffer.from(a.text)), ...splitter.end()];
    expect(items.every((i) => i.ok)).toBe(true);
    expect(items).toHaveLength(a.rows);
    expect(a.text.split('\n').length - 1).toBe(a.lines);
    expect(a.lines).toBeGreaterThan(a.rows);
    const events = items.flatMap((i) => (i.ok ? [auditEventOf('svc', i.record)] : [])).filter((x) => x.kind !== 'not-audit');
    expect(events.every((x) => x.kind === 'event')).toBe(true);
    expect(events).toHaveLength(a.auditLines);
    expect(new Set(events.map((x) => (x.kind === 'event' ? x.event.id : ''))).size).toBe(a.auditLines);
    const kinds = new Set(events.map((x) => (x.kind === 'event' ? `${x.event.auditType}/${x.event.class}` : '')));
    expect(kinds).toEqual(new Set(['SESSION/READ', 'SESSION/WRITE', 'SESSION/DDL', 'SESSION/ROLE', 'SESSION/FUNCTION', 'SESSION/MISC', 'OBJECT/READ', 'OBJECT/WRITE']));
  });

  it('continues where the previous file ended: later rows, new sessions, no id reused', () => {
    const a = generateCsvlog(500, { stepMs: 250 });
    const b = generateCsvlog(500, { seed: 43, start: a.endMs, stepMs: 250, firstSession: a.sessions });
    const ids = (text: string) => {
      const sp = new CsvlogSplitter();
      return [...sp.push(Buffer.from(text)), ...sp.end()].flatMap((i) => (i.ok ? [auditEventOf('svc', i.record)] : []))
        .flatMap((x) => (x.kind === 'event' ? [x.event] : []));
    };
    const ea = ids(a.text); const eb = ids(b.text);
    expect(new Set([...ea, ...eb].map((e) => e.id)).size).toBe(1000);
    expect(Date.parse(eb[0]!.timestamp)).toBeGreaterThan(Date.parse(ea.at(-1)!.timestamp));
    expect(Date.parse(ea[1]!.timestamp) - Date.parse(ea[0]!.timestamp)).toBeGreaterThanOrEqual(250);
  });
});
