/**
 * A store written by an earlier version: daily indices made before the `tiebreak` sort field existed.
 * Start-up (ensureTemplate) adds the field to their mapping, and pages and counts keep working over
 * documents that lack it. Real OpenSearch.
 */
import { randomUUID } from 'node:crypto';
import { EventStore } from '../src/modules/audit-events/event.store';
import { INDEX_TEMPLATE } from '../src/modules/audit-events/event.index';
import { env } from './support/env';
import { openSearch } from './support/opensearch';

const INDEX = 'pgaudit-events-1999.01.01';
let url: string;
let store: EventStore;

const os = <T = any>(method: string, path: string, body?: unknown): Promise<T> => openSearch<T>(url, method, path, body);

beforeAll(async () => {
  url = env('OPENSEARCH_URL');
  store = new EventStore(url);
  await fetch(`${url}/${INDEX}`, { method: 'DELETE' });
});

afterAll(async () => {
  await fetch(`${url}/${INDEX}`, { method: 'DELETE' });
  await store.close();
});

it('an index without the tiebreak field gains it at start-up and still answers pages and counts', async () => {
  const { tiebreak: _, ...oldProperties } = INDEX_TEMPLATE.template.mappings.properties;
  await os('PUT', `/${INDEX}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { ...INDEX_TEMPLATE.template.mappings, properties: oldProperties } });
  const serviceId = randomUUID();
  const docs = [1, 2, 3].map((i) => ({ id: `legacy${i}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, serviceId, projectId: randomUUID(), organizationId: randomUUID(),
    timestamp: `1999-01-01T00:00:0${i}.000Z`, auditType: 'SESSION', statementId: i, substatementId: 1, class: 'READ', command: 'SELECT',
    objectType: null, objectName: null, statement: `SELECT ${i}`, statementStatus: null, parameters: [], rows: null, user: 'u', database: 'd',
    sessionId: 's', sessionLineNum: i, applicationName: null, remoteHost: null }));
  for (const d of docs) await os('PUT', `/${INDEX}/_doc/${d.id}?refresh=true`, d);

  await store.ensureTemplate();
  const mapping = await os(`GET`, `/${INDEX}/_mapping`);
  expect(mapping[INDEX].mappings.properties.tiebreak).toEqual({ type: 'long' });

  const first = await store.search(serviceId, null, 2, null);
  expect(first.totalCount).toBe(3);
  expect(first.hasNextPage).toBe(true);
  expect(first.events.map((e) => e.statement)).toEqual(['SELECT 3', 'SELECT 2']);
  const last = first.events.at(-1)!;
  const rest = await store.search(serviceId, null, 2, { timestampMs: Date.parse(last.timestamp), id: last.id });
  expect(rest.events.map((e) => e.statement)).toEqual(['SELECT 1']);
  expect(rest.hasNextPage).toBe(false);
  expect(rest.totalCount).toBe(3);
});
