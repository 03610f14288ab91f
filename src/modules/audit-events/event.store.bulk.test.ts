/**
 * EventStore.bulkWrite against a scripted HTTP server standing in for OpenSearch's _bulk endpoint (the
 * real cluster is in test/; what cannot be provoked there on demand is a per-item 429).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeadLetterDocument } from './event.index';
import { EventStore } from './event.store';

interface Seen { url: string; body: string }

async function scriptedBulk(answers: object[][]): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      const items = answers[seen.length - 1] ?? [];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: items.map((index) => ({ index })) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen,
    close: () => new Promise<void>((r) => server.close(() => r())) };
}

const letter = (id: string): DeadLetterDocument => ({ id, serviceId: 's', source: 'f.csv', endOffset: 1, reason: 'r', excerpt: 'é', seenAt: '2026-11-24T00:00:00.000Z' });

it('asks for statuses only, sends again exactly the items refused with 429, and reports the others refused for good', async () => {
  const bulk = await scriptedBulk([
    [{ status: 201 }, { status: 429, error: { type: 'es_rejected_execution_exception' } }, { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad' } }],
    [{ status: 201 }],
  ]);
  const store = new EventStore(bulk.url, { backoffMs: 1 });
  try {
    const result = await store.bulkIndex([], [letter('a'), letter('b'), letter('c')]);
    expect(result).toEqual({ indexed: 2, duplicates: 0, rejected: [{ id: 'c', reason: 'mapper_parsing_exception: bad' }], attempts: 2 });
    expect(bulk.seen).toHaveLength(2);
    expect(new URL(bulk.seen[0]!.url, 'http://x').searchParams.get('filter_path')).toBe('items.*.status,items.*.error');
    const lines = bulk.seen[0]!.body.split('\n');
    expect(lines).toHaveLength(7);
    expect(bulk.seen[1]!.body).toBe(`${lines[2]}\n${lines[3]}\n`);
    expect(JSON.parse(lines[3]!)).toEqual(letter('b'));
  } finally {
    await store.close();
    await bulk.close();
  }
});

it('a 409 to a create is a document already indexed (a replay): counted, neither retried nor rejected', async () => {
  const bulk = await scriptedBulk([[{ status: 201 }, { status: 409, error: { type: 'version_conflict_engine_exception' } }]]);
  const store = new EventStore(bulk.url, { backoffMs: 1 });
  try {
    expect(await store.bulkIndex([], [letter('a'), letter('b')])).toEqual({ indexed: 2, duplicates: 1, rejected: [], attempts: 1 });
    expect(bulk.seen).toHaveLength(1);
    expect(JSON.parse(bulk.seen[0]!.body.split('\n')[0]!)).toHaveProperty('create');
  } finally {
    await store.close();
    await bulk.close();
  }
});
