/**
 * Search finds what people type, end to end on real servers: a workload on PostgreSQL 15 + pgaudit (schema hr, a
 * function hr.raise, a table hr.employee with first_name, a quoted "Hr"."Employee"), its csvlog ingested into
 * OpenSearch by the real ingester, and searched through GraphQL: name parts, whole qualified names, underscored
 * names, prefixes, any case, a phrase and object names. Each answer is compared with the set of the workload's own
 * statements that should match, and its count with the page.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { createTenant, ENABLE, env, ingestOnce, resetServer, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { waitForCsvlog } from './support/pgaudit-log';
import { openSearch } from './support/opensearch';

const DB = 'text_search_e2e';
const EVENTS = `query($serviceId: ID!, $filter: AuditEventFilter, $first: Int) {
  auditEvents(serviceId: $serviceId, filter: $filter, first: $first) { totalCount edges { node { id command objectName statement } } } }`;

const WORKLOAD = [
  'CREATE SCHEMA hr',
  'CREATE TABLE hr.employee (id int PRIMARY KEY, first_name text, salary int)',
  'CREATE SEQUENCE hr.emp_seq',
  'CREATE FUNCTION hr.raise(emp int, pct int) RETURNS int LANGUAGE sql AS $$ UPDATE hr.employee SET salary = salary * (100 + pct) / 100 WHERE id = emp RETURNING salary $$',
  "INSERT INTO hr.employee VALUES (1, 'Ann', 100), (2, 'Bob', 200)",
  'select hr.raise(1, 10)',
  "UPDATE hr.employee SET first_name = 'Anna' WHERE id = 1",
  "select nextval('hr.emp_seq')",
  'CREATE SCHEMA "Hr"',
  'CREATE TABLE "Hr"."Employee" (x int)',
  'SELECT e.first_name, x.x FROM hr.employee e JOIN "Hr"."Employee" x ON true',
  "SELECT 42 AS answer, 'nothing here' AS note",
];

let g: TestGateway;
let a: Tenant;
let events: { id: string; command: string; objectName: string | null; statement: string | null }[];

async function search(text: string): Promise<{ statements: (string | null)[]; ids: string[]; totalCount: number }> {
  const r = await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB], text }, first: 100 });
  expect(r.errors).toBeUndefined();
  const c = r.data!.auditEvents;
  expect(c.totalCount).toBe(c.edges.length);                        // the count agrees with the page (fewer than 100 here)
  return { statements: c.edges.map((e: any) => e.node.statement), ids: c.edges.map((e: any) => e.node.id).sort(), totalCount: c.totalCount };
}
/** The ids of the events whose statement and object name, lower-cased and without double quotes, match `re`: what a search must return. */
const idsWhere = (re: RegExp) => events.filter((e) => re.test(`${e.statement ?? ''} ${e.objectName ?? ''}`.toLowerCase().replace(/"/g, ''))).map((e) => e.id).sort();

beforeAll(async () => {
  const logDir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  await resetServer(urls.pgaudit);
  await sql(urls.pgaudit, `DROP DATABASE IF EXISTS ${DB}`);
  await sql(urls.pgaudit, `CREATE DATABASE ${DB}`);
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  a = await createTenant(g, { serviceUrl: urls.pgaudit });
  const r = await g.exec(a.token, ENABLE, { input: { serviceId: a.serviceId, database: DB,
    settings: { log: ['ALL'], logExclude: ['MISC_SET'], logParameter: true, logCatalog: false, logRelation: true, logStatementOnce: true } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);

  const c = new Client({ connectionString: withDatabase(urls.pgaudit, DB) });
  await c.connect();
  for (const q of WORKLOAD) await c.query(q);
  const fence = `text-search-fence-${randomUUID()}`;
  await c.query(`SELECT '${fence}'`);
  await c.end();
  await waitForCsvlog(fence, logDir);
  await ingestOnce(g, a.serviceId, logDir, { batchSize: 25 });
  const all = await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB] }, first: 100 });
  events = all.data!.auditEvents.edges.map((e: any) => e.node);
});
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

describe('text search on real pgaudit events', () => {
  it('the workload is there, with an event that names its object but not its statement (log_statement_once)', () => {
    for (const q of WORKLOAD) expect(events.some((e) => e.statement === q)).toBe(true);
    expect(events.some((e) => e.statement === null && e.objectName === '"Hr"."Employee"')).toBe(true);
  });

  it('the plain match of earlier versions missed parts of names: `raise` found no hr.raise', async () => {
    const res = await openSearch<any>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_search', { size: 0, track_total_hits: true,
      // this test's database only: the server's log holds other suites' statements too (a DO block's RAISE)
      query: { bool: { filter: [{ term: { serviceId: a.serviceId } }, { term: { database: DB } }, { match: { statement: { query: 'raise', operator: 'and' } } }] } } });
    expect(res.hits.total.value).toBe(0);
  });

  it('the terms are indexed, and never returned', async () => {
    const res = await openSearch<any>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_search', { size: 10,
      query: { bool: { filter: [{ term: { serviceId: a.serviceId } }, { term: { searchTerms: 'hr.raise' } }] } } });
    expect(res.hits.hits.length).toBeGreaterThan(0);
    for (const h of res.hits.hits) expect(h._source.searchTerms).toEqual(expect.arrayContaining(['hr', 'raise', 'hr.raise']));
    const stored = await g.gateway.eventStore!.get(a.serviceId, res.hits.hits[0]._id);
    expect(stored).not.toHaveProperty('searchTerms');                  // the store reads the document back without them
  });

  it('a part of a qualified name: `raise`, `hr`', async () => {
    const raise = await search('raise');
    expect(raise.statements).toEqual(expect.arrayContaining(['select hr.raise(1, 10)', WORKLOAD[3]]));
    expect(raise.ids).toEqual(idsWhere(/hr\.raise/));
    const hr = await search('hr');
    expect(hr.ids).toEqual(idsWhere(/\bhr\b/));
    expect(hr.statements).toEqual(expect.arrayContaining(['CREATE SCHEMA hr', 'CREATE TABLE "Hr"."Employee" (x int)', 'select hr.raise(1, 10)']));
    expect(hr.statements).not.toContain(WORKLOAD[11]);
  });

  it('the whole qualified name: `hr.raise` finds the call and the function, not the table', async () => {
    const r = await search('hr.raise');
    expect(r.ids).toEqual(idsWhere(/hr\.raise/));
    expect(r.statements).not.toContain(WORKLOAD[6]);
  });

  it('`employee` and `EMPLOYEE`: every statement and object naming hr.employee or "Hr"."Employee", whatever the case', async () => {
    const expected = idsWhere(/employee/);
    const lower = await search('employee');
    expect(lower.ids).toEqual(expected);
    expect(lower.statements).toEqual(expect.arrayContaining([WORKLOAD[6], WORKLOAD[4], 'CREATE TABLE "Hr"."Employee" (x int)', null]));
    expect((await search('EMPLOYEE')).ids).toEqual(expected);
    expect((await search('eMpLoYeE')).ids).toEqual(expected);
  });

  it('a prefix: `emp*` finds employee, emp_seq and the parameter emp', async () => {
    const r = await search('emp*');
    expect(r.ids).toEqual(idsWhere(/(^|[^a-z0-9])emp/));
    expect(r.statements).toEqual(expect.arrayContaining([WORKLOAD[6], "select nextval('hr.emp_seq')", WORKLOAD[3]]));
    expect((await search('hr.emp*')).statements).toEqual(expect.arrayContaining([WORKLOAD[6], "select nextval('hr.emp_seq')"]));
  });

  it('underscored names: `first_name` whole, and its parts `first`, `name`', async () => {
    const expected = idsWhere(/first_name/);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect((await search('first_name')).ids).toEqual(expected);
    expect((await search('FIRST_NAME')).ids).toEqual(expected);
    expect((await search('name')).ids).toEqual(expect.arrayContaining(expected));
    expect((await search('first')).ids).toEqual(expected);
    expect((await search('emp_seq')).statements).toEqual(expect.arrayContaining(["select nextval('hr.emp_seq')", 'CREATE SEQUENCE hr.emp_seq']));
  });

  it('a quoted phrase: words adjacent and in order', async () => {
    const r = await search('"hr.employee set"');
    expect(r.ids).toEqual(idsWhere(/hr\.employee set/));
    expect(r.statements).toEqual(expect.arrayContaining([WORKLOAD[6]]));
    expect(r.statements).not.toContain(WORKLOAD[4]);                  // INSERT INTO hr.employee VALUES: not adjacent to SET
    expect((await search('"set first_name"')).ids).toEqual(idsWhere(/set first_name/));
  });

  it('object names: an event whose statement is not logged again is found by its object, by any part or the whole', async () => {
    const byObject = events.filter((e) => e.statement === null && e.objectName === '"Hr"."Employee"').map((e) => e.id);
    expect(byObject.length).toBeGreaterThan(0);
    for (const text of ['employee', 'Hr', 'hr.employee', 'HR.EMPLOYEE']) expect((await search(text)).ids).toEqual(expect.arrayContaining(byObject));
    expect((await search('hr.employee')).ids).toEqual(idsWhere(/hr\.employee\b/));   // not hr.employee_pkey: a name is matched whole or by its parts
    const index = events.filter((e) => e.statement === null && e.objectName === 'hr.employee_pkey').map((e) => e.id);
    expect(index).toHaveLength(1);                                      // CREATE INDEX of the primary key: its statement was the CREATE TABLE
    expect((await search('hr.employee_pkey')).ids).toEqual(index);
    expect((await search('pkey')).ids).toEqual(index);
  });

  it('words together must all match; no word of the text is query syntax', async () => {
    expect((await search('hr raise')).ids).toEqual(idsWhere(/hr\.raise/));
    expect((await search('raise first_name')).totalCount).toBe(0);
    for (const text of ['statement:* OR id:*', 'hr.employee OR *:*', '{"match_all":{}}', 'serviceId:* ab*']) {
      expect((await search(text)).totalCount).toBe(0);
    }
  });

  it('out of bounds: BAD_USER_INPUT naming filter.text, nothing searched', async () => {
    for (const text of ['e*', 'ab* cd* ef* gh*', Array.from({ length: 33 }, (_, i) => `w${i}`).join(' ')]) {
      const r = await g.exec(a.token, EVENTS, { serviceId: a.serviceId, filter: { databases: [DB], text }, first: 10 });
      expect(r.data).toBeNull();
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.text' });
    }
  });
});
