import { AuditEventsError } from './audit-events.errors';
import { INDEX_PATTERN } from './event.index';
import { SESSION_INDEX_PATTERN, expiredSessionIndices, sessionBulkOp, sessionIndexFor } from './session.index';
import { buildSessionPageRequest, buildSessionStats, sessionQuery } from './session.query';
import type { SessionEventDocument } from './session.document';

const filterOf = (q: Record<string, any>) => q.bool.filter as Record<string, any>[];

describe('session event queries', () => {
  it('the service is a term filter inside every query, user text only terms values', () => {
    const q = sessionQuery('svc_1', { users: ['a" OR *', 'a" OR *'], kinds: ['LOGIN_FAILED'], remoteHosts: ['[local]'], applicationNames: ['psql'],
      databases: ['d'], failureReasons: ['PASSWORD'], sessionId: 's.1', from: new Date(0), to: new Date(1000) });
    expect(filterOf(q)[0]).toEqual({ term: { serviceId: 'svc_1' } });
    expect(filterOf(q)).toEqual(expect.arrayContaining([
      { terms: { user: ['a" OR *'] } }, { terms: { kind: ['LOGIN_FAILED'] } }, { terms: { remoteHost: ['[local]'] } },
      { terms: { applicationName: ['psql'] } }, { terms: { database: ['d'] } }, { terms: { failureReason: ['PASSWORD'] } },
      { term: { sessionId: 's.1' } }, { range: { timestamp: { gte: '1970-01-01T00:00:00.000Z', lte: '1970-01-01T00:00:01.000Z' } } },
    ]));
    const { lines } = buildSessionPageRequest('svc_1', {}, 5, { timestampMs: 10, id: 'abc' });
    for (const l of [lines[1], lines[3]] as Record<string, any>[]) expect(filterOf(l.query)[0]).toEqual({ term: { serviceId: 'svc_1' } });
    expect(lines[0]).toMatchObject({ index: SESSION_INDEX_PATTERN });
    expect(lines[1]).toMatchObject({ size: 6, search_after: [10, expect.any(Number)] });
    const stats = buildSessionStats('svc_1', null, 'USER', '1h', { now: new Date('2026-12-04T12:00:00Z') });
    expect(filterOf(stats.body.query)[0]).toEqual({ term: { serviceId: 'svc_1' } });
    expect(stats.index).toBe(SESSION_INDEX_PATTERN);
  });

  it.each<[() => unknown, string]>([
    [() => sessionQuery('s', { users: Array.from({ length: 101 }, (_, i) => `u${i}`) }), 'filter.users'],
    [() => sessionQuery('s', { remoteHosts: ['h'.repeat(257)] }), 'filter.remoteHosts'],
    [() => sessionQuery('s', { from: new Date(2), to: new Date(1) }), 'filter.from'],
    [() => sessionQuery('s', { to: new Date(NaN) }), 'filter.to'],
    [() => sessionQuery('s', { sessionId: 'x'.repeat(257) }), 'filter.sessionId'],
    [() => buildSessionPageRequest('s', null, 0, null), 'first'],
    [() => buildSessionPageRequest('s', null, 101, null), 'first'],
    [() => buildSessionStats('s', { from: new Date(0), to: new Date(86_400_000 * 10) }, 'KIND', '1m'), 'interval'],
  ])('bounds: %#', (f, argument) => {
    try { f(); throw new Error('no error'); } catch (err) {
      expect(err).toBeInstanceOf(AuditEventsError);
      expect((err as AuditEventsError).details).toEqual({ argument });
    }
  });

  it('daily indices of their own, outside the audit event pattern; retention by name', () => {
    expect(sessionIndexFor('2026-12-04T15:06:08.734Z')).toBe('pgaudit-sessions-2026.12.04');
    expect(SESSION_INDEX_PATTERN.startsWith(INDEX_PATTERN.slice(0, -1))).toBe(false);
    expect(expiredSessionIndices(['pgaudit-sessions-2026.10.01', 'pgaudit-sessions-2026.12.01', 'pgaudit-events-2026.10.01'], 30, new Date('2026-12-04T00:00:00Z')))
      .toEqual(['pgaudit-sessions-2026.10.01']);
    const doc = { id: 'AbC', timestamp: '2026-12-04T15:06:08.734Z' } as SessionEventDocument;
    expect(sessionBulkOp(doc).ndjson.split('\n')[0]).toBe('{"create":{"_index":"pgaudit-sessions-2026.12.04","_id":"AbC"}}');
  });
});
