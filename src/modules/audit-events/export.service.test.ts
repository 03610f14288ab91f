import type { Principal } from '../tenancy/principal';
import type { TenancyService } from '../tenancy/tenancy.service';
import { AuditEventsError } from './audit-events.errors';
import type { AuditEventDocument } from './event.document';
import { EventStore, ExportHit, PitGone } from './event.store';
import { ExportService, ExportSink } from './export.service';
import { tokenKey } from './export.token';

/** A store of `n` events of one service, newest first, read through fake PITs that can be made to vanish. */
class FakeStore {
  pits = new Set<string>();
  opened = 0;
  searches = 0;
  constructor(readonly docs: { doc: AuditEventDocument; sort: [number, number, string] }[]) {}
  async openPit(): Promise<string> { const id = `pit-${++this.opened}`; this.pits.add(id); return id; }
  async closePit(id: string): Promise<void> { this.pits.delete(id); }
  async pitSearch(body: { pit: { id: string }; size: number; search_after?: [number, number, string]; query: unknown }): Promise<ExportHit[]> {
    this.searches++;
    if (!this.pits.has(body.pit.id)) throw new PitGone('gone');
    const a = body.search_after;
    const after = a ? this.docs.findIndex((d) => d.sort[2] === a[2]) + 1 : 0;
    return this.docs.slice(after, after + body.size).map((d) => ({ doc: d.doc, sort: d.sort }));
  }
}

const events = (n: number) => Array.from({ length: n }, (_, i) => {
  const id = `id${String(n - i).padStart(5, '0')}`;
  const doc = { id, serviceId: 'svc', timestamp: new Date(1_800_000_000_000 - i * 1000).toISOString() } as AuditEventDocument;
  return { doc, sort: [1_800_000_000_000 - i * 1000, i, id] as [number, number, string] };
});

const principal = { tokenId: 'tok', projectId: 'p', scopes: ['read:events'] } as unknown as Principal;
const tenancy = { visibleServiceId: async (_p: Principal, id: string) => id } as unknown as TenancyService;
const limits = { pageSize: 10, pitKeepAliveSeconds: 60, maxConcurrentPerToken: 1, maxEventsPerRequest: 1000, maxSeconds: 60 };

function collect(): ExportSink & { text: string; counted: number; ids(): string[] } {
  return { text: '', counted: 0, async write(t: string, events: number) { this.text += t; this.counted += events; }, ids() { return this.text.split('\n').filter(Boolean).map((l) => JSON.parse(l).id); } };
}

describe('ExportService', () => {
  const req = { serviceId: 'svc', format: 'ndjson', filter: {} };

  it('writes every event once, page by page, and frees the PIT at the end', async () => {
    const store = new FakeStore(events(35));
    const svc = new ExportService(tenancy, store as unknown as EventStore, tokenKey(null), limits);
    const sink = collect();
    const out = await (await svc.start(principal, req)).run(sink);
    expect(out).toMatchObject({ status: 'complete', written: 35, resume: null });
    expect(sink.ids()).toEqual(store.docs.map((d) => d.doc.id));
    expect(store.pits.size).toBe(0);
    expect(store.searches).toBe(4);
    expect(sink.counted).toBe(35);   // each write says how many events it holds (the route pays and counts pages by it)
  });

  it('one export at a time per token (EXPORT_BUSY), the slot freed when it ends, whatever the ending', async () => {
    const store = new FakeStore(events(5));
    const svc = new ExportService(tenancy, store as unknown as EventStore, tokenKey(null), limits);
    const first = await svc.start(principal, req);
    await expect(svc.start(principal, req)).rejects.toMatchObject({ code: 'EXPORT_BUSY', details: { limit: '1' } });
    await expect(svc.start(principal, { ...req, format: 'xml' })).rejects.toBeInstanceOf(AuditEventsError);
    await first.run(collect());
    const second = await svc.start(principal, req);                     // freed
    const failing = { write: async () => { throw new Error('disk full'); } };
    expect((await second.run(failing)).status).toBe('error');
    await (await svc.start(principal, req)).run(collect());            // freed after an error too
    expect(store.pits.size).toBe(0);
  });

  it('a client that leaves stops the reads and frees the PIT; the token then resumes exactly after what was written, in a new PIT', async () => {
    const store = new FakeStore(events(50));
    const svc = new ExportService(tenancy, store as unknown as EventStore, tokenKey(Buffer.alloc(32, 1)), limits);
    const gone = new AbortController();
    const sink = collect();
    const cut = { write: async (t: string, n: number) => { await sink.write(t, n); if (sink.ids().length >= 20) gone.abort(); } };
    const run = await svc.start(principal, req);
    const first = await run.run(cut, gone.signal);
    expect(first).toMatchObject({ status: 'aborted', written: 20 });
    expect(store.pits.size).toBe(0);
    const searches = store.searches;
    expect(searches).toBe(2);                                            // no read after the client left
    const rest = collect();
    expect((await (await svc.start(principal, { ...req, resume: first.resume })).run(rest)).status).toBe('complete');
    expect([...sink.ids(), ...rest.ids()]).toEqual(store.docs.map((d) => d.doc.id));
    expect(store.opened).toBe(2);
  });

  it('a PIT that expires between two pages is replaced, continuing from the same position', async () => {
    const store = new FakeStore(events(30));
    const svc = new ExportService(tenancy, store as unknown as EventStore, tokenKey(null), limits);
    const sink = collect();
    const expiring = { write: async (t: string, n: number) => { await sink.write(t, n); store.pits.clear(); } };
    expect((await (await svc.start(principal, req)).run(expiring)).status).toBe('complete');
    expect(sink.ids()).toEqual(store.docs.map((d) => d.doc.id));
    expect(store.opened).toBe(4);
  });

  it('a bound ends the request partial, keeping the PIT for the resume; a sink that waits is waited for', async () => {
    const store = new FakeStore(events(25));
    const svc = new ExportService(tenancy, store as unknown as EventStore, tokenKey(null), limits);
    const sink = collect();
    let pending = 0;
    const slow = { write: async (t: string, n: number) => { pending++; await new Promise((r) => setTimeout(r, 5)); pending--; await sink.write(t, n); } };
    const out = await (await svc.start(principal, { ...req, limit: 15 })).run(slow);
    expect(out).toMatchObject({ status: 'partial', written: 15 });
    expect(pending).toBe(0);
    expect(store.pits.size).toBe(1);
    const rest = collect();
    await (await svc.start(principal, { ...req, resume: out.resume })).run(rest);
    expect([...sink.ids(), ...rest.ids()]).toEqual(store.docs.map((d) => d.doc.id));
    expect(store.opened).toBe(1);
    expect(store.pits.size).toBe(0);
  });
});
