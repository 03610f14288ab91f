/** The shared raw-index mode's pure parts: what a pattern and a host may be, host routing, the mapping's refusals. */
import { IngestError, IngestErrorCode } from './ingest.errors';
import { RawHostRegistry } from './raw-host.registry';
import { hostnameOf, isRawIndexPattern, normalHost, RawHostTable, UnmappedHosts } from './raw-hosts';
import type { RawHostRow, RawIndexRepository } from './raw-index.repository';

const A = { id: '11111111-1111-4111-8111-111111111111', projectId: 'p-a', organizationId: 'o-a' };
const B = { id: '22222222-2222-4222-8222-222222222222', projectId: 'p-b', organizationId: 'o-b' };

describe('index patterns and hosts', () => {
  it.each(['logs-*', 'logs-2026.12.06', 'a', 'rawlogs-42-*', 'x_y.z-*'])('%s is a pattern', (p) => expect(isRawIndexPattern(p)).toBe(true));
  it.each(['', 'Logs-*', '*logs', '-logs', 'logs,other', 'logs/*', 'logs *', `l${'o'.repeat(255)}`])('%j is not', (p) => expect(isRawIndexPattern(p)).toBe(false));

  it('hosts compare without case and without a trailing dot', () => {
    expect(normalHost('PG-Demo-1.example.COM.')).toBe('pg-demo-1.example.com');
    expect(hostnameOf('PG-1')).toBe('pg-1');
    expect(hostnameOf('10.0.0.7')).toBe('10.0.0.7');
    expect(hostnameOf(`${'a'.repeat(63)}.b`)).toBe(`${'a'.repeat(63)}.b`);
  });
  it.each(['', '.', 'a..b', '-a', 'a-', 'a_b', 'a b', 'a/b', 'ä', `${'a'.repeat(64)}.b`, `${'a.'.repeat(127)}a`, 'a;drop'])('%j is not a hostname', (h) => {
    expect(hostnameOf(h)).toBeNull();
  });
});

describe('RawHostTable', () => {
  const table = new RawHostTable([{ host: 'pg-a', service: A }, { host: 'PG-B.example.com', service: B }]);

  it('routes a mapped host to its service, whatever its case or trailing dot', () => {
    expect(table.size).toBe(2);
    expect(table.route('pg-a')).toEqual({ kind: 'service', service: A });
    expect(table.route('PG-A.')).toEqual({ kind: 'service', service: A });
    expect(table.route('pg-b.example.com')).toEqual({ kind: 'service', service: B });
  });

  it('anything else is unmapped: another host, a prefix of one, a missing or non-text host; the claim kept bounded', () => {
    expect(table.route('pg-c')).toEqual({ kind: 'unmapped', host: 'pg-c' });
    expect(table.route('pg-b')).toEqual({ kind: 'unmapped', host: 'pg-b' });
    for (const h of [undefined, null, '', 42, ['pg-a'], { host: 'pg-a' }]) expect(table.route(h)).toEqual({ kind: 'unmapped', host: null });
    expect((table.route('x'.repeat(10_000)) as { host: string }).host).toHaveLength(253);
  });
});

describe('UnmappedHosts: what a pass skipped, and its warning\'s summary', () => {
  it('counts documents by host as hosts compare (case, trailing dot); no HOSTNAME is one host of its own', () => {
    const u = new UnmappedHosts();
    for (const h of ['pg-x', 'PG-X.', 'redis-1', null, null, 'pg-x']) u.add(h);
    expect(u.documents).toBe(6);
    expect(u.hosts).toBe(3);
    expect(u.summary()).toEqual({ documents: 6, hosts: 3, moreHosts: 0, untracked: 0,
      top: [{ host: 'pg-x', documents: 3 }, { host: null, documents: 2 }, { host: 'redis-1', documents: 1 }] });
  });

  it('names at most `limit` hosts, the most documents first (ties by host, no HOSTNAME last), and how many more there were', () => {
    const u = new UnmappedHosts();
    // host-i has (i % 7) + 1 documents: 25 hosts, 7 distinct counts, ties at every count
    const hosts = Array.from({ length: 25 }, (_, i) => `host-${String(i).padStart(2, '0')}`);
    for (const [i, h] of hosts.entries()) for (let k = 0; k <= i % 7; k++) u.add(h);
    for (let k = 0; k < 7; k++) u.add(null);
    const all = [...hosts.map((host, i) => ({ host: host as string | null, documents: (i % 7) + 1 })), { host: null, documents: 7 }]
      .sort((a, b) => b.documents - a.documents || (a.host === null ? 1 : b.host === null ? -1 : a.host.localeCompare(b.host)));
    const s = u.summary(10);
    expect(s.top).toEqual(all.slice(0, 10));
    expect(s.top[0]).toEqual({ host: 'host-06', documents: 7 });
    expect(s.top.slice(0, 4).map((c) => c.host)).toEqual(['host-06', 'host-13', 'host-20', null]);
    expect(s).toMatchObject({ documents: u.documents, hosts: 26, moreHosts: 16, untracked: 0 });
    expect(u.summary(0)).toMatchObject({ top: [], moreHosts: 26 });
    expect(u.summary(100).top).toEqual(all);
  });

  it('tells apart `maxHosts` hosts at most: documents of further hosts are counted, not their hosts', () => {
    const u = new UnmappedHosts(3);
    for (const h of ['a', 'b', 'c', 'd', 'e', 'a', 'd']) u.add(h);
    expect(u.documents).toBe(7);
    expect(u.hosts).toBe(3);
    expect(u.summary(2)).toEqual({ documents: 7, hosts: 3, top: [{ host: 'a', documents: 2 }, { host: 'b', documents: 1 }], moreHosts: 1, untracked: 3 });
  });

  it('nothing skipped: nothing to say', () => {
    expect(new UnmappedHosts().summary()).toEqual({ documents: 0, hosts: 0, top: [], moreHosts: 0, untracked: 0 });
  });
});

/** The repository's part as a table in memory: what the registry decides, not how it is stored. */
function memoryRepo(): Pick<RawIndexRepository, 'mapHost' | 'unmapHost' | 'listHosts'> & { rows: RawHostRow[] } {
  const rows: RawHostRow[] = [];
  return {
    rows,
    async mapHost(indexPattern, host, serviceId, maxHosts) {
      const existing = rows.find((r) => r.indexPattern === indexPattern && r.host === host) ?? null;
      if (existing) return { existing, full: false, created: null };
      if (rows.filter((r) => r.indexPattern === indexPattern).length >= maxHosts) return { existing: null, full: true, created: null };
      const created = { indexPattern, host, serviceId, createdAt: new Date(0) };
      rows.push(created);
      return { existing: null, full: false, created };
    },
    async unmapHost(indexPattern, host, serviceId) {
      const i = rows.findIndex((r) => r.indexPattern === indexPattern && r.host === host && (serviceId === undefined || r.serviceId === serviceId));
      return i < 0 ? null : rows.splice(i, 1)[0]!;
    },
    async listHosts(indexPattern) { return rows.filter((r) => indexPattern === undefined || r.indexPattern === indexPattern); },
  };
}

async function refusal(p: Promise<unknown>): Promise<IngestErrorCode> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(IngestError);
  return (err as IngestError).code;
}

describe('RawHostRegistry', () => {
  const registry = (repo: ReturnType<typeof memoryRepo>, maxHosts = 3) => new RawHostRegistry(repo, async (id) => [A.id, B.id].includes(id), maxHosts);

  it('maps a host (stored lower-case); the same mapping again changes nothing; another service is refused', async () => {
    const repo = memoryRepo();
    const r = registry(repo);
    expect(await r.map('logs-*', 'PG-A.', A.id.toUpperCase())).toMatchObject({ mapping: { indexPattern: 'logs-*', host: 'pg-a', serviceId: A.id }, alreadyMapped: false });
    expect(await r.map('logs-*', 'pg-a', A.id)).toMatchObject({ alreadyMapped: true });
    expect(await refusal(r.map('logs-*', 'pg-a', B.id))).toBe(IngestErrorCode.HOST_TAKEN);
    expect(await r.map('other-*', 'pg-a', B.id)).toMatchObject({ alreadyMapped: false });   // per pattern
    expect(repo.rows.map((x) => [x.indexPattern, x.host, x.serviceId])).toEqual([['logs-*', 'pg-a', A.id], ['other-*', 'pg-a', B.id]]);
  });

  it('refuses a bad pattern, a bad host, a bad or unknown service, a full pattern: nothing written', async () => {
    const repo = memoryRepo();
    const r = registry(repo, 1);
    expect(await refusal(r.map('Logs-*', 'pg-a', A.id))).toBe(IngestErrorCode.INVALID_INPUT);
    expect(await refusal(r.map('logs-*', 'pg_a', A.id))).toBe(IngestErrorCode.INVALID_INPUT);
    expect(await refusal(r.map('logs-*', 'pg-a', 'not-a-uuid'))).toBe(IngestErrorCode.INVALID_INPUT);
    expect(await refusal(r.map('logs-*', 'pg-a', '33333333-3333-4333-8333-333333333333'))).toBe(IngestErrorCode.SERVICE_NOT_FOUND);
    expect(repo.rows).toEqual([]);
    await r.map('logs-*', 'pg-a', A.id);
    expect(await refusal(r.map('logs-*', 'pg-b', B.id))).toBe(IngestErrorCode.TOO_MANY_HOSTS);
    expect(repo.rows).toHaveLength(1);
  });

  it('removes a mapping (only the named service\'s, when one is named); an unknown one is refused', async () => {
    const repo = memoryRepo();
    const r = registry(repo);
    await r.map('logs-*', 'pg-a', A.id);
    expect(await refusal(r.unmap('logs-*', 'pg-a', B.id))).toBe(IngestErrorCode.HOST_NOT_MAPPED);
    expect(await refusal(r.unmap('logs-*', 'pg-z'))).toBe(IngestErrorCode.HOST_NOT_MAPPED);
    expect(await refusal(r.unmap('logs-*', 'pg a'))).toBe(IngestErrorCode.INVALID_INPUT);
    expect(repo.rows).toHaveLength(1);
    expect(await r.unmap('logs-*', 'PG-A')).toMatchObject({ host: 'pg-a', serviceId: A.id });
    expect(await r.list()).toEqual([]);
    expect(await refusal(r.list('LOGS'))).toBe(IngestErrorCode.INVALID_INPUT);
  });
});
