/**
 * The Kafka ingest bench's pure parts (bench/kafka-ingest.ts runs it): options, what is read from the members'
 * metrics, the lag's trend, the result's shape and its Markdown tables. Pure.
 */
import { parseCount } from './stats';

export interface KafkaBenchOptions {
  mode: 'full' | 'quick';
  /** Audit events produced before the ingesters start (each throughput run reads all of them). */
  events: number;
  /** Group sizes measured, one run each. */
  members: number[];
  services: number;
  partitions: number;
  /** Producer rates of the lag runs, as shares of the 2-member steady rate... */
  lagShares: number[];
  /** ...or one fixed rate in audit events/s. */
  lagRate: number | null;
  lagSeconds: number;
  indexWarmupSeconds: number;
  opensearchHeapMb: number;
  /** Time between two generated rows, as in `npm run bench`. */
  stepMs: number;
  /**
   * The broker's group.initial.rebalance.delay.ms: how long a new group's first rebalance waits for more members.
   * Kafka's default, 3000, here too (the tests' broker uses 0; --quick 1500): members started together then share the
   * first generation instead of joining one by one while the first already reads (see bench/README.md, Kafka ingest).
   */
  rebalanceDelayMs: number;
  /**
   * The soak instead of steps 1-5 (`--soak-minutes N`, 0: none): 2 members under a steady producer of `soakRate`
   * events/s for N minutes, the second member killed -9 and replaced every `churnMinutes`.
   */
  soakMinutes: number;
  soakRate: number;
  churnMinutes: number;
}

export function parseKafkaOptions(argv: readonly string[]): KafkaBenchOptions {
  const quick = argv.includes('--quick');
  const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const events = parseCount('events', value('events') ?? (quick ? '20k' : '200k'));
  if (events < 1000) throw new Error('--events takes at least 1000');
  const members = (value('members') ?? '1,2,4').split(',').map(Number);
  if (members.some((m) => !Number.isInteger(m) || m < 1 || m > 16)) throw new Error('--members takes group sizes from 1 to 16, e.g. 1,2,4');
  const lagRate = value('lag-rate') === undefined ? null : parseCount('lag-rate', value('lag-rate')!);
  const lagSeconds = Number(value('lag-seconds') ?? (quick ? 5 : 60));
  if (!Number.isInteger(lagSeconds) || lagSeconds < 0) throw new Error('--lag-seconds takes whole seconds (0: no lag run)');
  // quick: half Kafka's default (each group forms in ~3 s instead of ~6: the delay runs twice when members join during it)
  const rebalanceDelayMs = Number(value('rebalance-delay-ms') ?? (quick ? 1500 : 3000));
  if (!Number.isInteger(rebalanceDelayMs) || rebalanceDelayMs < 0) throw new Error('--rebalance-delay-ms takes whole milliseconds');
  const soakMinutes = Number(value('soak-minutes') ?? 0);
  if (!(soakMinutes >= 0 && soakMinutes <= 24 * 60)) throw new Error('--soak-minutes takes minutes from 0 to 1440');
  const soakRate = parseCount('soak-rate', value('soak-rate') ?? '2000');
  if (soakRate < 1) throw new Error('--soak-rate takes audit events/s, at least 1');
  const churnMinutes = Number(value('churn-minutes') ?? Math.min(10, soakMinutes / 3));
  if (!(churnMinutes >= 0)) throw new Error('--churn-minutes takes minutes (0: no member killed)');
  return { mode: quick ? 'quick' : 'full', events, members, services: 16, partitions: 8,
    lagShares: quick ? [0.5] : [0.5, 0.9], lagRate, lagSeconds,
    indexWarmupSeconds: quick ? 2 : 30, opensearchHeapMb: quick ? 512 : 2048, stepMs: 250, rebalanceDelayMs, soakMinutes, soakRate, churnMinutes };
}

const MB = 2 ** 20;
const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;

/** What the members' own metrics say at the end of a run (summed over members). */
export interface MemberCounts { events: number; duplicates: number; bulkRetries: number; commitsOk: number; commitsRefused: number; consumerRestarts: number }

/** Sums each metric (every label) of a Prometheus text exposition. */
export function metricSums(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const key = m[2]?.includes('outcome="refused"') ? `${m[1]}:refused` : m[1]!;   // the Kafka commits: committed / refused
    sums.set(key, (sums.get(key) ?? 0) + Number(m[3]));
  }
  return sums;
}

/** Least-squares slope of lag over time (records/s); 0 for fewer than two samples. */
export function slopeOf(samples: readonly { t: number; lag: number }[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const ml = samples.reduce((s, x) => s + x.lag, 0) / n;
  const num = samples.reduce((s, x) => s + (x.t - mt) * (x.lag - ml), 0);
  const den = samples.reduce((s, x) => s + (x.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export interface ThroughputRun {
  members: number; events: number; messages: number; seconds: number; rate: number; firstSeconds: number; steadyRate: number;
  ingesterCpuSeconds: number; steadyEventsPerCpuSecond: number; opensearchCpuSeconds: number; bulkShardRequests: number; brokerCpuSeconds: number; peakRssMb: (number | null)[]; load: { min: number; max: number }; counts: MemberCounts;
}

export interface LagRun {
  eventsPerS: number; share: number | null; recordsPerS: number; seconds: number; producedRecordsPerS: number; records: number; events: number;
  p50: number; p95: number; max: number; slope: number; drainedSeconds: number; bounded: boolean | null; samples: [number, number][];
  peakRssMb: (number | null)[]; load: { min: number; max: number }; counts: MemberCounts;
  ingesterCpuSeconds: number; opensearchCpuSeconds: number; bulkShardRequests: number;
}

export interface Machine { cores: number; cpu: string; memoryGiB: number; node: string; os: string }

export interface KafkaResult {
  date: string; machine: Machine; options: KafkaBenchOptions; seconds: number;
  generated: { auditEvents: number; records: number; lines: number; csvlogBytes: number };
  baseline: { rate: number; docs: number; load: { min: number; max: number }; opensearchCpuMsPer1k: number };
  file: { events: number; seconds: number; wallSeconds: number; rate: number; wallRate: number; cpuSeconds: number; peakRssBytes: number; load: { min: number; max: number } };
  kafka: { produceRecordsPerS: number; recordsPerPartition: number[]; valueBytes: number; messageBytes: number; logBytes: number; runs: ThroughputRun[] };
  index: { eventBytes: number; eventDocs: number; sessionBytes: number; sessionDocs: number };
  lag: LagRun[];
}

const countsText = (c: MemberCounts) => `${fmt(c.duplicates)} / ${fmt(c.commitsRefused)} / ${fmt(c.consumerRestarts)}`;
const loadText = (l: { min: number; max: number }) => `${l.min.toFixed(1)}-${l.max.toFixed(1)}`;

/** The run as Markdown tables. Pure. */
export function report(r: KafkaResult): string {
  const n = r.generated.auditEvents;
  const base = r.baseline.rate;
  const fileWall = r.file.wallRate;
  const rss = (xs: (number | null)[]) => (xs.every((x) => x === null) ? '—' : fmt(Math.max(...xs.map((x) => x ?? 0))));
  const lines = [
    `pg-audit-gateway Kafka ingest bench (${r.options.mode}), ${r.date.slice(0, 16)}Z — ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
      `${fmt(n)} audit events (${fmt(r.generated.records)} csvlog records) for ${r.options.services} services on ${r.options.partitions} partitions; ${r.seconds.toFixed(0)} s`,
    '',
    '| figure | events/s | vs bulk baseline | vs `ingest --once` (spawn -> exit) | load avg |',
    '|---|---|---|---|---|',
    `| bulk baseline: the same documents pre-built, client bulk helper, empty indices | ${fmt(base)} | 100% | — | ${loadText(r.baseline.load)} |`,
    `| \`ingest --once\`, one service, the same records as one file (its own timing, as \`npm run bench\`) | ${fmt(r.file.rate)} | ${pct(r.file.rate, base)} | — | ${loadText(r.file.load)} |`,
    `| \`ingest --once\`, process spawn -> exit (${r.file.wallSeconds.toFixed(1)} s) | ${fmt(fileWall)} | ${pct(fileWall, base)} | 100% | same |`,
    ...r.kafka.runs.flatMap((k) => [
      `| Kafka, ${k.members} \`ingest --kafka-*\` process${k.members > 1 ? 'es' : ''}: spawn -> last event indexed (${k.seconds.toFixed(1)} s) | ${fmt(k.rate)} | ${pct(k.rate, base)} | ${pct(k.rate, fileWall)} | ${loadText(k.load)} |`,
      `| the same, first batch acknowledged -> last (the first after ${k.firstSeconds.toFixed(1)} s of start-up and group join) | ${fmt(k.steadyRate)} | ${pct(k.steadyRate, base)} | ${pct(k.steadyRate, fileWall)} | |`]),
    '',
    '| ingesters | ingester CPU s (all, start-up included) | events per ingester CPU-s | the same, first batch -> last | OpenSearch CPU s | OpenSearch CPU ms / 1k events | audit events per bulk shard request (write pool tasks) | broker CPU s | peak RSS per ingester, max (MB) | duplicates (read again) / commits refused / consumer restarts |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.kafka.runs.map((k) => `| ${k.members} | ${k.ingesterCpuSeconds.toFixed(1)} | ${fmt(n / k.ingesterCpuSeconds)} | ${fmt(k.steadyEventsPerCpuSecond)} | ${k.opensearchCpuSeconds.toFixed(1)} | ` +
      `${((k.opensearchCpuSeconds * 1e6) / n).toFixed(0)} | ${fmt(n / k.bulkShardRequests)} | ${k.brokerCpuSeconds.toFixed(1)} | ${rss(k.peakRssMb)} | ${countsText(k.counts)} |`),
    `| \`ingest --once\` (file, one service) | ${r.file.cpuSeconds.toFixed(1)} | ${fmt(n / r.file.cpuSeconds)} | — | — | — | — | — | ${fmt(r.file.peakRssBytes / MB)} | — |`,
    `| bulk baseline (warm-up included) | — | — | — | — | ${r.baseline.opensearchCpuMsPer1k.toFixed(0)} | — | — | — | — |`,
    '',
    '| size | bytes per audit event |',
    '|---|---|',
    `| csvlog file (audit rows and the non-audit rows between them) | ${(r.generated.csvlogBytes / n).toFixed(0)} |`,
    `| Kafka message values (the same records) / with key and headers | ${(r.kafka.valueBytes / n).toFixed(0)} / ${(r.kafka.messageBytes / n).toFixed(0)} |`,
    `| Kafka log segments on disk, uncompressed (${fmt(r.generated.records)} records; per partition ${r.kafka.recordsPerPartition.map((x) => fmt(x)).join(', ')}) | ${(r.kafka.logBytes / n).toFixed(0)} |`,
    `| OpenSearch event index, one segment (${fmt(r.index.eventDocs)} documents) | ${r.index.eventBytes.toFixed(0)} |`,
    `| OpenSearch session index, one segment (${fmt(r.index.sessionDocs)} session events: ${fmt((r.index.sessionBytes * r.index.sessionDocs) / n, 1)} bytes per audit event) | ${r.index.sessionBytes.toFixed(0)} per session event |`,
    '',
    `producer (this process, kafkajs, sends of 2,000, acks=all): ${fmt(r.kafka.produceRecordsPerS)} records/s`,
  ];
  if (r.lag.length > 0) {
    lines.push('', '| lag: 2 ingesters, rate (audit events/s; records/s produced) | share of the 2-ingester steady rate | seconds | lag p50 / p95 / max (records) | max in seconds of production | trend, 2nd half (records/s) | drained after the producer stopped | bounded | audit events per bulk shard request | ingester / OpenSearch CPU, % of one core | peak RSS max (MB) | duplicates / refused commits / restarts | load avg |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.lag.map((l) => `| ${fmt(l.eventsPerS)}; ${fmt(l.producedRecordsPerS)} | ${l.share === null ? '—' : pct(l.share, 1)} | ${l.seconds} | ${fmt(l.p50)} / ${fmt(l.p95)} / ${fmt(l.max)} | ` +
        `${(l.max / l.recordsPerS).toFixed(2)} s | ${l.slope.toFixed(1)} | ${l.drainedSeconds.toFixed(1)} s | ${l.bounded === null ? '— (too short to tell)' : l.bounded ? 'yes' : '**no**'} | ${fmt(l.events / l.bulkShardRequests, 1)} | ` +
        `${pct(l.ingesterCpuSeconds, l.seconds + l.drainedSeconds)} / ${pct(l.opensearchCpuSeconds, l.seconds + l.drainedSeconds)} | ${rss(l.peakRssMb)} | ${countsText(l.counts)} | ${loadText(l.load)} |`));
  }
  return lines.join('\n');
}

/** The soak (bench/kafka-ingest.ts --soak-minutes): samples every 10 s, and what they add up to. */
export interface SoakSample { t: number; lag: number; rssMb: (number | null)[]; producedRecords: number }
export interface SoakResult {
  date: string; machine: Machine; options: KafkaBenchOptions; seconds: number;
  records: number; events: number; indexed: number; deadLetters: number; kills: number[];
  /** The first member, which lives the whole soak: its RSS over time. */
  rssFirstMb: number; rssLastMb: number; rssSlopeMbPerHour: number; rssMaxMb: number;
  lag: { p50: number; p95: number; max: number; drainedSeconds: number };
  recordsPerS: number; counts: MemberCounts; ingesterCpuSeconds: number; load: { min: number; max: number }; samples: SoakSample[];
}

/** RSS trend of the whole-soak member after its warm-up (the first fifth of the samples left out): MB per hour. */
export function rssTrend(samples: readonly SoakSample[]): { first: number; last: number; slopePerHour: number; max: number } {
  const rss = samples.filter((s) => s.rssMb[0] !== null).map((s) => ({ t: s.t, lag: s.rssMb[0]! }));
  const warm = rss.slice(Math.floor(rss.length / 5));
  if (warm.length === 0) return { first: 0, last: 0, slopePerHour: 0, max: 0 };
  return { first: warm[0]!.lag, last: warm.at(-1)!.lag, slopePerHour: slopeOf(warm) * 3600, max: Math.max(...rss.map((x) => x.lag)) };
}

/** The soak as a Markdown table. Pure. */
export function soakReport(r: SoakResult): string {
  const lagSeconds = (records: number) => (records / r.recordsPerS).toFixed(2);
  return [
    `pg-audit-gateway Kafka soak, ${r.date.slice(0, 16)}Z — ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}; 2 members, ` +
      `${fmt(r.options.soakRate)} audit events/s (${fmt(r.recordsPerS)} records/s) for ${r.options.soakMinutes} min; load ${loadText(r.load)}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| records / audit events produced | ${fmt(r.records)} / ${fmt(r.events)} |`,
    `| events indexed (each once: deterministic ids) / dead letters | ${fmt(r.indexed)} / ${fmt(r.deadLetters)} |`,
    `| exactly once | ${r.indexed === r.events && r.deadLetters === 0 ? 'yes' : '**no**'} |`,
    `| second member killed -9 and replaced at (s) | ${r.kills.length === 0 ? '—' : r.kills.map((k) => k.toFixed(0)).join(', ')} |`,
    `| records read again after the kills (duplicates) / refused commits / consumer restarts (live members) | ${countsText(r.counts)} |`,
    `| lag p50 / p95 / max (records) | ${fmt(r.lag.p50)} / ${fmt(r.lag.p95)} / ${fmt(r.lag.max)} (max ${lagSeconds(r.lag.max)} s of production) |`,
    `| drained after the producer stopped | ${r.lag.drainedSeconds.toFixed(0)} s |`,
    `| first member's RSS after warm-up -> at the end (max) | ${fmt(r.rssFirstMb)} -> ${fmt(r.rssLastMb)} MB (${fmt(r.rssMaxMb)}) |`,
    `| its trend after warm-up | ${r.rssSlopeMbPerHour >= 0 ? '+' : ''}${fmt(r.rssSlopeMbPerHour, 1)} MB/hour |`,
    `| members' CPU per 1,000 events | ${fmt((r.ingesterCpuSeconds * 1e6) / Math.max(1, r.events))} ms |`,
  ].join('\n');
}

