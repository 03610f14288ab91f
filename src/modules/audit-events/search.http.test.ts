/**
 * SearchHttp against a scripted HTTP server standing in for OpenSearch: what the client library did for the
 * query path (credentials and path prefix of the node URL, one retry, the outage mapping) still holds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditEventsError, AuditEventsErrorCode } from './audit-events.errors';
import { SearchHttp, SearchRefused } from './search.http';

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
