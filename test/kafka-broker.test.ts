/**
 * The local Kafka broker (dev/local/kafka-broker.ts) and the chosen client (kafkajs) do what ingesting from
 * a topic will rely on, on a real single-node KRaft broker of this file's own (not global-setup's):
 *   - keyed messages with headers, produced to a 4-partition topic, consumed by a two-member consumer group
 *     with manual commits (no auto-commit): every message exactly once across the members, key and headers
 *     intact, one key always in one partition;
 *   - a member killed with SIGKILL (a child process: no LeaveGroup, the broker only notices the silence):
 *     the other member takes its partitions and resumes right after the last offset the dead one committed;
 *   - the broker restarted (same data dir and port): producing and consuming go on.
 * Where something fails (a member dies, the broker restarts), Kafka promises at least once: a message whose
 * commit did not happen may come again. What must never happen, and is checked, is a message lost, or one
 * delivered again after its commit succeeded (consuming resumes right after the last commit, never before).
 * kafkajs gives up on a consumer for an error it deems not retriable (seen here once: "Failed to find group
 * coordinator" while the broker restarted), so each member runs under a supervisor that starts a new one.
 * Missing Java, Maven or jars fail the suite in beforeAll (never skipped): run `bash scripts/bootstrap.sh`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Admin, Consumer, Kafka, logLevel, LogEntry, Partitioners, Producer } from 'kafkajs';
import { KAFKA_VERSION, KafkaBroker } from '../dev/local/kafka-broker';
import { ROOT } from './support/cli';

jest.setTimeout(60_000);

const BASE_DIR = path.join(ROOT, '.local/test-clusters', `kafka-broker-${process.pid}`);
const TOPIC = 'pgaudit-lines';
const GROUP = 'ingesters';
const PARTITIONS = 4;
// Short group timings (the broker allows sessions down to 1 s): a dead member is noticed within ~4 s.
// kafkajs heartbeats between fetches, so a fetch may wait at most 500 ms for data (5 s by default, longer
// than the session: the members would evict each other at every rebalance).
const GROUP_TIMINGS = { sessionTimeout: 4000, heartbeatInterval: 300, rebalanceTimeout: 10_000, maxWaitTimeInMs: 500 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One delivery, as a member saw it (before committing it), at `at` (ms). */
interface Delivery { member: string; partition: number; offset: number; key: string; value: string; headers: Record<string, string>; at: number }
/** A member's successful commit of `offset` (the delivered record's own offset; Kafka stores offset + 1). */
interface Commit { member: string; partition: number; offset: number; at: number }

const deliveries: Delivery[] = [];
const commits: Commit[] = [];
const assignments = new Map<string, number[]>();   // member -> partitions of its latest join
const clientLog: string[] = [];                     // kafkajs's own warnings and errors, shown when a wait fails

let broker: KafkaBroker;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let memberB: Consumer | undefined;
let stopping = false;
let memberA: ChildProcess | undefined;
let memberAOutput = '';

/**
 * Member A runs in a child process, so that it can die without a goodbye. Same client, same settings and
 * the same process-then-commit loop as member B; it reports each join, delivery and commit as a JSON line.
 * It exits when its stdin closes (the test process died).
 */
const MEMBER_SCRIPT = `
const { Kafka, logLevel } = require('kafkajs');
const [bootstrap, topic, groupId, member, timings] = process.argv.slice(1);
const say = (o) => process.stdout.write(JSON.stringify({ member, ...o }) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
const kafka = new Kafka({ clientId: member, brokers: [bootstrap], logLevel: logLevel.WARN, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
async function runMember() {
  const consumer = kafka.consumer({ groupId, ...JSON.parse(timings) });
  consumer.on(consumer.events.GROUP_JOIN, (e) => say({ ev: 'join', partitions: e.payload.memberAssignment[topic] ?? [] }));
  consumer.on(consumer.events.CRASH, (e) => {
    say({ ev: 'crash', error: String(e.payload.error), restart: e.payload.restart });
    if (!e.payload.restart) setTimeout(() => runMember().catch(fail), 500);   // kafkajs gave up on it: a new one
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => {
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
    say({ ev: 'delivery', partition, offset: Number(message.offset), key: String(message.key), value: String(message.value), headers, at: Date.now() });
    await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
    say({ ev: 'commit', partition, offset: Number(message.offset), at: Date.now() });
  } });
}
const fail = (err) => { console.error(err); process.exit(1); };
runMember().catch(fail);
`;

function startMemberA(): ChildProcess {
  const child = spawn(process.execPath, ['-e', MEMBER_SCRIPT, broker.bootstrap, TOPIC, GROUP, 'A', JSON.stringify(GROUP_TIMINGS)],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: { member: string; ev: string; partitions?: number[] } & Delivery;
    try { event = JSON.parse(line); } catch { memberAOutput += `${line}\n`; return; }
    if (event.ev === 'join') assignments.set('A', event.partitions!);
    if (event.ev === 'delivery') deliveries.push(event);
    if (event.ev === 'commit') commits.push({ member: 'A', partition: event.partition, offset: event.offset, at: event.at });
    if (event.ev === 'crash') clientLog.push(`member A: ${line}`);
  });
  child.stderr!.on('data', (chunk) => { memberAOutput += String(chunk); });
  return child;
}

/**
 * Member B: a consumer in this process, processing then committing each message by hand. When kafkajs
 * gives up on it (a crash it does not restart by itself), a new consumer takes its place.
 */
async function startMemberB(): Promise<void> {
  const consumer = kafka.consumer({ groupId: GROUP, ...GROUP_TIMINGS });
  memberB = consumer;
  consumer.on(consumer.events.GROUP_JOIN, (e) => assignments.set('B', e.payload.memberAssignment[TOPIC] ?? []));
  consumer.on(consumer.events.CRASH, (e) => {
    clientLog.push(`member B crashed (${e.payload.error}); kafkajs restarts it: ${e.payload.restart}`);
    if (!e.payload.restart && !stopping) setTimeout(() => void startMemberB().catch((err) => clientLog.push(`member B: ${err}`)), 500);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      deliveries.push({ member: 'B', partition, offset: Number(message.offset), key: String(message.key), value: String(message.value), headers, at: Date.now() });
      await consumer.commitOffsets([{ topic: TOPIC, partition, offset: String(Number(message.offset) + 1) }]);
      commits.push({ member: 'B', partition, offset: Number(message.offset), at: Date.now() });
    },
  });
}

/** Messages seq from..to-1: 16 keys (one per database, say) spread over the 4 partitions, two headers each. */
async function produce(from: number, to: number): Promise<void> {
  const messages = [];
  for (let seq = from; seq < to; seq++) {
    messages.push({ key: `db-${seq % 16}`, value: `line-${seq}`, headers: { source: 'pgaudit-test', seq: String(seq) } });
  }
  await producer.send({ topic: TOPIC, messages });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 25_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nassignments: ${JSON.stringify([...assignments])}\n` +
        `deliveries: ${deliveries.length}, commits: ${commits.length}\nmember A output:\n${memberAOutput.slice(-2000)}\n` +
        `client log:\n${clientLog.slice(-60).join('\n')}\n--- broker log tail ---\n${broker.logTail(20)}`);
    }
    await sleep(100);
  }
}

const seqOf = (d: Delivery) => Number(d.value.slice('line-'.length));
const inRange = (from: number, to: number) => deliveries.filter((d) => seqOf(d) >= from && seqOf(d) < to);
const distinctSeqs = (from: number, to: number) => new Set(inRange(from, to).map(seqOf)).size;
const committedAll = (from: number, to: number) => inRange(from, to).every((d) =>
  commits.some((c) => c.member === d.member && c.partition === d.partition && c.offset === d.offset));

/** Every message from..to-1 delivered exactly once, with its key and headers, and its key in one partition only. */
function expectExactlyOnce(from: number, to: number): void {
  expect(inRange(from, to).map(seqOf).sort((a, b) => a - b)).toEqual(Array.from({ length: to - from }, (_, i) => from + i));
  expectIntact(from, to);
}

/**
 * At least once, never behind a commit: every message from..to-1 delivered and committed, and none delivered
 * again after a successful commit of its offset (or a later one) in its partition. Duplicates of a message whose
 * commit had not happened yet are Kafka's at-least-once; they are allowed, and counted in the answer.
 */
function expectAtLeastOnceNeverBehindACommit(from: number, to: number): number {
  expect([...new Set(inRange(from, to).map(seqOf))].sort((a, b) => a - b)).toEqual(Array.from({ length: to - from }, (_, i) => from + i));
  expect(committedAll(from, to)).toBe(true);
  const behind = inRange(from, to).filter((d) => commits.some((c) => c.partition === d.partition && c.offset >= d.offset && c.at < d.at))
    .map((d) => `${d.value} (partition ${d.partition}, offset ${d.offset}) to ${d.member} at ${d.at}`);
  expect(behind).toEqual([]);
  expectIntact(from, to);
  return inRange(from, to).length - (to - from);
}

function expectIntact(from: number, to: number): void {
  const seen = inRange(from, to);
  for (const d of seen) {
    expect(d.key).toBe(`db-${seqOf(d) % 16}`);
    expect(d.headers).toEqual({ source: 'pgaudit-test', seq: String(seqOf(d)) });
  }
  const partitionOfKey = new Map<string, Set<number>>();
  for (const d of deliveries) partitionOfKey.set(d.key, (partitionOfKey.get(d.key) ?? new Set()).add(d.partition));
  for (const [key, partitions] of partitionOfKey) expect([key, [...partitions]]).toEqual([key, [expect.any(Number)]]);
}

/** The group's committed offsets on the broker, per partition. */
async function groupOffsets(): Promise<Map<number, number>> {
  const [topic] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return new Map(topic.partitions.map((p) => [p.partition, Number(p.offset)]));
}

/** The log-end offsets of the topic, per partition. */
async function endOffsets(): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(TOPIC)).map((p) => [p.partition, Number(p.high)]));
}

beforeAll(async () => {
  broker = await KafkaBroker.start({ name: 'kafka', baseDir: BASE_DIR });
  kafka = new Kafka({
    clientId: 'kafka-broker-test',
    brokers: [broker.bootstrap],
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }: LogEntry) => {
      clientLog.push(`${level === logLevel.ERROR ? 'ERROR' : level === logLevel.WARN ? 'WARN' : level} ${namespace}: ${log.message}${log.error ? ` (${log.error})` : ''}`);
    },
  });
  admin = kafka.admin();
  await admin.connect();
  expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
}, 90_000);

afterAll(async () => {
  stopping = true;
  memberA?.kill('SIGKILL');
  await Promise.allSettled([memberB?.disconnect(), producer?.disconnect(), admin?.disconnect()]);
  await broker?.stop();
  fs.rmSync(BASE_DIR, { recursive: true, force: true });
});

describe('a local Kafka broker (KRaft, from Maven Central jars) with kafkajs', () => {
  it(`runs Kafka ${KAFKA_VERSION} as one broker + controller, logging to its own file`, async () => {
    expect(broker.bootstrap).toBe(`127.0.0.1:${broker.port}`);
    const log = fs.readFileSync(path.join(broker.dir, 'server.log'), 'utf8');
    expect(log).toContain(`Kafka version: ${KAFKA_VERSION}`);
    expect(log).toMatch(/KafkaRaftServer nodeId=1\] Kafka Server started/);
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: broker.port }]);
    const [meta] = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics;
    expect(meta.partitions).toHaveLength(PARTITIONS);
  });

  it('a two-member group with manual commits gets every keyed message exactly once, headers intact', async () => {
    memberA = startMemberA();
    await startMemberB();
    await waitFor('both members to hold two partitions each',
      () => assignments.get('A')?.length === 2 && assignments.get('B')?.length === 2);
    expect([...assignments.get('A')!, ...assignments.get('B')!].sort()).toEqual([0, 1, 2, 3]);

    await produce(0, 40);
    await waitFor('messages 0-39 delivered and committed', () => distinctSeqs(0, 40) === 40 && committedAll(0, 40));
    await sleep(500); // a duplicate would arrive now
    expectExactlyOnce(0, 40);
    expect(new Set(inRange(0, 40).map((d) => d.partition))).toEqual(new Set([0, 1, 2, 3]));
    expect(inRange(0, 40).some((d) => d.member === 'A')).toBe(true);
    expect(inRange(0, 40).some((d) => d.member === 'B')).toBe(true);
    // Each member read only its own partitions, and the broker holds the commits (no auto-commit: ours).
    for (const d of inRange(0, 40)) expect(assignments.get(d.member)).toContain(d.partition);
    expect(await groupOffsets()).toEqual(await endOffsets());
  });

  it('when a member is killed, the other takes over its partitions right after its last commit', async () => {
    const partitionsOfA = [...assignments.get('A')!];
    const lastCommittedByA = new Map(partitionsOfA.map((p) =>
      [p, Math.max(-1, ...commits.filter((c) => c.member === 'A' && c.partition === p).map((c) => c.offset))]));
    memberA!.kill('SIGKILL');
    await produce(40, 80);
    await waitFor('member B to hold all four partitions', () => assignments.get('B')?.length === 4);
    await waitFor('messages 40-79 delivered and committed', () => distinctSeqs(40, 80) === 40 && committedAll(40, 80));
    await sleep(500);
    expectAtLeastOnceNeverBehindACommit(40, 80);
    expect(inRange(40, 80).every((d) => d.member === 'B')).toBe(true);
    for (const p of partitionsOfA) {
      const resumedAt = Math.min(...inRange(40, 80).filter((d) => d.partition === p).map((d) => d.offset));
      if (Number.isFinite(resumedAt)) expect([p, resumedAt]).toEqual([p, lastCommittedByA.get(p)! + 1]);
    }
    expect(partitionsOfA.some((p) => inRange(40, 80).some((d) => d.partition === p))).toBe(true);
    expect(await groupOffsets()).toEqual(await endOffsets());
  });

  it('after the broker restarts (same data dir and port), producing and consuming go on', async () => {
    const before = deliveries.length;
    await broker.restart();
    await produce(80, 120);   // the producer reconnects by itself (its retries span the restart)
    await waitFor('messages 80-119 delivered and committed after the restart', () => distinctSeqs(80, 120) === 40 && committedAll(80, 120));
    await sleep(500);
    const duplicates = expectAtLeastOnceNeverBehindACommit(80, 120);
    expect(deliveries.length - before).toBe(40 + duplicates);   // nothing from before the restart came again
    expect(await groupOffsets()).toEqual(await endOffsets());
    // Each offset once in the topic: a duplicate here would be the producer's (a retried send), not the consumer's.
    expect(new Set(inRange(80, 120).map((d) => `${d.partition}:${d.offset}`)).size).toBe(40);
  });
});
