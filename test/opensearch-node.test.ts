/**
 * The OpenSearch node started by test/support/global-setup.ts (OPENSEARCH_URL) offers what the audit
 * event store relies on. Plain HTTP through Node's fetch: no client library in between.
 */
import fs from 'node:fs';
import { OPENSEARCH_VERSION } from '../dev/local/opensearch-node';
import { env } from './support/env';
import { openSearch } from './support/opensearch';

const baseUrl = () => env('OPENSEARCH_URL');
/** One request to the node; JSON in and out; throws on a non-2xx answer (with its body). */
const os = <T = any>(method: string, path: string, body?: unknown): Promise<T> => openSearch<T>(baseUrl(), method, path, body);

const index = `test-audit-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  await os('PUT', `/${index}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: {
      dynamic: 'strict',
      properties: {
        tenant: { type: 'keyword' },
        seq: { type: 'keyword' },
        at: { type: 'date' },
        statement: { type: 'text' },
      },
    },
  });
});

afterAll(async () => {
  await os('DELETE', `/${index}`).catch(() => {});
});

describe('the test OpenSearch node', () => {
  it('is healthy (green or yellow)', async () => {
    const health = await os('GET', '/_cluster/health?wait_for_status=yellow&timeout=10s');
    expect(['green', 'yellow']).toContain(health.status);
    expect(health.number_of_nodes).toBe(1);
  });

  it(`runs the pinned version ${OPENSEARCH_VERSION}`, async () => {
    expect(OPENSEARCH_VERSION).toMatch(/^2\.19\.\d+$/);
    const info = await os('GET', '/');
    expect(info.version.distribution).toBe('opensearch');
    expect(info.version.number).toBe(OPENSEARCH_VERSION);
  });

  it('runs as a non-root user', async () => {
    const nodes = await os('GET', '/_nodes/_local/process');
    const [node] = Object.values(nodes.nodes) as { process: { id: number } }[];
    const status = fs.readFileSync(`/proc/${node.process.id}/status`, 'utf8');
    expect(status).toMatch(/^Name:\s+java$/m);
    const uids = /^Uid:\s+(.*)$/m.exec(status)![1].trim().split(/\s+/).map(Number);   // real, effective, saved, fs
    expect(uids).toHaveLength(4);
    for (const uid of uids) expect(uid).not.toBe(0);
  });

  it('creates an index with keyword, date and text fields', async () => {
    const mapping = await os('GET', `/${index}/_mapping`);
    expect(mapping[index].mappings.properties).toEqual({
      tenant: { type: 'keyword' },
      seq: { type: 'keyword' },
      at: { type: 'date' },
      statement: { type: 'text' },
    });
  });

  it('keeps one document when the same explicit _id is indexed twice', async () => {
    const doc = { tenant: 't-dup', seq: 'dup', at: '2026-01-01T00:00:00Z', statement: 'SELECT 1' };
    const first = await os('PUT', `/${index}/_doc/dup-1?refresh=true`, doc);
    const second = await os('PUT', `/${index}/_doc/dup-1?refresh=true`, doc);
    expect(first.result).toBe('created');
    expect(second.result).toBe('updated');
    const { count } = await os('POST', `/${index}/_count`, { query: { term: { tenant: 't-dup' } } });
    expect(count).toBe(1);
  });

  it('pages with search_after inside a point in time, which does not see later writes', async () => {
    const tenant = 't-pit';
    const docs = Array.from({ length: 7 }, (_, i) => ({
      tenant, seq: `s${i}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 2))).toISOString(), statement: `UPDATE t SET n = ${i}`,
    }));
    const ndjson = docs.flatMap((d) => [JSON.stringify({ index: { _index: index, _id: d.seq } }), JSON.stringify(d)]).join('\n') + '\n';
    const bulk = await fetch(`${baseUrl()}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
    expect(((await bulk.json()) as { errors: boolean }).errors).toBe(false);

    const pit = await os('POST', `/${index}/_search/point_in_time?keep_alive=1m`);
    expect(typeof pit.pit_id).toBe('string');
    try {
      // Written after the PIT was opened: must not show up in its pages.
      await os('PUT', `/${index}/_doc/late?refresh=true`, { tenant, seq: 'late', at: '2026-01-01T00:00:00Z', statement: 'late' });

      const seen: string[] = [];
      let searchAfter: unknown[] | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await os('POST', '/_search', {
          size: 3,
          query: { term: { tenant } },
          sort: [{ at: 'desc' }, { seq: 'asc' }],   // seq: a unique tie-breaker
          pit: { id: pit.pit_id, keep_alive: '1m' },
          ...(searchAfter ? { search_after: searchAfter } : {}),
        });
        const hits = res.hits.hits as { _source: { seq: string }; sort: unknown[] }[];
        if (hits.length === 0) break;
        seen.push(...hits.map((h) => h._source.seq));
        searchAfter = hits[hits.length - 1].sort;
      }
      expect(seen).toEqual(['s6', 's4', 's5', 's2', 's3', 's0', 's1']);
    } finally {
      await os('DELETE', '/_search/point_in_time', { pit_id: [pit.pit_id] });
    }
    const { count } = await os('POST', `/${index}/_count`, { query: { term: { tenant } } });
    expect(count).toBe(8);   // the late document is there outside the PIT
  });
});
