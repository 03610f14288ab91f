/**
 * The raw-shipper peer's pure parts (bench/rsyslog-peer.ts): its rsyslog configuration, its index template, the
 * options of `node dist/bench/rsyslog-peer.js` and its report. Unit-tested (rsyslog-report.test.ts).
 */
import { DAILY_INDEX_SETTINGS } from '../src/modules/audit-events/event.index';
import { median, optionReader, parseCount } from './stats';

export const PEER_PREFIX = 'rawbench-';
export const PEER_TEMPLATE = 'rawbench';

/**
 * The peer's index: the shard, replica and refresh settings of the gateway's daily event indices
 * (DAILY_INDEX_SETTINGS) without their index sort (timestamp + tiebreak: a raw line has no tiebreak, and a log
 * integration's daily index is not sorted). Each raw line is `{ MESSAGE, timestamp }`, mapped explicitly: the
 * line as `text` (standard analyzer, as the gateway's `statement`), no `.keyword` copy (a dynamic mapping would
 * add one: more work per document for the peer).
 */
export const PEER_INDEX_TEMPLATE = {
  index_patterns: [`${PEER_PREFIX}*`],
  priority: 100,
  template: {
    settings: { number_of_shards: DAILY_INDEX_SETTINGS.number_of_shards, number_of_replicas: DAILY_INDEX_SETTINGS.number_of_replicas,
      refresh_interval: DAILY_INDEX_SETTINGS.refresh_interval },
    mappings: { dynamic: 'strict', properties: { MESSAGE: { type: 'text', analyzer: 'standard' }, timestamp: { type: 'date', format: 'strict_date_optional_time' } } },
  },
} as const;

export interface PeerConfig {
  /** The csvlog file imfile reads from its first line. */
  file: string;
  /** rsyslog's workDirectory (imfile's state files, queue files if any). */
  workDir: string;
  /** rsyslog's own messages (errors, warnings) go to this file; omelasticsearch's rejected documents to errorFile. */
  logFile: string;
  errorFile: string;
  /** impstats' counters, JSON, one line per counter every `statsSeconds` (0: no impstats). */
  statsFile: string;
  statsSeconds: number;
  opensearchPort: number;
  /** Messages per bulk request: the ruleset queue's dequeue batch (omelasticsearch sends one bulk per batch). */
  batch: number;
  /** The ruleset queue's worker threads: bulk requests in flight at once. */
  workers: number;
  /** The ruleset queue's size in messages (a LinkedList queue holds them in memory). */
  queueSize: number;
}

/** Bulk requests of 5,000 lines (~1.3 MB) from an in-memory queue with two workers: see bench/README.md for the sweep. */
export const PEER_DEFAULTS = { batch: 5000, workers: 2, queueSize: 100_000, statsSeconds: 0 } as const;

const q = (s: string) => JSON.stringify(s);   // rsyslog's string literals take the same escapes for what occurs here

/**
 * rsyslog.conf of the peer: imfile reads the file (inotify mode, from its start: no state file in a fresh work
 * directory), each physical line is one message, one document `{"MESSAGE": <line>, "timestamp": <read time>}` in a
 * daily `rawbench-YYYY-MM-DD` index (dynSearchIndex, the read date, as a log integration names its indices), sent
 * by omelasticsearch in bulk mode: one bulk request per dequeued batch of `batch` lines.
 *
 * The queue is the ruleset's (LinkedList, in memory), the action runs in its workers (Direct): imfile waits when that
 * queue is full (a file is a delayable input), so nothing is lost. An action queue in front of omelasticsearch
 * instead lost lines: the ruleset's worker gives up enqueueing into a full action queue after `queue.timeoutEnqueue`
 * and discards the message (measured: 1 of 119,122 lines missing at 20,000 x 2, nothing in any log).
 * processInternalMessages: rsyslog's own messages go through this configuration (to `logFile`), never to the
 * system's /dev/log. No imuxsock, no imklog: nothing of the system's logging is read.
 */
export function renderPeerConfig(c: PeerConfig): string {
  return [
    '# pg-audit-gateway bench: the raw shipper peer (bench/rsyslog-peer.ts); written for one run, never the system rsyslog',
    `global(workDirectory=${q(c.workDir)} maxMessageSize="64k" processInternalMessages="on")`,
    'module(load="imfile" mode="inotify")',
    'module(load="omelasticsearch")',
    ...(c.statsSeconds > 0 ? [`module(load="impstats" interval="${c.statsSeconds}" format="json" log.syslog="off" log.file=${q(c.statsFile)})`] : []),
    '',
    'template(name="rawbench_doc" type="list" option.jsonf="on") {',
    '  property(outname="MESSAGE" name="msg" format="jsonf")',
    '  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
    '}',
    `template(name="rawbench_index" type="string" string="${PEER_PREFIX}%timereported:1:10:date-rfc3339%")`,
    '',
    `input(type="imfile" file=${q(c.file)} tag="postgresql:" ruleset="rawbench" addMetadata="off")`,
    '',
    `ruleset(name="rawbench" queue.type="LinkedList" queue.size="${c.queueSize}" queue.dequeueBatchSize="${c.batch}" queue.workerThreads="${c.workers}") {`,
    `  action(type="omelasticsearch" server="127.0.0.1" serverport="${c.opensearchPort}" searchType="" template="rawbench_doc"`,
    '         searchIndex="rawbench_index" dynSearchIndex="on" bulkmode="on" maxbytes="100m"',
    `         errorFile=${q(c.errorFile)} action.resumeRetryCount="-1")`,
    '}',
    '',
    '# rsyslog\'s own messages only (the file input above is bound to its own ruleset)',
    `*.* action(type="omfile" file=${q(c.logFile)})`,
    '',
  ].join('\n');
}

export interface PeerRun {
  /** Physical lines of the file = documents indexed. */
  lines: number;
  /** Audit events in the file (the ingester's unit). */
  events: number;
  /** rsyslogd's spawn -> OpenSearch has indexed every line. */
  seconds: number;
  /** rsyslogd's CPU (user + system, all threads) over the run. */
  cpuSeconds: number;
  /** OpenSearch's CPU over the same span. */
  opensearchCpuSeconds: number;
  peakRssBytes: number;
}

export interface IngesterRun { events: number; seconds: number; cpuSeconds: number; opensearchCpuSeconds: number; peakRssBytes: number }
export interface BaselineRun { events: number; seconds: number; cpuSeconds: number; opensearchCpuSeconds: number }

export interface PeerRound { ingester: IngesterRun; peer: PeerRun; baseline: BaselineRun }
export interface PeerSize { size: number; lines: number; events: number; bytes: number; rounds: PeerRound[]; load: number[] }

export interface PeerBenchOptions {
  mode: 'full' | 'quick';
  sizes: number[];
  rounds: number;
  batch: number;
  workers: number;
  indexWarmupSeconds: number;
  opensearchHeapMb: number;
  stepMs: number;
  /** `--sweep 1000x1,5000x2`: only the peer, with each batch x workers in turn (rounds alternate them); no ingester, no floor. */
  sweep: PeerOptions[];
}

export interface PeerOptions { batch: number; workers: number }

export function parsePeerOptions(argv: readonly string[]): PeerBenchOptions {
  const quick = argv.includes('--quick');
  const { value, num } = optionReader(argv);
  const sizes = (value('sizes') ?? (quick ? '10k' : '100k,1m')).split(',').map((x) => parseCount('sizes', x));
  if (sizes.some((s) => s < 1000)) throw new Error('--sizes: each at least 1000');
  const sweep = (value('sweep') ?? '').split(',').filter((x) => x !== '').map((x) => {
    const m = /^([1-9]\d*)x([1-9]\d*)$/.exec(x);
    if (!m) throw new Error(`--sweep takes batch x workers pairs like 1000x1,5000x2, got "${x}"`);
    return { batch: Number(m[1]), workers: Number(m[2]) };
  });
  return { mode: quick ? 'quick' : 'full', sizes, rounds: num('rounds', quick ? 1 : 3), batch: num('batch', PEER_DEFAULTS.batch),
    workers: num('workers', PEER_DEFAULTS.workers), indexWarmupSeconds: quick ? 2 : 30, opensearchHeapMb: quick ? 512 : 2048, stepMs: 250, sweep };
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
const f1 = (v: number) => v.toFixed(1);
const MB = 2 ** 20;

/** Medians over the rounds, per size. */
export function summarize(s: PeerSize) {
  const m = (f: (r: PeerRound) => number) => median(s.rounds.map(f));
  const ingester = m((r) => r.ingester.events / r.ingester.seconds);
  const peer = m((r) => r.peer.events / r.peer.seconds);
  return {
    ingester, peer, baseline: m((r) => r.baseline.events / r.baseline.seconds),
    peerLines: m((r) => r.peer.lines / r.peer.seconds),
    // the ratio of each round, then their median: a busy spell of the shared machine in one round touches both of it
    ratio: m((r) => (r.ingester.events / r.ingester.seconds) / (r.peer.events / r.peer.seconds)),
    seconds: { ingester: m((r) => r.ingester.seconds), peer: m((r) => r.peer.seconds), baseline: m((r) => r.baseline.seconds) },
    cpu: { ingester: m((r) => r.ingester.cpuSeconds), peer: m((r) => r.peer.cpuSeconds), baseline: m((r) => r.baseline.cpuSeconds) },
    opensearchCpu: { ingester: m((r) => r.ingester.opensearchCpuSeconds), peer: m((r) => r.peer.opensearchCpuSeconds), baseline: m((r) => r.baseline.opensearchCpuSeconds) },
    rss: { ingester: m((r) => r.ingester.peakRssBytes), peer: m((r) => r.peer.peakRssBytes) },
  };
}

/** The Markdown table: one row per size, medians of the rounds. */
export function peerMarkdown(sizes: readonly PeerSize[], o: Pick<PeerBenchOptions, 'rounds' | 'batch' | 'workers'>): string {
  const head = [
    `| audit events (lines) | rounds | ingest --once events/s (s) | rsyslog peer events/s (s) | peer lines/s | ingester / peer | bulk-helper floor events/s (s) | CPU s: ingester / rsyslogd / bench (floor) | OpenSearch CPU s: ingester / peer / floor | peak RSS MB: ingester / rsyslogd | load avg (1 min) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const rows = sizes.map((s) => {
    const x = summarize(s);
    return `| ${fmt(s.events)} (${fmt(s.lines)}) | ${s.rounds.length} | ${fmt(x.ingester)} (${f1(x.seconds.ingester)}) | ${fmt(x.peer)} (${f1(x.seconds.peer)}) | ${fmt(x.peerLines)} | ` +
      `**${x.ratio.toFixed(2)}x** | ${fmt(x.baseline)} (${f1(x.seconds.baseline)}) | ${f1(x.cpu.ingester)} / ${f1(x.cpu.peer)} / ${f1(x.cpu.baseline)} | ` +
      `${f1(x.opensearchCpu.ingester)} / ${f1(x.opensearchCpu.peer)} / ${f1(x.opensearchCpu.baseline)} | ${fmt(x.rss.ingester / MB)} / ${fmt(x.rss.peer / MB)} | ` +
      `${s.load.map((l) => l.toFixed(1)).join(', ')} |`;
  });
  return [`rsyslog peer: imfile + omelasticsearch, bulk batches of ${o.batch}, ${o.workers} worker(s); medians of ${o.rounds} round(s); ` +
    'every rate from its process\'s spawn to its last document indexed', '', ...head, ...rows].join('\n');
}

export interface SweepRow { size: number; events: number; lines: number; config: PeerOptions; runs: PeerRun[]; load: number[] }

/** The sweep's table: per size and configuration, the median of its runs. */
export function sweepMarkdown(rows: readonly SweepRow[]): string {
  return ['| audit events (lines) | batch x workers | runs | events/s | lines/s | rsyslogd CPU s | OpenSearch CPU s | rsyslogd peak RSS MB | load avg (1 min) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const m = (f: (x: PeerRun) => number) => median(r.runs.map(f));
      return `| ${fmt(r.events)} (${fmt(r.lines)}) | ${r.config.batch} x ${r.config.workers} | ${r.runs.length} | ${fmt(m((x) => x.events / x.seconds))} | ` +
        `${fmt(m((x) => x.lines / x.seconds))} | ${f1(m((x) => x.cpuSeconds))} | ${f1(m((x) => x.opensearchCpuSeconds))} | ${fmt(m((x) => x.peakRssBytes) / MB)} | ` +
        `${r.load.map((l) => l.toFixed(1)).join(', ')} |`;
    })].join('\n');
}
