/**
 * Ingest from a Kafka topic shared by many services, end to end on real servers: a real single-node Kafka (KRaft,
 * dev/local/kafka-broker.ts), the real PG15 + pgaudit server, OpenSearch, and the built CLI as the ingesters.
 *
 * A workload runs on the pgaudit server; the csvlog records it wrote are (a) read from a file by the file ingester
 * for one service and (b) produced, one signed message each, to a 4-partition topic for another service, consumed by
 * two `ingest --kafka-*` processes in one group. One of them is killed -9 mid-stream and Kafka is restarted once;
 * every audit event must then be there exactly once, field for field what the file gave. Messages that name another
 * tenant's service, an unknown one, or carry no valid signature become dead letters of no tenant, never events.
 * KAFKA_TEST_KEEP=1 keeps the broker's and the members' logs in .local/test-kafka-ingest-<pid>/.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Admin, AssignerProtocol, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { KafkaBroker } from '../dev/local/kafka-broker';
import { requireMasterKeys, loadConfig } from '../src/base/config';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import { ingestKey, signLogRecord } from '../src/modules/ingest/kafka.record';
import { ROOT } from './support/cli';
import { createTenant, env, ingestOnce, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';
import { eventCount, startCli, waitFor } from './support/ingesters';
import { openSearch } from './support/opensearch';
import { waitForCsvlog } from './support/pgaudit-log';

const TOPIC = 'pg-logs';
const GROUP = 'pga-ingesters';
const BASE_DIR = path.join(ROOT, '.local', `test-kafka-ingest-${process.pid}`);

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let g: TestGateway;
let fileTenant: Tenant;    // the baseline: the same records read from a file
let kafkaTenant: Tenant;   // the records through Kafka
let otherTenant: Tenant;   // another project: nothing may reach it
const members: ChildProcess[] = [];
/** The workload's csvlog records: each record's raw bytes, as PostgreSQL wrote them. */
let records: Buffer[] = [];
let logDir: string;

/** One `ingest --kafka-*` process of the group, its output kept for a failing test's message. */
function startMember(name: string): ChildProcess {
  const child = startCli(['ingest', '--kafka-brokers', broker.bootstrap, '--kafka-topic', TOPIC, '--kafka-group', GROUP], path.join(BASE_DIR, `${name}.log`));
  members.push(child);
  return child;
}

/** Every audit event of a service, as OpenSearch holds it, by session and line: the tenant, the id and what derives from it (tiebreak), and ingestedAt left out. */
async function eventsOf(serviceId: string): Promise<Record<string, unknown>[]> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_refresh');
  const r = await openSearch<{ hits: { hits: { _source: Record<string, unknown> }[] } }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_search',
    { size: 10_000, query: { term: { serviceId } } });
  const key = (e: Record<string, unknown>) => `${e.sessionId}|${String(e.sessionLineNum).padStart(12, '0')}|${String(e.substatementId).padStart(6, '0')}|${e.id}`;
  return r.hits.hits.map(({ _source: { serviceId: _s, projectId: _p, organizationId: _o, ingestedAt: _i, id: _id, tiebreak: _t, ...rest } }) => ({ ...rest, key: key({ ...rest, id: '' }) }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/** The pid of the group member holding `partition` (members are named pga-ingest-<pid>). */
async function ownerOf(partition: number): Promise<number> {
  let owner: number | undefined;
  await waitFor(`an owner of partition ${partition}`, async () => {
    const [group] = (await admin.describeGroups([GROUP])).groups;
    for (const m of group?.members ?? []) {
      const assigned = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[TOPIC] ?? [];
      if (assigned.includes(partition)) owner = Number(m.clientId.replace('pga-ingest-', ''));
    }
    return owner !== undefined;
  });
  return owner!;
}

/** A signed message of `serviceId` carrying one csvlog record. */
function message(serviceId: string, value: Buffer, signAs = serviceId) {
  const keys = requireMasterKeys(loadConfig(process.env));
  return { key: serviceId, value, headers: { 'pga-format': 'csvlog', 'pga-signature': signLogRecord(ingestKey(keys, keys.current, signAs)!, keys.current, value) } };
}

beforeAll(async () => {
  fs.mkdirSync(BASE_DIR, { recursive: true });
  broker = await KafkaBroker.start({ name: 'kafka', baseDir: BASE_DIR });
  kafka = new Kafka({ clientId: 'kafka-ingest-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 4, replicationFactor: 1 }], waitForLeaders: true });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  g = await startTestGateway();
  await g.gateway.eventStore!.ensureTemplate();
  fileTenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  kafkaTenant = await createTenant(g, { serviceUrl: urls.pgaudit });
  otherTenant = await createTenant(g, { serviceUrl: urls.pgaudit });

  // a workload on the real server: three sessions, statements with quotes, commas and newlines in them
  const dir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  const newest = () => fs.readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().at(-1)!;
  const file = newest();
  const start = fs.statSync(path.join(dir, file)).size;
  const fence = `kafka_e2e_fence_${randomUUID().slice(0, 8)}`;
  for (let s = 0; s < 3; s++) {
    const statements = [`SET pgaudit.log = 'read, write, ddl'`, `CREATE TABLE IF NOT EXISTS kafka_e2e_${s} (id int, note text)`];
    for (let i = 0; i < 60; i++) statements.push(`INSERT INTO kafka_e2e_${s} VALUES (${i}, 'it''s, "quoted"\nand on two lines ${i}')`);
    statements.push(`SELECT count(*) FROM kafka_e2e_${s}`, `DROP TABLE kafka_e2e_${s}`);
    await sql(urls.pgaudit, statements.join(';\n'));
  }
  await sql(urls.pgaudit, `SET pgaudit.log = 'misc'; SELECT '${fence}'`);
  await waitForCsvlog(fence);
  expect(newest()).toBe(file);   // no rotation in between (else the test would read two files)
  // the records written since `start`, cut at record boundaries by the csvlog splitter
  const bytes = fs.readFileSync(path.join(dir, file)).subarray(start);
  const splitter = new CsvlogSplitter();
  let from = 0;
  for (const item of [...splitter.push(bytes), ...splitter.end()]) {
    records.push(bytes.subarray(from, item.endOffset));
    from = item.endOffset;
  }
  records = records.filter((r) => r.length > 0);
  logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-kafka-file-'));
  fs.writeFileSync(path.join(logDir, 'postgresql.csv'), Buffer.concat(records));
  await ingestOnce(g, fileTenant.serviceId, logDir);
}, 180_000);

afterAll(async () => {
  for (const m of members) m.kill('SIGKILL');
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  await broker?.stop();
  await g?.close();
  if (!process.env.KAFKA_TEST_KEEP) fs.rmSync(BASE_DIR, { recursive: true, force: true });
  if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
});

it('every audit line, through Kafka with two ingesters (one killed -9) and a Kafka restart, is one event, field for field the file\'s', async () => {
  const expected = await eventsOf(fileTenant.serviceId);
  expect(expected.length).toBeGreaterThanOrEqual(3 * 63);   // CREATE, 60 INSERTs, SELECT and DROP in each session
  startMember('member-a');
  startMember('member-b');
  const third = Math.ceil(records.length / 3);
  const thirds = [records.slice(0, third), records.slice(third, 2 * third), records.slice(2 * third)];
  // the service's records all go to one partition (keyed by service): the member holding it is killed mid-stream
  const [{ partition }] = await producer.send({ topic: TOPIC, messages: thirds[0]!.map((r) => message(kafkaTenant.serviceId, r)) });
  await waitFor('the first events through Kafka', async () => (await eventCount(kafkaTenant.serviceId)) > 0);
  const owner = await ownerOf(partition!);
  const victim = members.find((m) => m.pid === owner)!;
  expect(victim).toBeDefined();
  victim.kill('SIGKILL');   // its partitions go to the other member, which reads from their committed offsets
  await producer.send({ topic: TOPIC, messages: thirds[1]!.map((r) => message(kafkaTenant.serviceId, r)) });
  await broker.restart();
  await producer.send({ topic: TOPIC, messages: thirds[2]!.map((r) => message(kafkaTenant.serviceId, r)) });
  await waitFor(`${expected.length} events through Kafka`, async () => (await eventCount(kafkaTenant.serviceId)) >= expected.length, 120_000);
  await new Promise((r) => setTimeout(r, 1000));   // nothing more arrives: no event twice
  const got = await eventsOf(kafkaTenant.serviceId);
  expect(got).toHaveLength(expected.length);
  expect(got).toEqual(expected);
}, 240_000);

it('a message naming another tenant\'s service, an unknown one, or unsigned is a dead letter of no tenant, never an event', async () => {
  if (!members.some((m) => m.exitCode === null && m.signalCode === null)) startMember('member-c');
  const record = records.find((r) => r.includes('AUDIT: '))!;
  const unknown = randomUUID();
  await producer.send({ topic: TOPIC, messages: [
    message(otherTenant.serviceId, record, kafkaTenant.serviceId),   // signed with another service's key
    message(unknown, record),                                        // a service that does not exist
    { key: otherTenant.serviceId, value: record, headers: { 'pga-format': 'csvlog' } },   // no signature
  ] });
  const letters = async () => {
    await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-deadletter*/_refresh');
    return (await openSearch<{ hits: { hits: { _source: { serviceId: string; code: string; excerpt: string; reason: string } }[] } }>(env('OPENSEARCH_URL'), 'POST',
      '/pgaudit-deadletter*/_search', { size: 100,
        // this topic's only: the raw-index suites' unmapped hosts are unauthenticated_source dead letters too
        query: { bool: { filter: [{ term: { code: 'unauthenticated_source' } }, { prefix: { source: `kafka:${TOPIC}:` } }] } } })).hits.hits.map((h) => h._source);
  };
  await waitFor('three unauthenticated dead letters', async () => (await letters()).length >= 3, 60_000);
  const found = await letters();
  expect(found).toHaveLength(3);
  for (const l of found) {
    expect(l.serviceId).toBe('unauthenticated');
    expect(l.excerpt).not.toContain('AUDIT');   // the claim only, never the value
  }
  expect(found.map((l) => l.excerpt).sort()).toEqual([JSON.stringify(otherTenant.serviceId), JSON.stringify(otherTenant.serviceId), JSON.stringify(unknown)].sort());
  expect(await eventCount(otherTenant.serviceId)).toBe(0);
}, 120_000);
