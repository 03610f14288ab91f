/**
 * Issue 14, on a real three-node OpenSearch cluster (dev/local/opensearch-cluster.ts, started here, not in the
 * global setup) with one replica of every index (OPENSEARCH_REPLICAS=1) and daily event indices of three primary shards
 * (OPENSEARCH_EVENT_SHARDS=3, as a large platform would have them): one node is killed (SIGKILL) in the middle
 * of a file ingest, and
 *   - nothing is lost and nothing is doubled: every event of the file is stored exactly once (the count, every id
 *     fetched, the checkpoint, the dead letters), first while the node is still down, again after it rejoined;
 *   - queries keep answering while it is down: auditEvents and auditEventStats through the gateway, again and
 *     again from the kill until the node is back, never an error, the cluster yellow meanwhile;
 *   - the node rejoins: started again on its data dir, the cluster is green with three nodes, the node holds shard
 *     copies again, and it answers as coordinator with the same events.
 * The node killed is the first of the gateway's OPENSEARCH_URL list (the one its client goes to first), and the
 * elected cluster manager too: the harsher case, as the two survivors must elect a new one.
 * The tenant's service is the shared PG15 + pgaudit server; the input a generated csvlog (test/support/csvlog-generator.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpenSearchCluster } from '../dev/local/opensearch-cluster';
import { clusterBaseDir } from '../dev/local/postgres-cluster';
import { silentLogger } from '../src/base/logger';
import { indexFor } from '../src/modules/audit-events/event.index';
import { eventId } from '../src/modules/ingest/audit-event';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester, IngestStats } from '../src/modules/ingest/ingester';
import { ROOT } from './support/cli';
import { generateCsvlog, GeneratedCsvlog } from './support/csvlog-generator';
import { createTenant, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { openSearch } from './support/opensearch';

const AUDIT_LINES = 30_000;
const LOG_FILE = 'postgresql-2026-12-01_120000.csv';
/** Bytes of the log's first fifth, written first. */
let fifth = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const baseDir = clusterBaseDir(path.join(ROOT, '.local/test-clusters', `opensearch-cluster-${process.pid}`), `opensearch-cluster-${process.pid}`);
let cluster: OpenSearchCluster | undefined;
let g: TestGateway | undefined;
let t: Tenant;
let tmp: string;
let gen: GeneratedCsvlog;
/** The member killed: the first of OPENSEARCH_URL and the elected cluster manager. */
let victim: number;

const timings: Record<string, number> = {};
beforeAll(async () => {
  let at = Date.now();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opensearch-cluster-'));
  gen = generateCsvlog({ seed: 20261201, auditLines: AUDIT_LINES, start: new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000) });
  // the first fifth of the log now (cut at a row); the rest is appended once that much is indexed and replicated
  fifth = gen.rows[Math.floor(gen.rows.length / 5)]!.endOffset;
  fs.writeFileSync(path.join(tmp, LOG_FILE), gen.bytes.subarray(0, fifth));
  // Fails the file, loudly, when OpenSearch does not start (with every member's log tail): never skipped.
  timings.generateMs = Date.now() - at; at = Date.now();
  cluster = await OpenSearchCluster.start({ name: 'os-cluster', baseDir, nodes: 3, heapMb: 512 });
  timings.clusterStartMs = Date.now() - at;
  const manager = (await openSearch<{ node: string }[]>(cluster.url, 'GET', '/_cat/cluster_manager?format=json'))[0]!.node;
  victim = cluster.nodes.findIndex((n) => n.name === manager);
  expect(victim).toBeGreaterThanOrEqual(0);
  const order = [victim, ...cluster.nodes.keys()].filter((i, k, all) => all.indexOf(i) === k);
  g = await startTestGateway({ OPENSEARCH_URL: order.map((i) => cluster!.urls[i]).join(','), OPENSEARCH_REPLICAS: '1', OPENSEARCH_EVENT_SHARDS: '3' });
  await g.gateway.eventStore!.ensureTemplate();
  t = await createTenant(g, { serviceUrl: urls.pgaudit });
}, 240_000);

afterAll(async () => {
  await g?.close();
  await cluster?.stop();
  fs.rmSync(baseDir, { recursive: true, force: true });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 60_000);

const EVENTS = `query($s: ID!) { auditEvents(serviceId: $s, first: 5) { totalCount edges { node { id timestamp } } } }`;
const STATS = `query($s: ID!) { auditEventStats(serviceId: $s, groupBy: CLASS) { totalCount groups { key count } } }`;

/** Both queries once, through the gateway; their answers, or the errors they gave. */
async function ask(): Promise<{ events?: number; stats?: number; groups?: Record<string, number>; errors: string[] }> {
  const [e, s] = await Promise.all([g!.exec(t.token, EVENTS, { s: t.serviceId }), g!.exec(t.token, STATS, { s: t.serviceId })]);
  const errors = [...(e.errors ?? []), ...(s.errors ?? [])].map((x) => `${x.extensions?.code ?? ''} ${x.message}`);
  const groups = s.data?.auditEventStats ? Object.fromEntries((s.data.auditEventStats.groups as { key: string; count: number }[]).map((x) => [x.key, x.count])) : undefined;
  return { events: e.data?.auditEvents?.totalCount, stats: s.data?.auditEventStats?.totalCount, groups, errors };
}

/** Every event of the file is stored exactly once, as `url` (a coordinating node) sees it: the count and every id. */
async function expectExactlyOnce(url: string): Promise<void> {
  await openSearch(url, 'POST', '/pgaudit-events-*,pgaudit-deadletter*/_refresh');
  const count = async (index: string) => (await openSearch<{ count: number; _shards: { failed: number } }>(url, 'POST', `/${index}/_count`,
    { query: { term: { serviceId: t.serviceId } } }));
  const events = await count('pgaudit-events-*');
  expect(events._shards.failed).toBe(0);
  expect(events.count).toBe(AUDIT_LINES);
  expect((await count('pgaudit-deadletter*')).count).toBe(gen.forged.length);
  const missing: string[] = [];
  for (let i = 0; i < gen.audit.length; i += 5000) {
    const docs = gen.audit.slice(i, i + 5000).map((r) => ({ _index: indexFor(r.event!.timestamp), _id: eventId(t.serviceId, r.event!.sessionId, r.event!.sessionLineNum) }));
    const res = await openSearch<{ docs: { _id: string; found?: boolean }[] }>(url, 'POST', '/_mget?_source=false', { docs });
    missing.push(...res.docs.filter((d) => !d.found).map((d) => d._id));
  }
  expect({ missing: missing.length, first: missing.slice(0, 3) }).toEqual({ missing: 0, first: [] });
}

it('a node killed mid-ingest: nothing lost or doubled, queries answer throughout, the node rejoins and the cluster is green again', async () => {
  const c = cluster!;
  const down = c.nodes[victim]!;
  const survivor = c.nodes.find((n) => n !== down)!;
  const size = gen.bytes.length;
  const checkpoints = new CheckpointRepository(g!.gateway.db.prisma);
  const expectedGroups: Record<string, number> = {};
  for (const r of gen.audit) expectedGroups[r.event!.class] = (expectedGroups[r.event!.class] ?? 0) + 1;

  // Every index of the gateway has one replica, and the daily event indices three primary shards (the templates say so).
  const template = await openSearch(survivor.url, 'GET', '/_index_template/pgaudit-*');
  type Settings = { index: { number_of_replicas: string; number_of_shards?: string } };
  expect(template.index_templates.map((x: { name: string; index_template: { template: { settings: Settings } } }) =>
    [x.name, x.index_template.template.settings.index.number_of_replicas, x.index_template.template.settings.index.number_of_shards ?? '1']).sort())
    .toEqual([['pgaudit-deadletter', '1', '1'], ['pgaudit-events', '1', '3'], ['pgaudit-sessions', '1', '1']]);

  // The first fifth indexed, and every copy of it started (one replica each): the kill tests losing a node, not
  // losing data that had one copy yet. Then the rest of the log is appended and read, and the node killed during it.
  const service = (await g!.gateway.tenancy.serviceById(t.serviceId))!;
  const ingestStart = Date.now();
  await new Ingester(service, tmp, g!.gateway.eventStore!, checkpoints, silentLogger, { batchSize: 500 }).runOnce();
  const health = await openSearch<{ status: string; timed_out: boolean }>(survivor.url, 'GET', '/_cluster/health/pgaudit-*?wait_for_status=green&timeout=60s');
  expect(health).toMatchObject({ status: 'green', timed_out: false });
  const eventIndices = await openSearch<Record<string, { settings: Settings }>>(survivor.url, 'GET', '/pgaudit-events-*/_settings');
  expect(Object.values(eventIndices).map((x) => x.settings.index.number_of_shards)).toEqual(Object.keys(eventIndices).map(() => '3'));
  fs.appendFileSync(path.join(tmp, LOG_FILE), gen.bytes.subarray(fifth));
  // Small batches: many acknowledged batches before and after the kill.
  const ingesting = new Ingester(service, tmp, g!.gateway.eventStore!, checkpoints, silentLogger, { batchSize: 500 }).runOnce();
  let ingestEnded: string | null = null;
  ingesting.then(() => { ingestEnded = 'finished'; }, (err: Error) => { ingestEnded = `failed: ${err.message}`; });

  // Kill it once the second part is under way (the checkpoint moved past the first fifth).
  for (let deadline = Date.now() + 60_000; ;) {
    const cp = await checkpoints.get(t.serviceId, LOG_FILE);
    if (cp && cp.offset > fifth) break;
    if (ingestEnded || Date.now() > deadline) throw new Error(`no ingest progress before the kill (ingest ${ingestEnded ?? 'still running'})`);
    await sleep(5);
  }
  const shardsOnVictim = (await openSearch<{ node: string | null }[]>(survivor.url, 'GET', '/_cat/shards/pgaudit-*?format=json&h=node'))
    .filter((s) => s.node === down.name).length;
  expect(shardsOnVictim).toBeGreaterThan(0);   // the node killed held shard copies
  await down.kill();                           // SIGKILL; resolves once the JVM is gone
  const killedAt = Date.now();
  timings.ingestBeforeKillMs = killedAt - ingestStart;
  expect(ingestEnded).toBeNull();              // really mid-ingest
  expect((await checkpoints.get(t.serviceId, LOG_FILE))!.offset).toBeLessThan(size);

  // Queries go on while the node is down, never failing, counts never going back.
  const answers: Awaited<ReturnType<typeof ask>>[] = [];
  let querying = true;
  const queries = (async () => {
    while (querying) {
      answers.push(await ask());
      await sleep(100);
    }
  })();

  try {
    // The two survivors: a cluster manager elected among them, yellow (the dead node's copies are unassigned).
    const yellow = await c.waitForStatus('yellow', { nodes: 2, timeoutMs: 60_000 });
    timings.yellowAfterKillMs = Date.now() - killedAt;
    expect(yellow.status).toBe('yellow');
    expect(yellow.unassigned_shards).toBeGreaterThan(0);

    const stats: IngestStats = await ingesting;
    timings.ingestAfterKillMs = Date.now() - killedAt;
    // the second part: what follows the first fifth (the checkpoint's totals below count both parts)
    const later = gen.rows.filter((r) => r.startOffset >= fifth);
    expect(stats).toEqual({ files: 1, events: later.filter((r) => r.kind === 'audit').length, malformed: later.filter((r) => r.kind === 'forged').length,
      bytes: size - fifth, sessionEvents: expect.any(Number) });
    expect(await checkpoints.get(t.serviceId, LOG_FILE)).toMatchObject({ offset: size, events: AUDIT_LINES, malformed: gen.forged.length });

    // Still down: every event is there once, as the survivor coordinates it and as the gateway answers.
    expect(down.running).toBe(false);
    await expectExactlyOnce(survivor.url);
    const whileDown = await ask();
    expect(whileDown).toEqual({ events: AUDIT_LINES, stats: AUDIT_LINES, groups: expectedGroups, errors: [] });
    expect((await c.health()).number_of_nodes).toBe(2);
  } finally {
    querying = false;
    await queries;
  }
  const downFor = Date.now() - killedAt;
  expect(answers.flatMap((a) => a.errors)).toEqual([]);
  expect(answers.length).toBeGreaterThanOrEqual(5);
  // Never more than the file holds. (Not monotonic: each copy of a shard refreshes on its own, and two searches may
  // read different copies, so a count may be a little lower than the one before it.)
  const counts = answers.map((a) => a.events!);
  expect(counts.filter((n) => !(n >= 0 && n <= AUDIT_LINES))).toEqual([]);
  expect(counts.at(-1)).toBe(AUDIT_LINES);

  // The node rejoins: same data dir and ports; the cluster is green with three nodes, the node holds copies again.
  const restarting = Date.now();
  await down.start();
  const green = await c.waitForStatus('green', { nodes: 3, timeoutMs: 120_000 });
  expect(green.unassigned_shards).toBe(0);
  const rejoinMs = Date.now() - restarting;
  const shards = await openSearch<{ node: string | null; state: string }[]>(down.url, 'GET', '/_cat/shards/pgaudit-*?format=json&h=node,state');
  expect(shards.filter((s) => s.node === down.name && s.state === 'STARTED').length).toBeGreaterThan(0);
  expect(shards.every((s) => s.state === 'STARTED')).toBe(true);

  // And it answers, as coordinator, with every event once; so does the gateway.
  await expectExactlyOnce(down.url);
  expect(await ask()).toEqual({ events: AUDIT_LINES, stats: AUDIT_LINES, groups: expectedGroups, errors: [] });
  if (process.env.DEBUG_TEST_CLUSTERS) {
    const rss = c.nodes.map((n) => { try { return Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${n.pid}/status`, 'utf8'))![1]) / 1024); } catch { return -1; } });
    const heap = await openSearch(down.url, 'GET', '/_nodes/stats/jvm?filter_path=nodes.*.name,nodes.*.jvm.mem.heap_used_in_bytes,nodes.*.jvm.mem.heap_max_in_bytes');
    console.log(`RSS MB ${rss.join(' ')}; heap ${JSON.stringify(Object.values(heap.nodes).map((x: any) => [x.name, Math.round(x.jvm.mem.heap_used_in_bytes / 2 ** 20), Math.round(x.jvm.mem.heap_max_in_bytes / 2 ** 20)]))}`);
    console.log(`killed ${down.name} (cluster manager, first of OPENSEARCH_URL) with ${shardsOnVictim} shard copies; down ${downFor} ms, ` +
      `${answers.length} query rounds meanwhile; rejoined and green in ${rejoinMs} ms; ${JSON.stringify(timings)}; auditEvents totalCount answers: ${counts.join(' ')}`);
  }
}, 180_000);
