/**
 * The export's baseline, run as its own process like the export (`node --require peak-rss.js export-baseline.js
 * <opensearch-url> <service-id> <page-size> [max-events]`): the same point in time + search_after loop over the same query and
 * sort, reading raw pages from OpenSearch through the same client and discarding them (no formatting, no
 * writing), stopping after max-events (the export's `--limit`). Prints `{"events": n, "seconds": s}`.
 */
import { Client } from '@opensearch-project/opensearch';
import { buildExportPage, openPitRequest } from '../src/modules/audit-events/export.query';

async function main(url: string, serviceId: string, pageSize: number, maxEvents: number): Promise<void> {
  const client = new Client({ node: url, requestTimeout: 60_000 });
  const t0 = performance.now();
  const { path, querystring } = openPitRequest('120s');
  const pit = ((await client.transport.request({ method: 'POST', path, querystring })).body as { pit_id: string }).pit_id;
  let events = 0;
  let after: [number, number, string] | null = null;
  for (;;) {
    const body = buildExportPage(serviceId, {}, pit, '120s', Math.min(pageSize, maxEvents - events), after);
    const hits = ((await client.transport.request({ method: 'POST', path: '/_search', body })).body as { hits: { hits: { sort: [number, number, string] }[] } }).hits.hits;
    events += hits.length;
    if (hits.length < pageSize || events >= maxEvents) break;
    after = hits.at(-1)!.sort;
  }
  await client.transport.request({ method: 'DELETE', path: '/_search/point_in_time', body: { pit_id: [pit] } });
  await client.close();
  process.stdout.write(JSON.stringify({ events, seconds: (performance.now() - t0) / 1000 }) + '\n');
}

const [url, serviceId, pageSize, maxEvents] = process.argv.slice(2);
main(url!, serviceId!, Number(pageSize ?? 1000), maxEvents ? Number(maxEvents) : Infinity).catch((err: Error) => { console.error(err); process.exit(1); });
