import { AuditEventsError, invalidArgument, storeUnavailable } from './audit-events.errors';
import { textFilter } from './event.text-query';
import type { AuditEventDocument } from './event.document';
import { eventBulkOp, tiebreakOf } from './event.index';
import { buildTailSearch, DEFAULT_TAIL_BOUNDS, nextBatch, TailBounds, TailHit, tailStart } from './event.tail';
import { compareTailKeys, decodeTailCursor, encodeTailCursor, END_OF_MS, TailKey } from './tail.cursor';
import { TailEndMetric, TailMessage, TailRecorder, TailService, TailSource } from './tail.service';
import { encodeEventCursor } from './event.cursor';

const SERVICE = '11111111-1111-4111-8111-111111111111';

function doc(id: string): AuditEventDocument {
  return { id, serviceId: SERVICE, projectId: 'p', organizationId: 'o', timestamp: '2026-12-04T10:00:00.000Z', auditType: 'SESSION',
    statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT', objectType: null, objectName: null, statement: 'select 1',
    statementStatus: 'LOGGED', parameters: null, rows: null, user: 'u', database: 'd', sessionId: 's', sessionLineNum: 1,
    applicationName: null, remoteHost: null };
}
const hit = (id: string, ingestedAtMs: number): TailHit => ({ key: { ingestedAtMs, tiebreak: tiebreakOf(id) }, doc: doc(id) });

describe('tail cursors', () => {
  it('round-trip, and anything else is refused (auditEvents cursors, junk, out-of-range tiebreaks)', () => {
    for (const k of [{ ingestedAtMs: 0, tiebreak: 0 }, { ingestedAtMs: 1_764_842_400_123, tiebreak: 2 ** 48 - 1 }, { ingestedAtMs: 5, tiebreak: END_OF_MS }]) {
      expect(decodeTailCursor(encodeTailCursor(k))).toEqual(k);
    }
    expect(decodeTailCursor(encodeEventCursor({ timestampMs: 1, id: 'abc' }))).toBeNull();
    for (const bad of ['', 'x'.repeat(101), '!!', Buffer.from('tl1:-1:0').toString('base64url'), Buffer.from('tl1:1:1e3').toString('base64url'),
      Buffer.from(`tl1:1:${END_OF_MS + 1}`).toString('base64url'), Buffer.from('tl1:1:2:3').toString('base64url')]) {
      expect(decodeTailCursor(bad)).toBeNull();
    }
  });

  it('order by ingestedAt, then tiebreak; END_OF_MS is after every event of its millisecond', () => {
    expect(compareTailKeys({ ingestedAtMs: 1, tiebreak: 9 }, { ingestedAtMs: 2, tiebreak: 0 })).toBeLessThan(0);
    expect(compareTailKeys({ ingestedAtMs: 2, tiebreak: 1 }, { ingestedAtMs: 2, tiebreak: 0 })).toBeGreaterThan(0);
    expect(compareTailKeys({ ingestedAtMs: 2, tiebreak: 2 ** 48 - 1 }, { ingestedAtMs: 2, tiebreak: END_OF_MS })).toBeLessThan(0);
  });
});

describe('tailStart', () => {
  const bounds = { settleMs: 3000, resumeWindowMs: 3_600_000 };
  it('without a cursor: the settled horizon of now, after every event of its millisecond', () => {
    expect(tailStart(null, 100_000, bounds)).toEqual({ ingestedAtMs: 97_000, tiebreak: END_OF_MS });
  });
  it('a cursor within the resume window is where it resumes; an older one is INVALID_ARGUMENT on `after`', () => {
    expect(tailStart({ ingestedAtMs: 10_000_000 - 3_600_000, tiebreak: 7 }, 10_000_000, bounds)).toEqual({ ingestedAtMs: 6_400_000, tiebreak: 7 });
    expect(() => tailStart({ ingestedAtMs: 10_000_000 - 3_600_001, tiebreak: 7 }, 10_000_000, bounds))
      .toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { argument: 'after' } }));
  });
});

describe('buildTailSearch', () => {
  it('the service term and the filter inside the query, after the cursor, up to the horizon, oldest key first', () => {
    const { body } = buildTailSearch(SERVICE, { databases: ['db'], text: 'select' }, { ingestedAtMs: 1000, tiebreak: 5 }, 4000, 50);
    expect(body.size).toBe(50);
    expect(body.sort).toEqual([{ ingestedAt: { order: 'asc', unmapped_type: 'date' } }, { tiebreak: { order: 'asc', unmapped_type: 'long' } }]);
    expect(body.search_after).toEqual([1000, 5]);
    expect(body.query.bool.filter).toEqual(expect.arrayContaining([{ term: { serviceId: SERVICE } }, { terms: { database: ['db'] } },
      { range: { ingestedAt: { gte: 1000, lte: 4000, format: 'epoch_millis' } } }]));
    expect(body.query.bool.filter).toEqual(expect.arrayContaining(textFilter('select')));
  });
  it('the filter is checked as in auditEvents', () => {
    expect(() => buildTailSearch(SERVICE, { users: Array.from({ length: 101 }, (_, i) => `u${i}`) }, { ingestedAtMs: 0, tiebreak: 0 }, 1, 1))
      .toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('nextBatch', () => {
  const after: TailKey = { ingestedAtMs: 1000, tiebreak: 0 };
  it('delivers in key order, never at or before the position, never past the horizon, each id once', () => {
    const a = hit('aaaa', 1000), b = hit('bbbb', 1500), c = hit('cccc', 2000), late = hit('dddd', 5000);
    const { deliver, position } = nextBatch([{ key: after, doc: doc('zero') }, a, b, b, { ...b, key: { ...b.key, ingestedAtMs: 1600 } }, c, late], after, 4000, 100);
    expect(deliver.map((h) => h.doc.id)).toEqual(['aaaa', 'bbbb', 'cccc']);
    // fewer hits than asked: nothing else is settled up to the horizon
    expect(position).toEqual({ ingestedAtMs: 4000, tiebreak: END_OF_MS });
  });
  it('a full page stays at its last event: the next poll continues right after it', () => {
    const hits = [hit('aaaa', 1001), hit('bbbb', 1002)];
    expect(nextBatch(hits, after, 4000, 2).position).toEqual(hits[1]!.key);
  });
  it('an empty poll moves to the horizon; a horizon behind the position (clock stepped back) never moves it back', () => {
    expect(nextBatch([], after, 4000, 10)).toEqual({ deliver: [], position: { ingestedAtMs: 4000, tiebreak: END_OF_MS } });
    expect(nextBatch([], { ingestedAtMs: 5000, tiebreak: 1 }, 4000, 10).position).toEqual({ ingestedAtMs: 5000, tiebreak: 1 });
  });
});

describe('eventBulkOp', () => {
  it('writes ingestedAt beside the tiebreak when given, nothing otherwise', () => {
    const withStamp = JSON.parse(eventBulkOp(doc('aaaa'), '2026-12-04T10:00:01.234Z').ndjson.split('\n')[1]!);
    expect(withStamp).toEqual({ ...doc('aaaa'), tiebreak: tiebreakOf('aaaa'), ingestedAt: '2026-12-04T10:00:01.234Z' });
    expect(JSON.parse(eventBulkOp(doc('aaaa')).ndjson.split('\n')[1]!)).not.toHaveProperty('ingestedAt');
  });
});

/**
 * A store in memory: events become visible at `visibleAt` (their ingestedAt plus a lag), and each poll
 * answers like OpenSearch would (key order, after the cursor, up to the horizon, visible now, at most `size`).
 */
class FakeStore implements TailSource {
  polls = 0;
  events: { hit: TailHit; visibleAt: number }[] = [];
  constructor(private readonly clock: () => number) {}
  add(id: string, ingestedAtMs: number, lagMs: number) { this.events.push({ hit: hit(id, ingestedAtMs), visibleAt: ingestedAtMs + lagMs }); }
  async tailPage(_s: string, _f: unknown, after: TailKey, horizonMs: number, size: number): Promise<TailHit[]> {
    this.polls += 1;
    const now = this.clock();
    return this.events.filter((e) => e.visibleAt <= now && compareTailKeys(e.hit.key, after) > 0 && e.hit.key.ingestedAtMs <= horizonMs)
      .map((e) => e.hit).sort((x, y) => compareTailKeys(x.key, y.key)).slice(0, size);
  }
}

const fast: TailBounds = { ...DEFAULT_TAIL_BOUNDS, pollIntervalMs: 5, settleMs: 100, maxBatch: 3, maxPerToken: 2, maxSubscriptions: 3 };
const req = (tokenId: string, start: TailKey) => ({ tokenId, serviceId: SERVICE, filter: null, start, expiresAt: null, map: (d: AuditEventDocument) => d.id });

async function take(it: AsyncIterator<TailMessage<string>>, n: number): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  while (ids.length < n) {
    const r = await it.next();
    if (r.done || r.value instanceof AuditEventsError) throw new Error('tail ended early');
    ids.push(r.value.event); cursors.push(r.value.cursor);
  }
  return { ids, cursors };
}

describe('TailService', () => {
  it('every event once, in key order, also when events become visible late (within the settle time) and out of order; resume from any cursor gets exactly the rest', async () => {
    const store = new FakeStore(Date.now);
    const tails = new TailService(() => store, fast);
    const t0 = Date.now();
    const start = { ingestedAtMs: t0 - 1, tiebreak: END_OF_MS };
    // ingested in one order, visible in another (lags up to 80 ms < settle 100 ms)
    const written = Array.from({ length: 12 }, (_, i) => `ev${String(i).padStart(2, '0')}`);
    written.forEach((id, i) => store.add(id, t0 + i * 3, (i % 3) * 40));
    const it = tails.subscribe(req('tok', start));
    const { ids, cursors } = await take(it, 12);
    expect(ids).toEqual(written);   // key order: the order they were ingested in
    expect(new Set(ids).size).toBe(12);
    await it.return!();
    // resuming after the k-th cursor delivers exactly ids k+1..12
    for (const k of [0, 4, 11]) {
      const resumed = tails.subscribe(req('tok', decodeTailCursor(cursors[k]!)!));
      const rest = 11 - k;
      const got = rest > 0 ? (await take(resumed, rest)).ids : [];
      expect(got).toEqual(ids.slice(k + 1));
      await resumed.return!();
    }
    expect(tails.size).toBe(0);
  });

  it('per token and per process limits refuse the next subscription with TAIL_LIMIT_REACHED; closing gives the slot back', async () => {
    const store = new FakeStore(Date.now);
    const tails = new TailService(() => store, fast);
    const start = { ingestedAtMs: Date.now(), tiebreak: 0 };
    const a1 = tails.subscribe(req('a', start));
    const a2 = tails.subscribe(req('a', start));
    expect(() => tails.subscribe(req('a', start))).toThrow(expect.objectContaining({ code: 'TAIL_LIMIT_REACHED', details: { limit: 'PER_TOKEN', max: '2' } }));
    const b1 = tails.subscribe(req('b', start));
    expect(() => tails.subscribe(req('c', start))).toThrow(expect.objectContaining({ code: 'TAIL_LIMIT_REACHED', details: { limit: 'PER_PROCESS', max: '3' } }));
    await a1.return!();
    expect(tails.size).toBe(2);
    const a3 = tails.subscribe(req('a', start));
    for (const it of [a2, b1, a3]) await it.return!();
    expect(tails.size).toBe(0);
  });

  it('return() while a poll is waiting stops at once: no further poll, no timer left', async () => {
    const store = new FakeStore(Date.now);
    const tails = new TailService(() => store, { ...fast, pollIntervalMs: 60_000 });
    const it = tails.subscribe(req('a', { ingestedAtMs: Date.now(), tiebreak: 0 }));
    const pending = it.next();                       // polls once, then sleeps for a minute
    await new Promise((r) => setTimeout(r, 20));
    expect(store.polls).toBe(1);
    const started = Date.now();
    await it.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(Date.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 30));
    expect(store.polls).toBe(1);
    expect(tails.size).toBe(0);
  });

  it('a poll in flight when the client goes away is dropped', async () => {
    let answer: (hits: TailHit[]) => void = () => undefined;
    const source: TailSource = { tailPage: () => new Promise((r) => { answer = r; }) };
    const tails = new TailService(() => source, fast);
    const it = tails.subscribe(req('a', { ingestedAtMs: 0, tiebreak: 0 }));
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 5));
    await it.return!();
    answer([hit('aaaa', 1)]);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('ends after its lifetime, idle time or token expiry with TAIL_ENDED, its reason and the cursor of where it stood; then done', async () => {
    let now = 1_000_000;
    const store = new FakeStore(() => now);
    const tails = new TailService(() => store, { ...fast, settleMs: 0, pollIntervalMs: 1, maxLifetimeMs: 50, idleTimeoutMs: 30 }, () => now);
    const lifetime = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    store.add('aaaa', now + 1, 0);
    now += 10;
    expect((await lifetime.next()).value).toMatchObject({ event: 'aaaa' });
    const polledAt = now;
    now += 45;   // 55 ms after it opened
    const end = await lifetime.next();
    expect(end.value).toBeInstanceOf(AuditEventsError);
    const err = end.value as AuditEventsError;
    expect(err.code).toBe('TAIL_ENDED');
    expect(err.details.reason).toBe('LIFETIME');
    // where it stood: caught up to the horizon of its last poll
    expect(decodeTailCursor(err.details.cursor!)).toEqual({ ingestedAtMs: polledAt, tiebreak: END_OF_MS });
    expect(await lifetime.next()).toEqual({ done: true, value: undefined });

    const idle = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    now += 31;
    expect(((await idle.next()).value as AuditEventsError).details.reason).toBe('IDLE');

    const expiring = tails.subscribe({ ...req('a', { ingestedAtMs: now, tiebreak: 0 }), expiresAt: new Date(now + 5) });
    now += 5;
    expect(((await expiring.next()).value as AuditEventsError).details.reason).toBe('TOKEN_EXPIRED');
    expect(tails.size).toBe(0);
  });

  it('closeAll ends every open tail with SHUTDOWN', async () => {
    const store = new FakeStore(Date.now);
    const tails = new TailService(() => store, { ...fast, pollIntervalMs: 60_000 });
    const it = tails.subscribe(req('a', { ingestedAtMs: Date.now(), tiebreak: 0 }));
    const pending = it.next();
    await new Promise((r) => setTimeout(r, 5));
    tails.closeAll();
    expect(((await pending).value as AuditEventsError).details.reason).toBe('SHUTDOWN');
    expect(tails.size).toBe(0);
  });

  it('an unavailable store is polled again for up to STORE_OUTAGE_MS, then the tail ends with STORE_UNAVAILABLE; another failure ends it at once', async () => {
    let now = 1_000_000;
    let polls = 0;
    const failing: TailSource = { tailPage: async () => { polls += 1; now += 10_000; throw storeUnavailable('down'); } };
    const tails = new TailService(() => failing, { ...fast, pollIntervalMs: 1 }, () => now);
    const it = tails.subscribe(req('a', { ingestedAtMs: 0, tiebreak: 0 }));
    expect(((await it.next()).value as AuditEventsError).code).toBe('STORE_UNAVAILABLE');
    expect(polls).toBe(4);   // failing since the first: 10, 20, 30 s later it gives up
    expect(await it.next()).toEqual({ done: true, value: undefined });

    const refusing: TailSource = { tailPage: async () => { throw invalidArgument('no', 'filter'); } };
    const other = new TailService(() => refusing, fast).subscribe(req('a', { ingestedAtMs: 0, tiebreak: 0 }));
    expect(((await other.next()).value as AuditEventsError).code).toBe('INVALID_ARGUMENT');
    expect(tails.size).toBe(0);
  });

  it('a store that recovers within the outage time: the tail goes on and delivers', async () => {
    const store = new FakeStore(Date.now);
    let failures = 2;
    const flaky: TailSource = { tailPage: (...args) => (failures-- > 0 ? Promise.reject(storeUnavailable('starting')) : store.tailPage(...args)) };
    const tails = new TailService(() => flaky, fast);
    store.add('aaaa', Date.now() - 1000, 0);
    const it = tails.subscribe(req('a', { ingestedAtMs: Date.now() - 2000, tiebreak: 0 }));
    expect((await it.next()).value).toMatchObject({ event: 'aaaa' });
    await it.return!();
  });
  it('records each tail once: opened, every event delivered, and one end with its reason (SUBSCRIPTION_ENDED reasons, client gone, store outage, failure)', async () => {
    let now = 1_000_000;
    const seen = { open: 0, delivered: 0, ended: [] as TailEndMetric[] };
    const recorder: TailRecorder = { opened: () => { seen.open++; }, delivered: () => { seen.delivered++; }, ended: (r) => { seen.open--; seen.ended.push(r); } };
    const store = new FakeStore(() => now);
    const bounds = { ...fast, settleMs: 0, pollIntervalMs: 1, maxLifetimeMs: 50, idleTimeoutMs: 30, maxPerToken: 10, maxSubscriptions: 10 };
    const tails = new TailService(() => store, bounds, () => now, recorder);
    const lifetime = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    store.add('aaaa', now + 1, 0);
    store.add('bbbb', now + 2, 0);
    now += 10;
    await take(lifetime, 2);
    expect(seen).toEqual({ open: 1, delivered: 2, ended: [] });
    now += 45;
    await lifetime.next();
    await lifetime.return!();   // after its end: not counted twice
    const idle = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    now += 31;
    await idle.next();
    const gone = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    await gone.return!();
    const shutdown = tails.subscribe(req('a', { ingestedAtMs: now, tiebreak: 0 }));
    tails.closeAll();
    await shutdown.return!();   // the stream closes before the end message is read: still a shutdown
    const failing = new TailService(() => ({ tailPage: async () => { now += 40_000; throw storeUnavailable('down'); } }),
      { ...bounds, maxLifetimeMs: 3_600_000, idleTimeoutMs: 3_600_000 }, () => now, recorder);
    await failing.subscribe(req('a', { ingestedAtMs: 0, tiebreak: 0 })).next();
    const refusing = new TailService(() => ({ tailPage: async () => { throw new Error('boom'); } }), bounds, () => now, recorder);
    await expect(refusing.subscribe(req('a', { ingestedAtMs: 0, tiebreak: 0 })).next()).rejects.toThrow('boom');
    expect(seen).toEqual({ open: 0, delivered: 2, ended: ['lifetime', 'idle', 'client_closed', 'shutdown', 'store_unavailable', 'error'] });
  });
});
