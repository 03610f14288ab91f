/**
 * Ingest from Kafka (issue 14), measured in one run beside the baselines of the same run:
 *
 *   npm run build:tools && node dist/bench/kafka-ingest.js            200k events, 1/2/4 ingesters, lag at 50% and 90% for 60 s (6-10 min on 2 cores)
 *   node dist/bench/kafka-ingest.js --quick                          20k events, lag at 50% for 5 s (~80 s quiet, ~2 min loaded)
 *   node dist/bench/kafka-ingest.js --events 500k --members 1,2 --lag-seconds 30 --lag-rate 3000
 *
 * Services: the bench's PostgreSQL and OpenSearch (environment.ts) and a single-node KRaft Kafka
 * (dev/local/kafka-broker.ts), started here and stopped at the end.
 *
 * 1. The bench's csvlog generator writes N audit events (non-audit rows in between) as one file (ingest.ts,
 *    writeChunk). Baselines, as `npm run bench` measures them (ingest.ts, reused): the same documents pre-built and
 *    streamed through the client's bulk helper (measureBulkBaseline, after an untimed JVM warm-up; OpenSearch's CPU per
 *    document meanwhile), and `ingest --once` on that file for one service (runIngester; its own figure, spawn -> exit,
 *    and its CPU: the bench's exited children's CPU, /proc/self/stat).
 * 2. The same records, one csvlog record per message, keyed by service id and signed (kafka.record.ts,
 *    signLogRecord under the service's ingestKey), are produced to an 8-partition topic BEFORE any ingester runs.
 *    Records go to 16 services by session (a session's records stay on one service, in order); the 16 are picked
 *    from registered services so that kafkajs's default (Java murmur2) partitioner puts two on each partition, as
 *    10,000 services would spread about evenly.
 * 3. For 1, 2 and 4 members: the event indices are deleted, then that many built `ingest --kafka-*` processes
 *    (their peak RSS preloaded, bench/peak-rss.ts; their counters read from --metrics-port) join a fresh group that
 *    reads the whole topic; the time from their spawn to the last event indexed: the group's committed offsets
 *    (committed only after OpenSearch acknowledged a batch) polled every 250 ms until all are committed, then
 *    OpenSearch's `_count` after a refresh until it holds every event; the same from the first acknowledged batch
 *    (start-up and group join left out); their CPU (/proc), OpenSearch's and its bulk shard requests (node stats)
 *    and the broker's over the same span.
 * 4. Index bytes per event of what the last run indexed, merged to one segment; Kafka log bytes per record.
 * 5. Consumer lag under a steady producer: 2 members on a fresh topic, records produced at a fixed rate (a share
 *    of the 2-member steady rate of step 3, or --lag-rate) for T seconds; every second the group's lag = log-end
 *    offsets minus committed offsets (committed only after OpenSearch acknowledged the batch); p50, p95, max, its
 *    trend over the second half and the time to drain after the producer stops.
 * Prints Markdown tables (bench/kafka-report.ts); writes bench/results/kafka-<mode>-<time>.json. KAFKA_BENCH_KEEP=1 keeps
 * the broker's and the members' logs; BENCH_INGESTER_NODE_ARGS adds Node flags to the members (e.g. a CPU profile).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { Admin, AssignerProtocol, Kafka, logLevel, Message, Partitioners, Producer } from 'kafkajs';
import { freePort } from '../dev/local/free-port';
import { KafkaBroker } from '../dev/local/kafka-broker';
import { loadConfig, requireMasterKeys } from '../src/base/config';
import { projectRoot } from '../src/base/paths';
import { DEAD_LETTER_PATTERN, INDEX_PATTERN } from '../src/modules/audit-events/event.index';
import { SESSION_INDEX_PATTERN } from '../src/modules/audit-events/session.index';
import { CsvlogSplitter } from '../src/modules/ingest/formats/csvlog.splitter';
import { FORMAT_HEADER, ingestKey, SIGNATURE_HEADER, signLogRecord } from '../src/modules/ingest/kafka.record';
import { csvlogRows } from './csvlog-generator';
import { BenchEnvironment, CLI, cpuSecondsOf, machine, PEAK_RSS } from './environment';
import { Chunk, dropBulkBaseline, measureBulkBaseline, runIngester, settleMerges, writeChunk } from './ingest';
import { KafkaBenchOptions, KafkaResult, LagRun, MemberCounts, metricSums, parseKafkaOptions, report, rssTrend, slopeOf, SoakResult, SoakSample, soakReport, ThroughputRun } from './kafka-report';
import { percentiles } from './stats';

const MB = 2 ** 20;
const TOPIC = 'pga-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

/** The records of the chunk's file, each its raw bytes, and the service (index) it is sent for: by session. */
function recordsOf(chunk: Chunk, services: number): { value: Buffer; service: number; audit: boolean }[] {
  const bytes = readFileSync(chunk.file);
  const splitter = new CsvlogSplitter();
  const sessions = new Map<string, number>();
  const out: { value: Buffer; service: number; audit: boolean }[] = [];
  let from = 0;
  for (const item of [...splitter.push(bytes), ...splitter.end()]) {
    if (!item.ok) throw new Error(`generated record at ${from} is malformed: ${item.reason}`);
    const session = item.record.sessionId ?? '';
    let service = sessions.get(session);
    if (service === undefined) { service = sessions.size % services; sessions.set(session, service); }
    out.push({ value: bytes.subarray(from, item.endOffset), service, audit: item.record.message.startsWith('AUDIT: ') });
    from = item.endOffset;
  }
  return out;
}

/** Kafka log bytes of a topic on the broker's disk (segments only, not indexes). */
function topicLogBytes(broker: KafkaBroker, topic: string): number {
  const data = path.join(broker.dir, 'data');
  let bytes = 0;
  for (const d of readdirSync(data).filter((x) => x.startsWith(`${topic}-`) && /^\d+$/.test(x.slice(topic.length + 1)))) {
    for (const f of readdirSync(path.join(data, d)).filter((x) => x.endsWith('.log'))) bytes += statSync(path.join(data, d, f)).size;
  }
  return bytes;
}

/** CPU seconds (user + system) of this process's children that have exited and been waited for (/proc/self/stat cutime, cstime). */
/** A process's resident set now (VmRSS), in MB; null once it is gone. */
function rssMbOf(pid: number): number | null {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024; } catch { return null; }
}

function exitedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // fields[0] is field 3
  return (Number(fields[13]) + Number(fields[14])) / 100;   // fields 16 and 17, in USER_HZ (100)
}

interface Member { child: ChildProcess; rssFile: string; logFile: string; metricsPort: number; exited: Promise<void> }

class KafkaBench {
  private readonly client: Client;
  private readonly kafka: Kafka;
  private admin!: Admin;
  private producer!: Producer;
  private serviceIds: string[] = [];
  private signing!: { keys: ReturnType<typeof requireMasterKeys>; byService: Map<string, Buffer> };
  private loads: number[] = [];
  private loadTimer: NodeJS.Timeout | null = null;
  readonly started = Date.now();

  constructor(readonly o: KafkaBenchOptions, readonly env: BenchEnvironment, readonly broker: KafkaBroker, readonly dir: string) {
    this.client = new Client({ node: env.search.url });
    this.kafka = new Kafka({ clientId: 'pga-bench', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 } });
  }

  log(msg: string): void { process.stderr.write(`[kafka-bench ${((Date.now() - this.started) / 1000).toFixed(0)}s] ${msg}\n`); }

  async open(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await this.producer.connect();
    const keys = requireMasterKeys(loadConfig(this.env.gatewayEnv));
    this.signing = { keys, byService: new Map() };
    // the 1-minute load average every 5 s, whatever runs on the machine (ours included)
    this.loadTimer = setInterval(() => this.loads.push(os.loadavg()[0]!), 5000);
    this.loads.push(os.loadavg()[0]!);
  }

  async close(): Promise<void> {
    if (this.loadTimer) clearInterval(this.loadTimer);
    await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect(), this.client.close()]);
  }

  /** Load average (1 min) seen since `from` (index into the samples). */
  loadSince(from: number): { min: number; max: number } {
    const s = this.loads.slice(from);
    const all = s.length > 0 ? s : [os.loadavg()[0]!];
    return { min: Math.min(...all), max: Math.max(...all) };
  }
  get loadMark(): number { return this.loads.length; }

  /**
   * Registers services until each partition has `services / partitions` of them under kafkajs's default
   * partitioner (murmur2 of the key, as Java's), and keeps those: every partition gets the same share of work.
   */
  async registerServices(): Promise<void> {
    const per = Math.ceil(this.o.services / this.o.partitions);
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: this.o.partitions }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 1, replicas: [1], isr: [1] }));
    const byPartition = new Map<number, string[]>();
    for (let i = 0; this.serviceIds.length < this.o.services; i++) {
      if (i >= 50 * this.o.services) throw new Error('could not spread the services over the partitions');
      const { id } = await this.env.admin.tenancy.registerService(this.env.tenant.projectId, `kafka-bench-${i}`, 'postgres://avnadmin@127.0.0.1:1/postgres');
      const p = partitioner({ topic: TOPIC, partitionMetadata, message: { key: id, value: null } });
      const list = byPartition.get(p) ?? [];
      if (list.length >= per) continue;
      list.push(id);
      byPartition.set(p, list);
      this.serviceIds.push(id);
    }
    for (const id of this.serviceIds) this.signing.byService.set(id, ingestKey(this.signing.keys, this.signing.keys.current, id)!);
  }

  /** One signed message of service `s` carrying one csvlog record. */
  message(s: number, value: Buffer): Message {
    const id = this.serviceIds[s]!;
    const version = this.signing.keys.current;
    return { key: id, value, headers: { [FORMAT_HEADER]: 'csvlog', [SIGNATURE_HEADER]: signLogRecord(this.signing.byService.get(id)!, version, value) } };
  }

  async createTopic(topic: string): Promise<void> {
    await this.admin.createTopics({ topics: [{ topic, numPartitions: this.o.partitions, replicationFactor: 1 }], waitForLeaders: true });
  }

  /** Produces the messages in sends of 2,000 (kafkajs groups each send by partition); messages/s. */
  async produceAll(topic: string, messages: Message[]): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < messages.length; i += 2000) await this.producer.send({ topic, messages: messages.slice(i, i + 2000) });
    return messages.length / ((performance.now() - t0) / 1000);
  }

  /** The log-end offset of each partition. */
  async endOffsets(topic: string): Promise<number[]> {
    return (await this.admin.fetchTopicOffsets(topic)).map((e) => Number(e.high));
  }

  /** Deletes every event, session and dead-letter index: the next run writes into empty indices, as the baselines did. */
  async emptyIndices(): Promise<void> {
    for (const index of [INDEX_PATTERN, SESSION_INDEX_PATTERN, DEAD_LETTER_PATTERN]) {
      await this.client.indices.delete({ index, allow_no_indices: true, ignore_unavailable: true } as never);
    }
    await settleMerges(this.env);
  }

  async count(index: string): Promise<number> {
    await this.client.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true } as never);
    const { body } = await this.client.count({ index, allow_no_indices: true, ignore_unavailable: true } as never);
    return (body as { count: number }).count;
  }

  /** OpenSearch's CPU seconds so far and its bulk shard requests (write pool tasks done): per run, their differences. */
  async opensearchStats(): Promise<{ cpu: number; bulkShardRequests: number; indexed: number }> {
    const { body } = await this.client.nodes.stats({ metric: 'process,thread_pool,indices', index_metric: 'indexing' } as never);
    type Node = { process: { cpu: { total_in_millis: number } }; thread_pool: Record<string, { completed: number }>; indices: { indexing: { index_total: number } } };
    const nodes = Object.values((body as { nodes: Record<string, Node> }).nodes);
    return { cpu: nodes.reduce((s, n) => s + n.process.cpu.total_in_millis, 0) / 1000,
      bulkShardRequests: nodes.reduce((s, n) => s + (n.thread_pool.write?.completed ?? 0), 0),
      indexed: nodes.reduce((s, n) => s + n.indices.indexing.index_total, 0) };
  }

  brokerCpuSeconds(): number { return this.broker.pid ? cpuSecondsOf(this.broker.pid) : Number.NaN; }

  /** Primary store bytes per document of an index pattern, merged to one segment per shard. */
  async bytesPerDoc(index: string): Promise<{ bytes: number; docs: number }> {
    await this.client.indices.forcemerge({ index, max_num_segments: 1 } as never);
    await this.client.indices.refresh({ index } as never);
    const { body } = await this.client.indices.stats({ index, metric: 'store,docs' } as never);
    const all = (body as { _all: { primaries: { store: { size_in_bytes: number }; docs: { count: number } } } })._all.primaries;
    return { bytes: all.store.size_in_bytes / all.docs.count, docs: all.docs.count };
  }

  /** One built `ingest --kafka-*` process of `group`. */
  startMember(topic: string, group: string, name: string, metricsPort: number): Member {
    const rssFile = path.join(this.dir, `${name}.peak-rss`);
    const logFile = path.join(this.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    // BENCH_INGESTER_NODE_ARGS: extra Node flags for the members only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them
    const extra = (process.env.BENCH_INGESTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...extra, '--require', PEAK_RSS, CLI, 'ingest', '--kafka-brokers', this.broker.bootstrap, '--kafka-topic', topic, '--kafka-group', group,
      '--metrics-port', String(metricsPort)],
      { env: { ...process.env, ...this.env.gatewayEnv, PEAK_RSS_FILE: rssFile, LOG_LEVEL: 'info' }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { child, rssFile, logFile, metricsPort, exited };
  }

  /** The members' counters (their --metrics-port), summed. */
  async counts(members: Member[]): Promise<MemberCounts> {
    const texts = await Promise.all(members.map((m) => fetch(`http://127.0.0.1:${m.metricsPort}/metrics`).then((r) => r.text())));
    const total = (name: string) => texts.reduce((s, t) => s + (metricSums(t).get(`pgaudit_gateway_${name}`) ?? 0), 0);
    const commits = total('ingest_kafka_commits_total');
    const refused = total('ingest_kafka_commits_total:refused');
    return { events: total('ingest_events_total'), duplicates: total('ingest_duplicates_total'), bulkRetries: total('ingest_bulk_retries_total'),
      commitsOk: commits, commitsRefused: refused, consumerRestarts: total('ingest_kafka_consumer_restarts_total') };
  }

  /** SIGTERM (the member commits what was acknowledged and leaves the group), SIGKILL after 30 s; its peak RSS. */
  async stopMember(m: Member): Promise<number | null> {
    if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
    const timedOut = await Promise.race([m.exited.then(() => false), sleep(30_000).then(() => true)]);
    if (timedOut) { m.child.kill('SIGKILL'); await m.exited; return null; }
    try { return Number(readFileSync(m.rssFile, 'utf8')); } catch { return null; }
  }

  private assertAlive(members: Member[]): void {
    const dead = members.find((m) => m.child.exitCode !== null || m.child.signalCode !== null);
    if (dead) {
      let tail = '';
      try { tail = readFileSync(dead.logFile, 'utf8').split('\n').slice(-20).join('\n'); } catch { /* none */ }
      throw new Error(`an ingester exited (${dead.child.exitCode ?? dead.child.signalCode}) during the run:\n${tail}`);
    }
  }

  /** Step 3: `n` members read the whole topic in a fresh group; from their spawn to the last event indexed. */
  async throughput(n: number, expected: number, messages: number): Promise<ThroughputRun> {
    await this.emptyIndices();
    const group = `pga-bench-${n}-${Date.now()}`;
    const load = this.loadMark;
    const cpu0 = { search: await this.opensearchStats(), broker: this.brokerCpuSeconds() };
    const t0 = performance.now();
    const ports = await freePorts(n);
    const members = ports.map((port, i) => this.startMember(TOPIC, group, `throughput-${n}-${i}`, port));
    // Progress from the group's committed offsets (a member commits only what OpenSearch acknowledged), every 250 ms,
    // without refreshing OpenSearch meanwhile (that would cut segments 4x as often as its 1 s refresh interval);
    // once all is committed, the events are counted after a refresh: the run ends when `_count` says all are there.
    let first: { t: number; done: number; cpu: number } | null = null;
    let end = 0;
    let memberCpu = 0;
    const cpuOfMembers = () => members.reduce((s, m) => s + cpuSecondsOf(m.child.pid!), 0);
    const deadline = t0 + Math.max(180_000, expected * 5);   // 5 ms an event: a stuck run, not a slow one
    try {
      for (;;) {
        this.assertAlive(members);
        const done = messages - await this.lagOf(group, TOPIC);
        const t = performance.now();
        if (done > 0 && !first && done < messages) first = { t, done, cpu: cpuOfMembers() };
        if (done >= messages && (await this.count(INDEX_PATTERN)) >= expected) {
          end = performance.now();
          memberCpu = cpuOfMembers();
          break;
        }
        if (t > deadline) throw new Error(`${n} members: ${done} of ${messages} records acknowledged after ${((t - t0) / 1000).toFixed(0)} s`);
        await sleep(250);
      }
    } catch (err) {
      await Promise.all(members.map((m) => this.stopMember(m)));
      throw err;
    }
    const cpu1 = { search: await this.opensearchStats(), broker: this.brokerCpuSeconds() };
    await sleep(500);   // nothing more may arrive: no event twice, and every record was an event or a session event
    const [after, deadLetters] = [await this.count(INDEX_PATTERN), await this.count(DEAD_LETTER_PATTERN)];
    if (after !== expected || deadLetters !== 0) throw new Error(`${n} members: ${after} events of ${expected}, ${deadLetters} dead letters`);
    const counts = await this.counts(members);
    const rss = await Promise.all(members.map((m) => this.stopMember(m)));
    const seconds = (end - t0) / 1000;
    if (!first) throw new Error(`${n} members: all ${messages} records were acknowledged between two polls; too few events to time (--events)`);
    const rest = expected * (1 - first.done / messages);   // the events of the records acknowledged after the first poll that saw any
    return { members: n, events: expected, messages, seconds, rate: expected / seconds,
      firstSeconds: (first.t - t0) / 1000, steadyRate: rest / ((end - first.t) / 1000),
      ingesterCpuSeconds: memberCpu, steadyEventsPerCpuSecond: rest / (memberCpu - first.cpu), opensearchCpuSeconds: cpu1.search.cpu - cpu0.search.cpu,
      bulkShardRequests: cpu1.search.bulkShardRequests - cpu0.search.bulkShardRequests, brokerCpuSeconds: cpu1.broker - cpu0.broker,
      peakRssMb: rss.map((r) => (r === null ? null : r / MB)), load: this.loadSince(load), counts };
  }

  /** Waits until `group` is stable with `n` members that all hold partitions of `topic`. */
  async waitForGroup(group: string, topic: string, n: number, members: Member[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      this.assertAlive(members);
      const [g] = (await retried(() => this.admin.describeGroups([group]))).groups;
      const assigned = (g?.members ?? []).filter((m) => (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic]?.length ?? 0) > 0);
      if (g?.state === 'Stable' && assigned.length === n) return;
      if (Date.now() > deadline) throw new Error(`group ${group}: not stable with ${n} members after 60 s (${g?.state}, ${assigned.length})`);
      await sleep(250);
    }
  }

  /** The group's lag on `topic`: log-end offsets minus committed offsets (nothing committed yet: from the log start). */
  async lagOf(group: string, topic: string): Promise<number> {
    const [ends, committed] = await retried(() => Promise.all([this.admin.fetchTopicOffsets(topic), this.admin.fetchOffsets({ groupId: group, topics: [topic] })]));
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends.reduce((s, e) => { const c = at.get(e.partition) ?? -1; return s + Number(e.high) - (c >= 0 ? c : Number(e.low)); }, 0);
  }

  /** Sends `next()` records to `topic` at `recordsPerS` from `t0` for `seconds`, in sends every 20 ms; `sent(n)` after each. */
  private async produceSteadily(topic: string, recordsPerS: number, seconds: number, t0: number, next: () => Message, sent: (n: number) => void): Promise<void> {
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const due = Math.floor((recordsPerS * (performance.now() - t0)) / 1000);
      if (due > n) {
        const batch = Array.from({ length: due - n }, next);
        await this.producer.send({ topic, messages: batch });
        n += batch.length;
        sent(n);
      }
      await sleep(20);
    }
  }

  /**
   * Step 5: two members on a fresh topic; records produced at `eventsPerS` audit events/s (records at that times the
   * generator's records per event) for `seconds`; the lag sampled every second, then until it drains.
   */
  async lag(eventsPerS: number, share: number | null, seconds: number, recordsPerEvent: number, round: number): Promise<LagRun> {
    await this.emptyIndices();
    const topic = `${TOPIC}-lag-${round}`;
    await this.createTopic(topic);
    const group = `pga-bench-lag-${round}-${Date.now()}`;
    const ports = await freePorts(2);
    const members = ports.map((port, i) => this.startMember(topic, group, `lag-${round}-${i}`, port));
    const load = this.loadMark;
    try {
      await this.waitForGroup(group, topic, 2, members);
      // live records: dated from an hour ago, 1 ms apart (never ahead of the clock at these rates and lengths)
      const rows = csvlogRows(Number.MAX_SAFE_INTEGER, { seed: 4242 + round, start: Date.now() - 3_600_000, stepMs: 1, firstSession: 1_000_000 * (round + 1) });
      let service = -1;
      let auditSent = 0;
      const next = (): Message => {
        const row = rows.next().value as string;
        if (row.includes(',"connection authorized: user=')) service = (service + 1) % this.o.services;   // a new session: the next service
        if (row.includes(',"AUDIT: ')) auditSent += 1;
        return this.message(Math.max(service, 0), Buffer.from(row));
      };
      const recordsPerS = eventsPerS * recordsPerEvent;
      const samples: { t: number; lag: number }[] = [];
      let sent = 0;
      let producing = true;
      const cpuOfMembers = () => members.reduce((s, m) => s + cpuSecondsOf(m.child.pid!), 0);
      const before = { search: await this.opensearchStats(), members: cpuOfMembers() };
      const t0 = performance.now();
      const sampler = (async () => {
        for (let k = 1; ; k++) {
          await sleep(Math.max(0, t0 + k * 1000 - performance.now()));
          const lag = await this.lagOf(group, topic);
          const t = (performance.now() - t0) / 1000;
          samples.push({ t, lag });
          if (!producing && lag === 0) return;
          if (!producing && t > seconds + 120) throw new Error(`lag run at ${eventsPerS} events/s: ${lag} records still unconsumed 120 s after the producer stopped`);
          this.assertAlive(members);
        }
      })();
      sampler.catch(() => undefined);
      await this.produceSteadily(topic, recordsPerS, seconds, t0, next, (n) => { sent = n; });
      producing = false;
      const producedSeconds = (performance.now() - t0) / 1000;
      await sampler;
      const after = { search: await this.opensearchStats(), members: cpuOfMembers() };
      const during = samples.filter((s) => s.t <= seconds);
      const drained = samples.at(-1)!.t - seconds;
      const half = during.filter((s) => s.t > seconds / 2);
      const indexed = await this.count(INDEX_PATTERN);
      if (indexed !== auditSent) throw new Error(`lag run: ${indexed} events indexed of ${auditSent} produced`);
      const p = percentiles(during.map((s) => s.lag));
      const slope = slopeOf(half);
      const counts = await this.counts(members);
      const rss = await Promise.all(members.map((m) => this.stopMember(m)));
      return { eventsPerS, share, recordsPerS, seconds, producedRecordsPerS: sent / producedSeconds, records: sent, events: auditSent,
        p50: p.p50, p95: p.p95, max: Math.max(...during.map((s) => s.lag)), slope, drainedSeconds: drained,
        // bounded: over the second half the lag grows by at most 2% of the production rate, and it drains within 10 s;
        // not judged under 30 s (a trend over a few samples is noise)
        bounded: seconds < 30 ? null : slope <= 0.02 * recordsPerS && drained <= 10, counts,
        ingesterCpuSeconds: after.members - before.members, opensearchCpuSeconds: after.search.cpu - before.search.cpu,
        bulkShardRequests: after.search.bulkShardRequests - before.search.bulkShardRequests,
        samples: samples.map((s) => [Number(s.t.toFixed(1)), s.lag]), peakRssMb: rss.map((r) => (r === null ? null : r / MB)), load: this.loadSince(load) };
    } catch (err) {
      await Promise.all(members.map((m) => this.stopMember(m)));
      throw err;
    }
  }

  /**
   * The soak: 2 members on a fresh topic under a steady producer for `soakMinutes`; every `churnMinutes` the second
   * member is killed -9 and a new one takes its place (the first lives throughout: its RSS is the leak check). Every
   * 10 s: the group's lag and the members' RSS. Then the producer stops, the lag drains, and every audit event produced
   * must be indexed, none as a dead letter.
   */
  async soak(): Promise<SoakResult> {
    const { soakMinutes, soakRate, churnMinutes } = this.o;
    const seconds = soakMinutes * 60;
    await this.emptyIndices();
    const topic = `${TOPIC}-soak`;
    await this.createTopic(topic);
    const group = `pga-bench-soak-${Date.now()}`;
    const ports = await freePorts(2);
    const members = ports.map((port, i) => this.startMember(topic, group, `soak-${i}`, port));
    const load = this.loadMark;
    let generation = 0;
    try {
      await this.waitForGroup(group, topic, 2, members);
      // event times 1 ms apart, starting far enough back that they never pass the clock (the event window refuses the future)
      const recordsPerS = soakRate * 1.12;
      const rows = csvlogRows(Number.MAX_SAFE_INTEGER, { seed: 777, start: Date.now() - Math.ceil(recordsPerS * seconds * 1.2) - 60_000, stepMs: 1, firstSession: 50_000_000 });
      let service = -1;
      let events = 0;
      const next = (): Message => {
        const row = rows.next().value as string;
        if (row.includes(',"connection authorized: user=')) service = (service + 1) % this.o.services;
        if (row.includes(',"AUDIT: ')) events += 1;
        return this.message(Math.max(service, 0), Buffer.from(row));
      };
      const samples: SoakSample[] = [];
      const kills: number[] = [];
      let sent = 0;
      let producing = true;
      let cpuOfGone = 0;
      const cpuOfMembers = () => cpuOfGone + members.reduce((sum, m) => sum + (m.child.exitCode === null && m.child.signalCode === null ? cpuSecondsOf(m.child.pid!) : 0), 0);
      const t0 = performance.now();
      const sampler = (async () => {
        for (let k = 1; ; k++) {
          await sleep(Math.max(0, t0 + k * 10_000 - performance.now()));
          const t = (performance.now() - t0) / 1000;
          const lag = await this.lagOf(group, topic);
          samples.push({ t, lag, rssMb: members.map((m) => rssMbOf(m.child.pid!)), producedRecords: sent });
          if (!producing && lag === 0) return;
          if (!producing && t > seconds + 300) throw new Error(`soak: ${lag} records still unconsumed 300 s after the producer stopped`);
          this.assertAlive(members);
          if (producing && churnMinutes > 0 && t >= (kills.length + 1) * churnMinutes * 60 && t < seconds - 60) {
            // the second member dies without a word; its partitions go to the first until the new one joins
            const victim = members[1]!;
            cpuOfGone += cpuSecondsOf(victim.child.pid!);
            victim.child.kill('SIGKILL');
            await victim.exited;
            generation += 1;
            members[1] = this.startMember(topic, group, `soak-1-${generation}`, (await freePorts(1))[0]!);
            kills.push(t);
            this.log(`  soak ${t.toFixed(0)} s: member 2 killed -9 and replaced; lag ${fmt(lag)} records; RSS of member 1 ${samples.at(-1)!.rssMb[0]?.toFixed(0)} MB`);
          } else if (k % 30 === 0) {
            this.log(`  soak ${t.toFixed(0)} s: lag ${fmt(lag)} records; RSS ${samples.at(-1)!.rssMb.map((x) => x?.toFixed(0)).join(' / ')} MB`);
          }
        }
      })();
      sampler.catch(() => undefined);
      const cpu0 = cpuOfMembers();
      await this.produceSteadily(topic, recordsPerS, seconds, t0, next, (n) => { sent = n; });
      const producedSeconds = (performance.now() - t0) / 1000;
      producing = false;
      await sampler;
      const drained = samples.at(-1)!.t - producedSeconds;
      const cpu = cpuOfMembers() - cpu0;
      const indexed = await this.count(INDEX_PATTERN);
      const deadLetters = await this.count(DEAD_LETTER_PATTERN);
      const counts = await this.counts(members);
      await Promise.all(members.map((m) => this.stopMember(m)));
      const during = samples.filter((x) => x.t <= producedSeconds);
      const p = percentiles(during.map((x) => x.lag));
      const rss = rssTrend(samples);
      return { date: new Date().toISOString(), machine: machine(), options: this.o, seconds: (Date.now() - this.started) / 1000,
        records: sent, events, indexed, deadLetters, kills, rssFirstMb: rss.first, rssLastMb: rss.last, rssSlopeMbPerHour: rss.slopePerHour, rssMaxMb: rss.max,
        lag: { p50: p.p50, p95: p.p95, max: Math.max(0, ...during.map((x) => x.lag)), drainedSeconds: drained },
        recordsPerS: sent / producedSeconds, counts, ingesterCpuSeconds: cpu, load: this.loadSince(load), samples };
    } catch (err) {
      await Promise.all(members.map((m) => this.stopMember(m)));
      throw err;
    }
  }
}

/** `fn` again after an error Kafka calls retriable (e.g. GROUP_LOAD_IN_PROGRESS while a new group's coordinator loads), for up to 30 s. */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (const deadline = Date.now() + 30_000; ;) {
    try { return await fn(); } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await freePort(ports));
  return ports;
}

/** bench/results/<name>-<time>.json */
function writeResult(name: string, result: object): void {
  const out = path.join(projectRoot(), 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const fileName = path.join(out, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(fileName, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${path.relative(projectRoot(), fileName)}\n`);
}

export async function runKafkaBench(o: KafkaBenchOptions): Promise<void> {
  const started = Date.now();
  const dir = path.join(projectRoot(), '.local', 'bench-kafka', String(process.pid));
  mkdirSync(dir, { recursive: true });
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-kafka-log-'));
  const stderr = (msg: string) => process.stderr.write(`[kafka-bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  stderr(`starting PostgreSQL, OpenSearch (${o.opensearchHeapMb} MB heap) and Kafka; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const [envResult, brokerResult] = await Promise.allSettled([BenchEnvironment.start({ opensearchHeapMb: o.opensearchHeapMb }), KafkaBroker.start({ name: 'kafka', baseDir: dir,
    settings: { 'group.initial.rebalance.delay.ms': o.rebalanceDelayMs } })]);
  if (envResult.status === 'rejected' || brokerResult.status === 'rejected') {
    if (envResult.status === 'fulfilled') await envResult.value.stop();
    if (brokerResult.status === 'fulfilled') await brokerResult.value.stop();
    throw envResult.status === 'rejected' ? envResult.reason : (brokerResult as PromiseRejectedResult).reason;
  }
  const env = envResult.value;
  const broker = brokerResult.value;
  const b = new KafkaBench(o, env, broker, dir);
  const result: Record<string, unknown> = {};
  try {
    await b.open();
    await b.registerServices();
    if (o.soakMinutes > 0) {
      b.log(`soak: 2 members, ${fmt(o.soakRate)} audit events/s for ${o.soakMinutes} min, the second killed -9 every ${o.churnMinutes} min`);
      const soak = await b.soak();
      console.log(soakReport(soak));
      writeResult(`kafka-soak`, soak);
      return;
    }
    b.log(`services up (${((Date.now() - started) / 1000).toFixed(0)} s); generating ${o.events} events`);
    const chunk = await writeChunk(logDir, 0, o.events, o.stepMs, null);

    // 1. baselines, as `npm run bench` measures them
    b.log(`bulk-helper baseline: ${chunk.auditLines} pre-built documents, after ${o.indexWarmupSeconds} s of untimed indexing`);
    let load = b.loadMark;
    const search0 = await b.opensearchStats();
    const baseline = await measureBulkBaseline(env, chunk, o.indexWarmupSeconds);
    const search1 = await b.opensearchStats();
    await dropBulkBaseline(env);
    const baselineLoad = b.loadSince(load);
    // OpenSearch's CPU per document it indexed meanwhile (the untimed warm-up's included): its cost without any ingester
    const baselineCpuMsPer1k = ((search1.cpu - search0.cpu) * 1e6) / (search1.indexed - search0.indexed);
    b.log(`ingest --once: ${chunk.auditLines} events, one service`);
    await settleMerges(env);
    load = b.loadMark;
    const t0 = performance.now();
    const children0 = exitedChildrenCpuSeconds();
    const file = await runIngester(env, logDir);
    const fileWall = (performance.now() - t0) / 1000;
    const fileCpu = exitedChildrenCpuSeconds() - children0;   // the ingest process, the only child to exit meanwhile
    if (file.events !== chunk.auditLines || file.malformed !== 0) throw new Error(`ingest --once: ${file.events} events (${file.malformed} malformed) of ${chunk.auditLines}`);
    const fileLoad = b.loadSince(load);

    // 2. the same records as signed messages, produced before any ingester runs
    const records = recordsOf(chunk, o.services);
    const auditRecords = records.filter((r) => r.audit).length;
    if (auditRecords !== chunk.auditLines) throw new Error(`split ${auditRecords} audit records of ${chunk.auditLines}`);
    await b.createTopic(TOPIC);
    const messages = records.map((r) => b.message(r.service, r.value));
    b.log(`producing ${messages.length} records (${chunk.auditLines} audit events) for ${o.services} services to ${o.partitions} partitions`);
    const produceRate = await b.produceAll(TOPIC, messages);
    const perPartition = (await b.endOffsets(TOPIC)).sort((x, y) => x - y);
    const valueBytes = records.reduce((s, r) => s + r.value.length, 0);
    const messageBytes = messages.reduce((s, m) => s + (m.value as Buffer).length + String(m.key).length
      + Object.entries(m.headers!).reduce((h, [k, v]) => h + k.length + String(v).length, 0), 0);
    await sleep(1000);   // the broker flushes its segments lazily; sizes are read from the files
    const logBytes = topicLogBytes(broker, TOPIC);

    // 3. 1, 2, 4 ingesters
    const runs: ThroughputRun[] = [];
    for (const n of o.members) {
      b.log(`${n} ingester(s): ${messages.length} records from the start of the topic, fresh group, empty indices`);
      runs.push(await b.throughput(n, chunk.auditLines, messages.length));
      const r = runs.at(-1)!;
      b.log(`  ${fmt(r.rate)} events/s (${r.seconds.toFixed(1)} s; first batch acknowledged after ${r.firstSeconds.toFixed(1)} s; then ${fmt(r.steadyRate)} events/s)`);
    }
    // 4. what the last run indexed, on disk
    b.log('index bytes per event: the last run\'s indices merged to one segment');
    const index = await b.bytesPerDoc(INDEX_PATTERN);
    const sessionIndex = await b.bytesPerDoc(SESSION_INDEX_PATTERN);

    // 5. lag under a steady producer
    const lagRuns: LagRun[] = [];
    const two = runs.find((r) => r.members === 2) ?? runs[0]!;
    const recordsPerEvent = records.length / chunk.auditLines;
    const rates = o.lagSeconds === 0 ? [] : o.lagRate !== null ? [{ rate: o.lagRate, share: null }]
      : o.lagShares.map((share) => ({ rate: Math.round((two.steadyRate * share) / 100) * 100, share }));
    for (const [i, { rate, share }] of rates.entries()) {
      b.log(`lag: 2 ingesters, ${fmt(rate)} events/s (${fmt(rate * recordsPerEvent)} records/s) for ${o.lagSeconds} s`);
      lagRuns.push(await b.lag(rate, share, o.lagSeconds, recordsPerEvent, i));
      const l = lagRuns.at(-1)!;
      b.log(`  lag p50 ${l.p50}, max ${l.max} records; trend ${l.slope.toFixed(1)} records/s; drained ${l.drainedSeconds.toFixed(1)} s after the producer stopped`);
    }

    const seconds = (Date.now() - started) / 1000;
    const m = machine();
    Object.assign(result, { date: new Date().toISOString(), machine: m, options: o, seconds,
      generated: { auditEvents: chunk.auditLines, records: records.length, lines: chunk.lines, csvlogBytes: chunk.bytes },
      baseline: { rate: baseline.rate, docs: baseline.docs, load: baselineLoad, opensearchCpuMsPer1k: baselineCpuMsPer1k },
      file: { ...file, wallSeconds: fileWall, rate: file.events / file.seconds, wallRate: file.events / fileWall, cpuSeconds: fileCpu, load: fileLoad },
      kafka: { produceRecordsPerS: produceRate, recordsPerPartition: perPartition, valueBytes, messageBytes, logBytes, runs },
      index: { eventBytes: index.bytes, eventDocs: index.docs, sessionBytes: sessionIndex.bytes, sessionDocs: sessionIndex.docs },
      lag: lagRuns });
    console.log(report(result as unknown as KafkaResult));
    writeResult(`kafka-${o.mode}`, result);
  } finally {
    await b.close();
    await Promise.allSettled([broker.stop(), env.stop()]);
    rmSync(logDir, { recursive: true, force: true });
    if (process.env.KAFKA_BENCH_KEEP) b.log(`kept the broker's and the members' logs in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  let options: KafkaBenchOptions;
  try { options = parseKafkaOptions(process.argv.slice(2)); }
  catch (err) { process.stderr.write(`kafka-ingest bench: ${(err as Error).message}\n`); process.exit(2); }
  runKafkaBench(options).then(() => process.exit(0), (err: Error) => { console.error(err); process.exit(1); });
}
