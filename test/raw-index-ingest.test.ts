/**
 * The raw-index source on the real OpenSearch: a real PG15 + pgaudit stderr log (the fixture) sent the way a log
 * integration stores syslog output, one document per piece (`[seq-chunk]`: a multi-line statement's lines in
 * documents of their own), in a daily index of its own. `ingest --raw-index --once` (the built CLI) must give the
 * same audit events, field for field, as the same log read as a stream (`ingest --stdin --format stderr`); a second
 * pass reads nothing (the checkpoint), documents added later are read after it, and the raw index is never changed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../src/base/logger';
import { RawIndexSource } from '../src/modules/ingest/raw-index.source';
import { CLI, ROOT } from './support/cli';
import { createTenant, env, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { openSearch } from './support/opensearch';
import { eventsOf, RAW_MAPPING, storeRaw, syslogDocuments } from './support/raw-index';

const SAMPLE = readFileSync(path.join(ROOT, 'src/modules/ingest/fixtures/pgaudit-pg15/postgresql.stderr'), 'utf8');
const INDEX = `rawlogs-${process.pid}-2026.11.24`;
const PATTERN = `rawlogs-${process.pid}-*`;
// the fixture is dated 2026-11-24: a long retention keeps it inside the event-time window whenever the suite runs
const INGEST_ENV = { ...process.env, EVENT_RETENTION_DAYS: '3650' };

let g: TestGateway;
let streamTenant: Tenant;   // the baseline: the same log as a stream
let rawTenant: Tenant;      // the log as raw documents
let documents: Record<string, unknown>[] = [];

function cli(args: string[], input?: string): Record<string, number> {
  const r = spawnSync(process.execPath, [CLI, 'ingest', '--json', ...args], { cwd: ROOT, input, encoding: 'utf8', env: INGEST_ENV, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ingest exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

/** Indexes documents as an integration does, ids in arrival order (what orders pieces of one timestamp). */
const store = (docs: Record<string, unknown>[], first: number) => storeRaw(docs, first, () => INDEX);

beforeAll(async () => {
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  streamTenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  rawTenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  await openSearch(env('OPENSEARCH_URL'), 'PUT', `/${INDEX}`, RAW_MAPPING);
  documents = syslogDocuments(SAMPLE);
  cli(['--service', streamTenant.serviceId, '--stdin', '--source', 'host-a:postgresql.log', '--format', 'stderr'], SAMPLE);
}, 60_000);

afterAll(async () => {
  await openSearch(env('OPENSEARCH_URL'), 'DELETE', `/${INDEX}`).catch(() => undefined);
  await g?.close();
});

it('a log stored piece by piece in a raw index gives the stream\'s events field for field; the raw index is left as it was', async () => {
  const lines = SAMPLE.split('\n').filter((l) => l !== '').length;
  expect(documents.length).toBeGreaterThanOrEqual(lines - 5);   // multi-line statements: a document per line (empty lines dropped)
  expect(documents.some((d) => /^\[\d+-2\] /.test(String(d.MESSAGE)))).toBe(true);
  // the integration stores a message's pieces together: the first batch ends where a message ends
  let half = Math.floor(documents.length / 2);
  while (!/^\[\d+(-1)?\] /.test(String(documents[half]!.MESSAGE))) half += 1;
  await store(documents.slice(0, half), 0);
  const before = await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', `/${INDEX}/_count`, {});
  const first = cli(['--service', rawTenant.serviceId, '--raw-index', PATTERN, '--once']);
  expect(first.documents).toBe(half);
  expect(cli(['--service', rawTenant.serviceId, '--raw-index', PATTERN, '--once']).documents).toBe(0);   // the checkpoint
  await store(documents.slice(half), half);
  const second = cli(['--service', rawTenant.serviceId, '--raw-index', PATTERN, '--once']);
  expect(second.documents).toBe(documents.length - half);
  expect(first.malformed + second.malformed).toBe(0);
  const expected = await eventsOf(streamTenant.serviceId);
  expect(expected).toHaveLength(67);
  expect(await eventsOf(rawTenant.serviceId)).toEqual(expected);
  // read only: the raw documents are as they were stored
  expect((await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', `/${INDEX}/_count`, {})).count).toBe(before.count + documents.length - half);
}, 120_000);

it('pages that end inside a message: the message goes on in the next page; with pages of 5 documents the events are the same', async () => {
  const paged = await createTenant(g, { serviceUrl: urls.pgaudit });
  const service = (await g.gateway.tenancy.serviceById(paged.serviceId))!;
  const source = new RawIndexSource(service, g.gateway.eventStore!, g.gateway.db.prisma, silentLogger,
    { url: env('OPENSEARCH_URL'), indexPattern: PATTERN, pageSize: 5, window: { retentionDays: 3650, maxFutureSkewMs: 86_400_000 } });
  const stats = await source.runOnce();
  expect(stats.documents).toBe(documents.length);
  expect(stats.malformed).toBe(0);
  expect(await eventsOf(paged.serviceId)).toEqual(await eventsOf(streamTenant.serviceId));
  expect((await source.runOnce()).documents).toBe(0);
}, 60_000);
