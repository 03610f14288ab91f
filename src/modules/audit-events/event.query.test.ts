import { decodeEventCursor, encodeEventCursor } from './event.cursor';
import type { AuditEventDocument } from './event.document';
import { deadLetterBulkOp, eventBulkOp, expiredDeadLetterIndices, expiredIndices, indexFor, INDEX_TEMPLATE, retentionCutoffMs, tiebreakOf } from './event.index';
import { AuditEventsError, AuditEventsErrorCode } from './audit-events.errors';
import { buildEventCount, buildEventGet, buildEventPageRequest, buildEventSearch, buildEventStats, eventQuery, histogramBuckets, histogramShape, parseInterval,
  statsWindow } from './event.query';
import { statsOf } from './event.store';
import { toAuditEventNode } from './audit-events.mapper';
import { searchTerms } from './event.terms';
import { textFilter } from './event.text-query';

const SERVICE = '8f1c2a34-0000-4000-8000-000000000001';
const filterOf = (q: any) => q.bool.filter as any[];

describe('eventQuery', () => {
  it('always restricts to the service, inside the query', () => {
    for (const f of [{}, { text: 'x' }, { users: ['a'] }, { from: new Date(0) }]) {
      expect(filterOf(eventQuery(SERVICE, f))[0]).toEqual({ term: { serviceId: SERVICE } });
    }
  });

  it('user text is parsed by our own grammar into clauses of the filter, never query syntax (event.text-query.test.ts)', () => {
    const q = eventQuery(SERVICE, { text: '  hr.raise emp* "hr.employee set" ' }) as any;
    expect(q.bool.must).toBeUndefined();
    expect(filterOf(q)[0]).toEqual({ term: { serviceId: SERVICE } });
    expect(filterOf(q).slice(1)).toEqual(textFilter('hr.raise emp* "hr.employee set"'));
    expect(JSON.stringify(q)).not.toMatch(/query_string|script|wildcard|regexp/);
    expect(filterOf(eventQuery(SERVICE, { text: '   ' }))).toEqual([{ term: { serviceId: SERVICE } }]);
  });

  it('terms for each dimension, de-duplicated; range for time', () => {
    const q = eventQuery(SERVICE, { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z'),
      databases: ['shop', 'shop'], users: ['u'], classes: ['DDL'], commands: ['SELECT'], objectNames: ['public.t'],
      auditTypes: ['OBJECT'], sessionId: '6b05e4ad.2260' });
    expect(filterOf(q)).toEqual([
      { term: { serviceId: SERVICE } },
      { range: { timestamp: { gte: '2026-01-01T00:00:00.000Z', lte: '2026-01-02T00:00:00.000Z' } } },
      { term: { sessionId: '6b05e4ad.2260' } },
      { terms: { database: ['shop'] } }, { terms: { user: ['u'] } }, { terms: { class: ['DDL'] } },
      { terms: { command: ['SELECT'] } }, { terms: { objectName: ['public.t'] } }, { terms: { auditType: ['OBJECT'] } }]);
  });

  it.each([
    [{ from: new Date('2026-01-02'), to: new Date('2026-01-01') }, 'filter.from'],
    [{ from: new Date('nope') }, 'filter.from'],
    [{ users: Array.from({ length: 101 }, (_, i) => `u${i}`) }, 'filter.users'],
    [{ databases: ['x'.repeat(257)] }, 'filter.databases'],
    [{ text: 'x'.repeat(501) }, 'filter.text'],
    [{ sessionId: 'x'.repeat(300) }, 'filter.sessionId'],
  ])('refuses %# with an error naming %s', (f, argument) => {
    expect(() => eventQuery(SERVICE, f as any)).toThrow(AuditEventsError);
    try { eventQuery(SERVICE, f as any); } catch (e) { expect((e as AuditEventsError).code).toBe(AuditEventsErrorCode.INVALID_ARGUMENT); expect((e as AuditEventsError).details.argument).toBe(argument); }
  });
});

describe('buildEventSearch', () => {
  it('newest first with a tiebreaker, exact totals, one extra hit, search_after from the cursor', () => {
    const { index, body } = buildEventSearch(SERVICE, null, 20, { timestampMs: 1700000000000, id: 'abc' });
    expect(index).toBe('pgaudit-events-*');
    expect(body).toMatchObject({ size: 21, track_total_hits: false, search_after: [1700000000000, tiebreakOf('abc')],
      sort: [{ timestamp: { order: 'desc' } }, { tiebreak: { order: 'desc', unmapped_type: 'long', missing: '_first' } }] });
  });
  it.each([0, 101, 1.5, -1])('refuses first=%p', (first) => {
    expect(() => buildEventSearch(SERVICE, null, first, null)).toThrow(/first must be 1 to 100/);
  });
});

describe('buildEventPageRequest', () => {
  it('sends the page without a total and the exact count as one _msearch, both for the same service and filter', () => {
    const f = { users: ['app'], text: 'drop table' };
    const { path, lines } = buildEventPageRequest(SERVICE, f, 20, null);
    // only what the store reads comes back; the stored-beside fields never do
    const url = new URL(path, 'http://opensearch');
    expect(url.pathname).toBe('/_msearch');
    expect(url.searchParams.get('filter_path')!.split(',')).toEqual(['responses.status', 'responses.error.type', 'responses.hits.total.value',
      'responses.hits.hits._source', '-responses.hits.hits._source.tiebreak', '-responses.hits.hits._source.searchTerms']);
    const header = { index: 'pgaudit-events-*', ignore_unavailable: true, allow_no_indices: true };
    expect(lines).toEqual([header, buildEventSearch(SERVICE, f, 20, null).body, header, buildEventCount(SERVICE, f).body]);
    expect(buildEventCount(SERVICE, f).body).toEqual({ size: 0, track_total_hits: true, query: eventQuery(SERVICE, f) });
  });
});

describe('buildEventStats and intervals', () => {
  it('terms on the dimension and a histogram bounded by the filter range', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-01-02T00:00:00Z');
    const { body, querystring } = buildEventStats(SERVICE, { from, to }, 'OBJECT_NAME', '1h');
    expect(querystring.filter_path).toBe('hits.total.value,aggregations.groups.buckets.key,aggregations.groups.buckets.doc_count,aggregations.overTime.buckets.doc_count');
    expect(body.size).toBe(0);
    expect(body.aggs.groups.terms.field).toBe('objectName');
    expect(body.aggs.overTime.date_histogram).toMatchObject({ fixed_interval: '1h', min_doc_count: 0,
      extended_bounds: { min: from.toISOString(), max: to.toISOString() } });
  });
  it.each(['1s', '0m', 'h', '1w', '1h; drop', '10000m'])('refuses interval %p', (interval) => {
    expect(() => parseInterval(interval, {})).toThrow(AuditEventsError);
  });
  it('refuses more than 2000 buckets', () => {
    expect(() => parseInterval('1m', { from: new Date('2026-01-01'), to: new Date('2026-01-03') })).toThrow(/buckets/);
    expect(parseInterval('1h', { from: new Date('2026-01-01'), to: new Date('2026-01-03') }).ms).toBe(3_600_000);
  });
  it('counts buckets as OpenSearch aligns them (on the epoch): at most 2000, exactly', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    expect(parseInterval('1m', { from, to: new Date(from.getTime() + 1999 * 60_000) }).ms).toBe(60_000);            // 2000 buckets
    expect(() => parseInterval('1m', { from, to: new Date(from.getTime() + 2000 * 60_000) })).toThrow(/2000 buckets/);  // 2001
    expect(() => parseInterval('1m', { from: new Date(from.getTime() + 30_000), to: new Date(from.getTime() + 30_000 + 1999 * 60_000 + 45_000) }))
      .toThrow(/buckets/);    // 1999.75 minutes, unaligned: 2001 buckets
  });
});

describe('histogram without keys: counts placed by the shape of the range', () => {
  const from = new Date('2026-01-01T00:30:00Z');
  const to = new Date('2026-01-01T03:10:00Z');
  it('buckets aligned on the epoch, from the one holding `from` to the one holding `to`', () => {
    expect(histogramShape(from, to, 3_600_000)).toEqual({ startMs: Date.parse('2026-01-01T00:00:00Z'), intervalMs: 3_600_000, buckets: 4 });
    expect(histogramShape(to, to, 86_400_000)).toEqual({ startMs: Date.parse('2026-01-01T00:00:00Z'), intervalMs: 86_400_000, buckets: 1 });
    expect(buildEventStats(SERVICE, { from, to }, 'CLASS', '1h').histogram).toEqual(histogramShape(from, to, 3_600_000));
  });
  it('an answer becomes counts from the aligned start, and buckets from them', () => {
    const shape = histogramShape(from, to, 3_600_000);
    const stats = statsOf({ hits: { total: { value: 6 } }, aggregations: { groups: { buckets: [{ key: 'READ', doc_count: 6 }] },
      overTime: { buckets: [1, 0, 2, 3].map((doc_count) => ({ doc_count })) } } }, from, to, shape);
    expect(stats).toEqual({ from, to, totalCount: 6, groups: [{ key: 'READ', count: 6 }], histogram: { start: new Date(shape.startMs), intervalMs: 3_600_000, counts: [1, 0, 2, 3] } });
    expect(histogramBuckets(stats.histogram)).toEqual([
      { start: new Date('2026-01-01T00:00:00Z'), count: 1 }, { start: new Date('2026-01-01T01:00:00Z'), count: 0 },
      { start: new Date('2026-01-01T02:00:00Z'), count: 2 }, { start: new Date('2026-01-01T03:00:00Z'), count: 3 }]);
  });
  it('nothing stored (no buckets, no aggregations): no start, no counts', () => {
    const shape = histogramShape(from, to, 3_600_000);
    expect(statsOf({ hits: { total: { value: 0 } } }, from, to, shape)).toEqual({ from, to, totalCount: 0, groups: [], histogram: { start: null, intervalMs: 3_600_000, counts: [] } });
  });
  it('a number of buckets other than asked for is refused, never placed under the wrong times', () => {
    const shape = histogramShape(from, to, 3_600_000);
    expect(() => statsOf({ hits: { total: { value: 1 } }, aggregations: { overTime: { buckets: [{ doc_count: 1 }] } } }, from, to, shape)).toThrow(/1 histogram buckets where 4/);
  });
});

describe('stats window: the histogram is always bounded', () => {
  const now = new Date('2026-11-30T12:34:56.789Z');
  const day = 24 * 3_600_000;
  it('without from: the default window ending at filter.to, or now', () => {
    expect(statsWindow({}, day, now)).toEqual({ from: new Date(now.getTime() - day), to: now });
    const to = new Date('2026-06-01T00:00:00Z');
    expect(statsWindow({ to }, 3_600_000, now)).toEqual({ from: new Date('2026-05-31T23:00:00Z'), to });
  });
  it('with from: from to filter.to, or now (or from itself when it is later)', () => {
    const from = new Date('2026-11-01T00:00:00Z');
    expect(statsWindow({ from }, day, now)).toEqual({ from, to: now });
    const later = new Date('2026-12-01T00:00:00Z');
    expect(statsWindow({ from: later }, day, now)).toEqual({ from: later, to: later });
  });
  it('the whole request covers the window: query range and extended bounds (no hard_bounds, see buildEventStats), and returns it', () => {
    const r = buildEventStats(SERVICE, { users: ['u'] }, 'CLASS', '1m', { defaultWindowMs: day, now });
    const bounds = { min: new Date(now.getTime() - day).toISOString(), max: now.toISOString() };
    expect(r.from).toEqual(new Date(now.getTime() - day));
    expect(r.to).toEqual(now);
    expect(filterOf(r.body.query)).toContainEqual({ range: { timestamp: { gte: bounds.min, lte: bounds.max } } });
    expect(filterOf(r.body.query)).toContainEqual({ terms: { user: ['u'] } });
    expect(r.body.aggs.overTime.date_histogram).toEqual({ field: 'timestamp', fixed_interval: '1m', min_doc_count: 0,
      extended_bounds: bounds });
  });
  it('the 2000-bucket limit now applies without a range too (it used to allow ~43,000 buckets of 1m)', () => {
    expect(() => buildEventStats(SERVICE, null, 'CLASS', '1m', { defaultWindowMs: 30 * day, now })).toThrow(/2000 buckets/);
    expect(() => buildEventStats(SERVICE, null, 'CLASS', '1m', { defaultWindowMs: day, now })).not.toThrow();
    expect(() => buildEventStats(SERVICE, { from: new Date(0) }, 'CLASS', '1h', { now })).toThrow(/2000 buckets/);
  });
  it('an invalid time is still refused naming the argument', () => {
    try { statsWindow({ to: new Date('nope') }, day, now); throw new Error('accepted'); } catch (e) {
      expect((e as AuditEventsError).details.argument).toBe('filter.to');
    }
  });
});

describe('one event', () => {
  it('by id AND service, inside the query', () => {
    expect(buildEventGet(SERVICE, 'abc').body).toEqual({ size: 1, track_total_hits: false,
      query: { bool: { filter: [{ term: { serviceId: SERVICE } }, { ids: { values: ['abc'] } }] } } });
  });
  it.each(['', 'x'.repeat(257)])('refuses id %#', (id) => {
    expect(() => buildEventGet(SERVICE, id)).toThrow(AuditEventsError);
  });
});

describe('mapper bounds', () => {
  const doc = { id: 'i', serviceId: SERVICE, projectId: 'p', organizationId: 'o', timestamp: '2026-11-24T00:00:00.000Z', auditType: 'SESSION',
    statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT', objectType: null, objectName: null, statement: `SELECT '${'é'.repeat(100)}'`,
    statementStatus: 'LOGGED', parameters: ['x'.repeat(50), 'y'], rows: null, user: null, database: null, sessionId: null, sessionLineNum: null,
    applicationName: null, remoteHost: null } as AuditEventDocument;
  it('lists cut and flag; the single event is whole', () => {
    const cut = toAuditEventNode(doc, { textMaxBytes: 10, maxParameters: 100 });
    expect(cut).toMatchObject({ statement: "SELECT 'é", statementTruncated: true, statementBytes: 209, parameters: ['x'.repeat(10), 'y'], parametersTruncated: true });
    const whole = toAuditEventNode(doc);
    expect(whole).toMatchObject({ statement: doc.statement, statementTruncated: false, statementBytes: 209, parameters: doc.parameters, parametersTruncated: false });
    expect(toAuditEventNode({ ...doc, statement: null, parameters: null }, { textMaxBytes: 10, maxParameters: 1 }))
      .toMatchObject({ statement: null, statementBytes: null, statementTruncated: false, parameters: null, parametersTruncated: false });
  });
});

describe('cursor', () => {
  it('round-trips and rejects anything it did not make', () => {
    const c = { timestampMs: 1764012337255, id: 'Qm9vbGVhbi1pZC0xMjM0NTY3ODkw' };
    expect(decodeEventCursor(encodeEventCursor(c))).toEqual(c);
    for (const bad of ['', 'x', '!!!', Buffer.from('ev1:abc:x').toString('base64url'), Buffer.from('ev1:1:a b').toString('base64url'),
      Buffer.from('ev1:99999999999999999:x').toString('base64url'), 'a'.repeat(300), Buffer.from('rev:1').toString('base64url')]) {
      expect(decodeEventCursor(bad)).toBeNull();
    }
  });
});

describe('indices', () => {
  it('one index per UTC day, from the event time', () => {
    expect(indexFor('2026-11-24T23:59:59.999Z')).toBe('pgaudit-events-2026.11.24');
    expect(indexFor('2026-11-25T00:30:00+02:00')).toBe('pgaudit-events-2026.11.24');
    expect(indexFor('2026-11-25T00:30:00Z')).toBe('pgaudit-events-2026.11.25');
    expect(indexFor('2026-11-25T00:30:00.123456Z')).toBe('pgaudit-events-2026.11.25');
    expect(indexFor('2026-11-25 00:30:00Z')).toBe('pgaudit-events-2026.11.25');
    expect(() => indexFor('garbage')).toThrow();
    expect(() => indexFor('')).toThrow();
  });
  it('an event is written, serialized once, into its day under its id, with the tiebreak and its searchTerms in its source', () => {
    const doc = { id: 'Qm9vbGVhbi1pZC0x', serviceId: SERVICE, projectId: 'p', organizationId: 'o', timestamp: '2026-11-24T23:59:59.999Z',
      statement: 'SELECT "a\nb"', parameters: null, user: 'alice' } as unknown as AuditEventDocument;
    const op = eventBulkOp(doc);
    expect(op.id).toBe(doc.id);
    expect(op.ndjson.endsWith('\n')).toBe(true);
    const lines = op.ndjson.slice(0, -1).split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({ create: { _index: 'pgaudit-events-2026.11.24', _id: doc.id } });   // create: a stored event is never replaced
    expect(JSON.parse(lines[1]!)).toEqual({ ...doc, tiebreak: tiebreakOf(doc.id), searchTerms: ['a\nb', 'a', 'b'] });
    const plain = { ...doc, statement: 'SELECT 1' };
    expect(JSON.parse(eventBulkOp(plain).ndjson.split('\n')[1]!)).toEqual({ ...plain, tiebreak: tiebreakOf(doc.id) });   // no names: no searchTerms field
    const named = { ...doc, statement: 'update hr.employee set first_name = $1', objectName: 'hr.employee' };
    expect(JSON.parse(eventBulkOp(named).ndjson.split('\n')[1]!))
      .toEqual({ ...named, tiebreak: tiebreakOf(doc.id), searchTerms: searchTerms(named.statement, named.objectName) });
    const reread = { ...named, statement: 'select hr.raise(1)', searchTerms: ['stale'] };   // a document read back, changed, written again
    const line = eventBulkOp(reread as AuditEventDocument).ndjson.split('\n')[1]!;
    expect(line.match(/"searchTerms"/g)).toHaveLength(1);
    expect(JSON.parse(line).searchTerms).toEqual(searchTerms('select hr.raise(1)', 'hr.employee'));
  });
  it('a dead letter is written into the dead-letter index of its seenAt day (the ingester\'s clock)', () => {
    const d = { id: 'x"y', serviceId: SERVICE, source: 'f.csv', endOffset: 10, reason: 'bad', excerpt: 'line\n2', seenAt: '2026-11-24T00:00:00.000Z' };
    const [action, source, rest] = deadLetterBulkOp(d).ndjson.split('\n');
    expect(JSON.parse(action!)).toEqual({ create: { _index: 'pgaudit-deadletter-2026.11.24', _id: 'x"y' } });
    expect(JSON.parse(source!)).toEqual(d);
    expect(rest).toBe('');
  });
  it('expires whole days older than the retention', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    expect(expiredIndices(['pgaudit-events-2026.11.24', 'pgaudit-events-2026.11.17', 'pgaudit-events-2026.11.16',
      'pgaudit-events-2025.01.01', 'other-2020.01.01', 'pgaudit-events-x'], 7, now))
      .toEqual(['pgaudit-events-2026.11.16', 'pgaudit-events-2025.01.01']);
  });
  it('expires whole dead-letter days older than their retention; never the undated index by name, never events', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    expect(expiredDeadLetterIndices(['pgaudit-deadletter-2026.11.24', 'pgaudit-deadletter-2026.11.09', 'pgaudit-deadletter-2026.11.08',
      'pgaudit-deadletter', 'pgaudit-events-2020.01.01', 'pgaudit-deadletter-2020.01.01x'], 15, now))
      .toEqual(['pgaudit-deadletter-2026.11.08']);
    expect(expiredIndices(['pgaudit-deadletter-2020.01.01'], 15, now)).toEqual([]);
  });
  it('the retention cutoff is midnight UTC, retentionDays before today', () => {
    expect(new Date(retentionCutoffMs(7, new Date('2026-11-24T23:59:59Z'))).toISOString()).toBe('2026-11-17T00:00:00.000Z');
    expect(retentionCutoffMs(7, Date.parse('2026-11-24T00:00:00Z'))).toBe(Date.parse('2026-11-17T00:00:00Z'));
  });
  it('the template maps every document field explicitly (dynamic: strict)', () => {
    const fields = Object.keys(INDEX_TEMPLATE.template.mappings.properties).sort();
    expect(fields).toEqual(['applicationName', 'auditType', 'class', 'command', 'database', 'id', 'ingestedAt', 'objectName', 'objectType',
      'organizationId', 'parameters', 'projectId', 'redaction', 'remoteHost', 'rows', 'searchTerms', 'serviceId', 'sessionId', 'sessionLineNum', 'statement',
      'statementId', 'statementStatus', 'substatementId', 'tiebreak', 'timestamp', 'user']);
  });
  it('the tiebreaker is a safe integer from the id: base64url order, 48 bits, total on any string', () => {
    expect(tiebreakOf('AAAAAAAA')).toBe(0);
    expect(tiebreakOf('________')).toBe(2 ** 48 - 1);
    expect(tiebreakOf('AAAAAAAB')).toBe(1);
    expect(tiebreakOf('BAAAAAAA')).toBe(2 ** 42);
    expect(tiebreakOf('abc')).toBe(tiebreakOf('abcAAAAA'));
    expect(tiebreakOf('Qm9vbGVhbi1pZC0x')).toBe(tiebreakOf('Qm9vbGVh'));
    for (const id of ['-_09azAZ', 'x', '']) expect(Number.isSafeInteger(tiebreakOf(id))).toBe(true);
    expect(tiebreakOf('-AAAAAAA')).toBe(62 * 2 ** 42);
  });
});
