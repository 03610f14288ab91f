/** TargetLease over a fake connector: one slot and one connection per service per request, borrowers one at a time. */
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import { AuditErrorCode, refuse } from '../audit-policy.errors';
import type { TargetConnector } from './target.connector';
import { RequestEnded, TargetLease } from './target.lease';
import type { TargetSession } from './target.session';

interface FakeSession { id: number; broken: boolean; resets: number; resetRole(): Promise<void> }

function fakeConnector(opts: { busy?: boolean; unreachable?: boolean } = {}) {
  const log: string[] = [];
  let sessions = 0;
  const connector = {
    async acquire(service: ServiceRecord) {
      log.push(`acquire ${service.id}`);
      if (opts.busy) throw refuse(AuditErrorCode.SERVICE_BUSY, 'busy');
      return () => log.push(`release ${service.id}`);
    },
    async open(service: ServiceRecord, database: string | undefined) {
      log.push(`open ${service.id}${database ? `/${database}` : ''}`);
      if (opts.unreachable) throw new Error('unreachable');
      const s: FakeSession = { id: ++sessions, broken: false, resets: 0, async resetRole() { s.resets += 1; } };
      return s as unknown as TargetSession;
    },
    async close(session: TargetSession) { log.push(`close ${(session as unknown as FakeSession).id}`); },
    async with(service: ServiceRecord, database: string, fn: (s: TargetSession) => Promise<unknown>, nested: boolean) {
      log.push(`with ${service.id}/${database} nested=${nested}`);
      return fn({} as TargetSession);
    },
  };
  return { log, lease: new TargetLease(connector as unknown as TargetConnector) };
}

const svc = (id: string) => ({ id }) as ServiceRecord;
const tick = () => new Promise((r) => setImmediate(r));

it('ten parallel borrowers of one service share one slot and one connection, one at a time', async () => {
  const { log, lease } = fakeConnector();
  let running = 0;
  let peak = 0;
  const ids = await Promise.all(Array.from({ length: 10 }, () => lease.with(svc('a'), async (s) => {
    running += 1; peak = Math.max(peak, running);
    await tick();
    running -= 1;
    return (s as unknown as FakeSession).id;
  })));
  expect(new Set(ids)).toEqual(new Set([1]));
  expect(peak).toBe(1);
  await lease.close();
  expect(log).toEqual(['acquire a', 'open a', 'close 1', 'release a']);
});

it('each service has its own slot and connection; the role is reset after every borrower', async () => {
  const { log, lease } = fakeConnector();
  const sessions = await Promise.all(['a', 'b', 'a'].map((id) => lease.with(svc(id), async (s) => s as unknown as FakeSession)));
  expect(sessions.map((s) => s.id)).toEqual([1, 2, 1]);
  expect(sessions[0]!.resets).toBe(2);
  await lease.close();
  expect(log.filter((l) => l.startsWith('open'))).toEqual(['open a', 'open b']);
  expect(log.filter((l) => l.startsWith('release')).sort()).toEqual(['release a', 'release b']);
});

it('a refused slot or connection is asked for once per request: every borrower gets the same error', async () => {
  for (const opts of [{ busy: true }, { unreachable: true }]) {
    const { log, lease } = fakeConnector(opts);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => lease.with(svc('a'), async () => 'ran')));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(log.filter((l) => l.startsWith('acquire') || l.startsWith('open'))).toEqual(opts.busy ? ['acquire a'] : ['acquire a', 'open a']);
    await lease.close();
    expect(log.filter((l) => l.startsWith('release'))).toEqual(opts.busy ? [] : ['release a']);
  }
});

it('a dropped connection is replaced on the next turn', async () => {
  const { log, lease } = fakeConnector();
  const first = await lease.with(svc('a'), async (s) => s as unknown as FakeSession);
  first.broken = true;
  const second = await lease.with(svc('a'), async (s) => s as unknown as FakeSession);
  expect(second.id).toBe(2);
  await lease.close();
  expect(log).toEqual(['acquire a', 'open a', 'open a', 'close 1', 'close 2', 'release a']);
});

it('close waits for the running borrower, refuses the queued ones and anything after', async () => {
  const { log, lease } = fakeConnector();
  let finish!: () => void;
  const running = lease.with(svc('a'), () => new Promise<string>((r) => { finish = () => r('done'); }));
  const queued = lease.with(svc('a'), async () => 'ran');
  await tick();
  const closing = lease.close();
  await tick();
  expect(log).not.toContain('release a');
  finish();
  await closing;
  await expect(running).resolves.toBe('done');
  await expect(queued).rejects.toBeInstanceOf(RequestEnded);
  await expect(lease.with(svc('a'), async () => 'ran')).rejects.toBeInstanceOf(RequestEnded);
  expect(log).toEqual(['acquire a', 'open a', 'close 1', 'release a']);
});

it('another database of a held service is a nested connection under the same slot', async () => {
  const { log, lease } = fakeConnector();
  expect(() => lease.withDatabase(svc('a'), 'db1', async () => 1)).toThrow();
  await lease.with(svc('a'), () => lease.withDatabase(svc('a'), 'db1', async () => 1));
  await lease.close();
  expect(log).toEqual(['acquire a', 'open a', 'with a/db1 nested=true', 'close 1', 'release a']);
});
