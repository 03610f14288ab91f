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
const OLD_TEXT_INDEX = 'pgaudit-events-1999.01.02';
const BEFORE_15_INDEX = 'pgaudit-events-1999.01.03';
/** The template of the version before searchTerms, for OLD_TEXT_INDEX only (a higher priority than the current one, which stays in place). */
const OLD_TEMPLATE = 'pgaudit-events-test-before-search-terms';
let url: string;
let store: EventStore;

const os = <T = any>(method: string, path: string, body?: unknown): Promise<T> => openSearch<T>(url, method, path, body);

beforeAll(async () => {
  url = env('OPENSEARCH_URL');
  store = new EventStore(url);
  for (const i of [INDEX, OLD_TEXT_INDEX, BEFORE_15_INDEX]) await fetch(`${url}/${i}`, { method: 'DELETE' });
  await fetch(`${url}/_index_template/${OLD_TEMPLATE}`, { method: 'DELETE' });
});

afterAll(async () => {
  for (const i of [INDEX, OLD_TEXT_INDEX, BEFORE_15_INDEX]) await fetch(`${url}/${i}`, { method: 'DELETE' });
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
  expect(mapping[INDEX].mappings.properties.tiebreak).toEqual({ type: 'long', index: false });   // doc values only: sorted on, never filtered

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

/** The mapping of the version before searchTerms: every field but it, the statement in _source only as text. */
function mappingBeforeSearchTerms() {
  const { searchTerms: _, ...properties } = INDEX_TEMPLATE.template.mappings.properties;
  return { dynamic: 'strict', properties };
}

it('an index written before searchTerms: the text filter still finds what the plain match found, and it accepts events with terms from start-up on', async () => {
  await os('PUT', `/_index_template/${OLD_TEMPLATE}`, { index_patterns: [OLD_TEXT_INDEX], priority: 1000,
    template: { settings: INDEX_TEMPLATE.template.settings, mappings: mappingBeforeSearchTerms() } });
  await os('PUT', `/${OLD_TEXT_INDEX}`, {});
  await os('DELETE', `/_index_template/${OLD_TEMPLATE}`);
  expect((await os('GET', `/${OLD_TEXT_INDEX}/_mapping`))[OLD_TEXT_INDEX].mappings.properties.searchTerms).toBeUndefined();
  const serviceId = randomUUID();
  const base = { serviceId, projectId: randomUUID(), organizationId: randomUUID(), auditType: 'SESSION' as const, substatementId: 1,
    class: 'WRITE', command: 'UPDATE', objectType: null, objectName: null, statementStatus: 'LOGGED' as const, parameters: [], rows: null,
    user: 'u', database: 'd', sessionId: 's', applicationName: null, remoteHost: null };
  // written as the earlier version wrote them: no searchTerms field (a strict mapping without it would refuse one)
  const old = { ...base, id: `oldtext1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, timestamp: '1999-01-02T00:00:01.000Z', statementId: 1, sessionLineNum: 1,
    statement: 'update hr.employee set first_name = $1 where id = $2', objectName: 'hr.employee', objectType: 'TABLE' };
  await os('PUT', `/${OLD_TEXT_INDEX}/_doc/${old.id}?refresh=true`, { tiebreak: 1, ...old });
  const refused = await fetch(`${url}/${OLD_TEXT_INDEX}/_doc/probe`, { method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...old, id: 'probe', searchTerms: ['hr'] }) });
  expect(refused.status).toBe(400);                                      // strict: the old mapping refuses the new field

  const texts = async (text: string) => (await store.search(serviceId, { text }, 10, null)).events.map((e) => e.id);
  // what the plain match found on the old index, the new filter finds too
  for (const text of ['hr.employee', 'first_name', 'UPDATE hr.employee', 'update', '"hr.employee set first_name"']) expect(await texts(text)).toEqual([old.id]);
  expect(await texts('hr.emp*')).toEqual([old.id]);                     // prefixes of the statement's words
  expect(await texts('hr.employee')).toEqual([old.id]);                 // and the object name as typed

  await store.ensureTemplate();
  const mapping = await os('GET', `/${OLD_TEXT_INDEX}/_mapping`);
  expect(mapping[OLD_TEXT_INDEX].mappings.properties.searchTerms).toMatchObject({ type: 'keyword' });
  await store.ensureTemplate();                                          // idempotent
  const fresh = { ...base, id: 'newtext1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', timestamp: '1999-01-02T00:00:02.000Z', statementId: 2, sessionLineNum: 2,
    statement: 'select hr.raise(1, 10)' };
  const res = await store.bulkIndex([fresh]);                            // into the same (old) daily index, with its searchTerms
  expect(res.rejected).toEqual([]);
  await store.refresh();
  expect(await texts('raise')).toEqual([fresh.id]);                      // found by a part, through its searchTerms
  expect(await texts('hr')).toEqual([fresh.id]);                         // the old event's statement holds hr only as hr.employee
  expect(await texts('hr.employee')).toEqual([old.id]);
  const page = await store.search(serviceId, null, 10, null);
  expect(page.events.map((e) => e.id)).toEqual([fresh.id, old.id]);
  expect(page.events[0]).toEqual(fresh);                                 // the terms kept in _source are not read back
  expect(await store.get(serviceId, fresh.id)).toEqual(fresh);
  const raw = await os('GET', `/${OLD_TEXT_INDEX}/_doc/${fresh.id}`);
  expect(raw._source.searchTerms).toEqual(expect.arrayContaining(['hr', 'raise', 'hr.raise']));
});

/**
 * The mapping before issue 15 (pinned here as it was): every field indexed with doc values, redaction's numbers and
 * flag mapped, dates in strict_date_optional_time. OpenSearch refuses to change an existing field's index, doc values
 * or format, so start-up must leave such an index's fields as they are.
 */
function mappingBefore15() {
  const keyword = { type: 'keyword' };
  const date = { type: 'date', format: 'strict_date_optional_time' };
  return { dynamic: 'strict', properties: {
    id: keyword, tiebreak: { type: 'long' }, serviceId: keyword, projectId: keyword, organizationId: keyword, timestamp: date,
    auditType: keyword, statementId: { type: 'long' }, substatementId: { type: 'long' }, class: keyword, command: keyword, objectType: keyword,
    objectName: keyword, statement: { type: 'text', analyzer: 'standard' }, statementStatus: keyword,
    parameters: { type: 'keyword', index: false, doc_values: false }, rows: { type: 'long' }, user: keyword, database: keyword, sessionId: keyword,
    sessionLineNum: { type: 'long' }, applicationName: keyword, remoteHost: keyword,
    redaction: { properties: { rulesVersion: { type: 'long' }, parametersDropped: { type: 'boolean' }, literalsMasked: { type: 'long' }, patternsMasked: { type: 'long' } } },
    ingestedAt: date, searchTerms: { type: 'keyword', doc_values: false, ignore_above: 128 },
  } };
}

it('an index made before the stored-only fields and the dates\' fixed pattern: start-up leaves it as it was, and it takes and answers events', async () => {
  await os('PUT', `/${BEFORE_15_INDEX}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: mappingBefore15() });
  const before = (await os('GET', `/${BEFORE_15_INDEX}/_mapping`))[BEFORE_15_INDEX].mappings;
  await store.ensureTemplate();                                          // refused before: "mapper [projectId] cannot change [index]"
  await store.ensureTemplate();
  expect((await os('GET', `/${BEFORE_15_INDEX}/_mapping`))[BEFORE_15_INDEX].mappings).toEqual(before);
  const serviceId = randomUUID();
  const event = { id: 'before15AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', serviceId, projectId: randomUUID(), organizationId: randomUUID(),
    timestamp: '1999-01-03T00:00:01.250Z', auditType: 'SESSION' as const, statementId: 1, substatementId: 1, class: 'READ', command: 'SELECT',
    objectType: 'TABLE', objectName: 'hr.employee', statement: 'select * from hr.employee', statementStatus: 'LOGGED' as const, parameters: [],
    rows: 3, user: 'u', database: 'd', sessionId: 's', sessionLineNum: 1, applicationName: 'psql', remoteHost: '10.0.0.1' };
  expect((await store.bulkIndex([event], [], '2026-12-05T06:40:00.123Z')).rejected).toEqual([]);
  await store.refresh();
  const page = await store.search(serviceId, { text: 'employee', from: new Date('1999-01-03T00:00:00Z'), to: new Date('1999-01-03T00:00:02Z') }, 10, null);
  const stored = { ...event, ingestedAt: '2026-12-05T06:40:00.123Z' };
  expect(page.events).toEqual([stored]);
  expect(await store.get(serviceId, event.id)).toEqual(stored);
  // a new daily index takes the new template: the same event, found the same way
  const today = { ...event, id: 'after15AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', timestamp: '1999-01-04T00:00:01.250Z' };
  await fetch(`${url}/pgaudit-events-1999.01.04`, { method: 'DELETE' });
  try {
    expect((await store.bulkIndex([today])).rejected).toEqual([]);
    await store.refresh();
    const fresh = (await os('GET', '/pgaudit-events-1999.01.04/_mapping'))['pgaudit-events-1999.01.04'].mappings.properties;
    expect([fresh.projectId, fresh.timestamp.format]).toEqual([{ type: 'keyword', index: false, doc_values: false }, INDEX_TEMPLATE.template.mappings.properties.timestamp.format]);
    expect((await store.search(serviceId, { text: 'employee' }, 10, null)).events.map((e) => e.id)).toEqual([today.id, event.id]);
    // the id has doc values only, and a lookup by id asks _id: on the new index as on the old one
    expect([fresh.id, fresh.tiebreak]).toEqual([{ type: 'keyword', index: false }, { type: 'long', index: false }]);
    expect(await store.get(serviceId, today.id)).toEqual(today);
    expect(await store.get(randomUUID(), today.id)).toBeNull();            // another service's id finds nothing
    // the _id lookup filter is on in the new index (OpenSearch 2.19 knows it), and a replay is still answered 409
    const settings = (await os('GET', '/pgaudit-events-1999.01.04/_settings'))['pgaudit-events-1999.01.04'].settings.index;
    expect(settings.optimize_doc_id_lookup).toEqual({ fuzzy_set: { enabled: 'true' } });
    expect(store.idLookupFilter).toBe(true);
    expect(await store.bulkIndex([today, event])).toMatchObject({ indexed: 2, duplicates: 2, rejected: [] });
    await store.refresh();
    expect((await store.search(serviceId, null, 10, null)).events.map((e) => e.id)).toEqual([today.id, event.id]);
  } finally {
    await fetch(`${url}/pgaudit-events-1999.01.04`, { method: 'DELETE' });
  }
});
