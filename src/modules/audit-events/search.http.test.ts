/**
 * SearchHttp against a scripted HTTP server standing in for OpenSearch: what the client library did for the
 * query path (credentials and path prefix of the node URL, one retry, the outage mapping) still holds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditEventsError, AuditEventsErrorCode } from './audit-events.errors';
import { DEAD_NODE_MS, SearchHttp, SearchRefused } from './search.http';

interface Seen { url: string; body: string; headers: http.IncomingHttpHeaders }
type Answer = { status: number; body: string } | 'hang-up' | 'never';

async function scripted(answers: Answer[]): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      const a = answers[seen.length - 1] ?? { status: 200, body: '{}' };
      if (a === 'hang-up') { req.socket.destroy(); return; }
      if (a === 'never') return;
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

async function withServer(answers: Answer[], node: (port: number) => string, run: (s: SearchHttp, seen: Seen[]) => Promise<void>, timeoutMs = 2000): Promise<void> {
  const server = await scripted(answers);
  const search = new SearchHttp(node(server.port), timeoutMs);
  try { await run(search, server.seen); } finally { search.close(); await server.close(); }
}

const unavailable = expect.objectContaining({ code: AuditEventsErrorCode.STORE_UNAVAILABLE });

it('posts the body as given, with the node URL credentials and path prefix, and parses the answer', async () => {
  await withServer([{ status: 200, body: '{"responses":[{"status":200,"__proto__":{"polluted":true}}]}' }],
    (port) => `http://us%40er:p%3Ass@127.0.0.1:${port}/search/`, async (s, seen) => {
      const answer = await s.post<{ responses: Record<string, unknown>[] }>('/_msearch?filter_path=responses.status', 'a\nb\n', 'application/x-ndjson');
      expect(answer.responses[0]!.status).toBe(200);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();   // an own property, never a prototype
      expect(seen).toEqual([expect.objectContaining({ url: '/search/_msearch?filter_path=responses.status', body: 'a\nb\n' })]);
      expect(seen[0]!.headers['content-type']).toBe('application/x-ndjson');
      expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    });
});

it('retries once a connection the server dropped, and a 502/503/504; an outage that lasts is STORE_UNAVAILABLE', async () => {
  await withServer(['hang-up', { status: 200, body: '{"ok":1}' }], (port) => `http://127.0.0.1:${port}`, async (s, seen) => {
    expect(await s.post('/x/_search', '{}', 'application/json')).toEqual({ ok: 1 });
    expect(seen).toHaveLength(2);
  });
  await withServer([{ status: 503, body: '{}' }, { status: 503, body: '{}' }], (port) => `http://127.0.0.1:${port}`, async (s, seen) => {
    await expect(s.post('/x/_search', '{}', 'application/json')).rejects.toEqual(unavailable);
    expect(seen).toHaveLength(2);
  });
  await withServer([{ status: 429, body: '{}' }], (port) => `http://127.0.0.1:${port}`, async (s, seen) => {
    await expect(s.post('/x/_search', '{}', 'application/json')).rejects.toEqual(unavailable);
    expect(seen).toHaveLength(1);   // the cluster asks for less: not again
  });
});

it('a request that takes longer than the timeout is STORE_UNAVAILABLE, not retried', async () => {
  await withServer(['never'], (port) => `http://127.0.0.1:${port}`, async (s, seen) => {
    await expect(s.post('/x/_search', '{}', 'application/json')).rejects.toEqual(unavailable);
    expect(seen).toHaveLength(1);
  }, 200);
});

it('a cluster that cannot be reached is STORE_UNAVAILABLE', async () => {
  const server = await scripted([]);
  await server.close();
  const s = new SearchHttp(`http://127.0.0.1:${server.port}`, 1000);
  try {
    const err = await s.post('/x/_search', '{}', 'application/json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditEventsError);
    expect(err).toEqual(unavailable);
  } finally { s.close(); }
});

it('any other error status is SearchRefused with the error type only (never the reason, which may quote the query)', async () => {
  await withServer([{ status: 400, body: '{"error":{"type":"parsing_exception","reason":"unknown query [secret]"},"status":400}' }],
    (port) => `http://127.0.0.1:${port}`, async (s) => {
      const err = await s.post('/x/_search', '{}', 'application/json').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SearchRefused);
      expect((err as SearchRefused).statusCode).toBe(400);
      expect((err as Error).message).toBe('OpenSearch answered 400: parsing_exception');
    });
});

describe('several nodes of one cluster', () => {
  const post = (s: SearchHttp) => s.post<{ ok: number }>('/x/_search', '{}', 'application/json');

  it('goes round the nodes', async () => {
    const a = await scripted([]);
    const b = await scripted([]);
    const s = new SearchHttp([`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`], 1000);
    try {
      for (let i = 0; i < 4; i++) await post(s);
      expect([a.seen.length, b.seen.length]).toEqual([2, 2]);
    } finally { s.close(); await a.close(); await b.close(); }
  });

  it('a node that cannot be reached: the read goes to the next one, and the dead node is left out for DEAD_NODE_MS', async () => {
    const gone = await scripted([]);
    await gone.close();
    const b = await scripted([]);
    const c = await scripted([]);
    let now = 1_000_000;
    const s = new SearchHttp([`http://127.0.0.1:${gone.port}`, `http://127.0.0.1:${b.port}`, `http://127.0.0.1:${c.port}`], 1000, () => now);
    try {
      expect(await post(s)).toEqual({});       // to the dead first node, then to the second
      expect([b.seen.length, c.seen.length]).toEqual([1, 0]);
      for (let i = 0; i < 4; i++) await post(s);
      expect(b.seen.length + c.seen.length).toBe(5);   // the dead one never again meanwhile
      expect(Math.abs(b.seen.length - c.seen.length)).toBeLessThanOrEqual(1);
      now += DEAD_NODE_MS;                     // tried again (and refused again: the read still answers)
      for (let i = 0; i < 3; i++) expect(await post(s)).toEqual({});
      expect(b.seen.length + c.seen.length).toBe(8);
    } finally { s.close(); await b.close(); await c.close(); }
  });

  it('every node unreachable: each is tried once, then STORE_UNAVAILABLE', async () => {
    const servers = await Promise.all([scripted([]), scripted([]), scripted([])]);
    await Promise.all(servers.map((x) => x.close()));
    const s = new SearchHttp(servers.map((x) => `http://127.0.0.1:${x.port}`), 1000);
    try {
      await expect(post(s)).rejects.toEqual(unavailable);
      await expect(post(s)).rejects.toEqual(unavailable);   // all left out: tried anyway
    } finally { s.close(); }
  });

  it('a 503 is tried again once, on the next node', async () => {
    const a = await scripted([{ status: 503, body: '{}' }]);
    const b = await scripted([{ status: 200, body: '{"ok":2}' }]);
    const s = new SearchHttp([`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`], 1000);
    try {
      expect(await post(s)).toEqual({ ok: 2 });
      expect([a.seen.length, b.seen.length]).toEqual([1, 1]);
    } finally { s.close(); await a.close(); await b.close(); }
  });
});
