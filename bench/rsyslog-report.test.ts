import { DAILY_INDEX_SETTINGS } from '../src/modules/audit-events/event.index';
import { parsePeerOptions, PEER_INDEX_TEMPLATE, peerMarkdown, PeerRound, PeerSize, renderPeerConfig, summarize } from './rsyslog-report';

const config = {
  file: '/tmp/log dir/postgresql-000.csv', workDir: '/b/work', logFile: '/b/rsyslogd.log', errorFile: '/b/errors.json', statsFile: '/b/stats.json',
  statsSeconds: 0, opensearchPort: 45123, batch: 5000, workers: 2, queueSize: 100_000,
};

describe('renderPeerConfig', () => {
  const text = renderPeerConfig(config);

  it('reads only the file, with imfile, into its own ruleset: nothing of the system logging', () => {
    expect(text).toContain('input(type="imfile" file="/tmp/log dir/postgresql-000.csv" tag="postgresql:" ruleset="rawbench" addMetadata="off")');
    expect(text).not.toMatch(/imuxsock|imklog|imjournal|\/etc\/|\/var\//);
    expect(text).toContain('global(workDirectory="/b/work" maxMessageSize="64k" processInternalMessages="on")');
    expect(text).toContain('*.* action(type="omfile" file="/b/rsyslogd.log")');
  });

  it('sends one document per line in bulk mode from the ruleset\'s in-memory queue, of the given batch and workers, no type', () => {
    expect(text).toMatch(/action\(type="omelasticsearch" server="127.0.0.1" serverport="45123" searchType=""/);
    expect(text).toContain('bulkmode="on"');
    expect(text).toContain('ruleset(name="rawbench" queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="5000" queue.workerThreads="2") {');
    // no action queue: a full one discards messages after its enqueue timeout
    expect(text.slice(text.indexOf('action(type="omelasticsearch"'))).not.toMatch(/queue\./);
    expect(text).toContain('errorFile="/b/errors.json"');
    expect(text).toContain('property(outname="MESSAGE" name="msg" format="jsonf")');
    expect(text).toContain('string="rawbench-%timereported:1:10:date-rfc3339%"');
    expect(text).not.toContain('impstats');
  });

  it('loads impstats only when asked', () => {
    expect(renderPeerConfig({ ...config, statsSeconds: 5 })).toContain('module(load="impstats" interval="5" format="json" log.syslog="off" log.file="/b/stats.json")');
  });

  it('escapes quotes and backslashes of paths', () => {
    expect(renderPeerConfig({ ...config, file: '/tmp/a"b\\c.csv' })).toContain('file="/tmp/a\\"b\\\\c.csv"');
  });
});

describe('PEER_INDEX_TEMPLATE', () => {
  it('has the event indices\' shards, replicas and refresh, no index sort', () => {
    const s = PEER_INDEX_TEMPLATE.template.settings;
    expect(s).toEqual({ number_of_shards: DAILY_INDEX_SETTINGS.number_of_shards, number_of_replicas: DAILY_INDEX_SETTINGS.number_of_replicas,
      refresh_interval: DAILY_INDEX_SETTINGS.refresh_interval });
    expect(Object.keys(PEER_INDEX_TEMPLATE.template.mappings.properties)).toEqual(['MESSAGE', 'timestamp']);
  });
});

describe('parsePeerOptions', () => {
  it('defaults: 100k and 1M, 3 rounds; quick: 10k, 1 round', () => {
    expect(parsePeerOptions([])).toMatchObject({ mode: 'full', sizes: [100_000, 1_000_000], rounds: 3, batch: 5000, workers: 2, indexWarmupSeconds: 30 });
    expect(parsePeerOptions(['--quick'])).toMatchObject({ mode: 'quick', sizes: [10_000], rounds: 1, indexWarmupSeconds: 2 });
    expect(parsePeerOptions(['--sizes', '50k', '--rounds', '5', '--batch', '1000', '--workers', '1'])).toMatchObject({ sizes: [50_000], rounds: 5, batch: 1000, workers: 1 });
    expect(parsePeerOptions(['--sizes', '50k', '--sweep', '1000x1,5000x2'])).toMatchObject({ sweep: [{ batch: 1000, workers: 1 }, { batch: 5000, workers: 2 }] });
  });

  it('refuses what is not a size, a count or a sweep', () => {
    expect(() => parsePeerOptions(['--sizes', '10q'])).toThrow(/not a number/);
    expect(() => parsePeerOptions(['--sizes', '500'])).toThrow(/at least 1000/);
    expect(() => parsePeerOptions(['--rounds', '0'])).toThrow(/whole number/);
    expect(() => parsePeerOptions(['--sweep', '1000'])).toThrow(/--sweep/);
  });
});

const round = (ingesterS: number, peerS: number): PeerRound => ({
  baseline: { events: 1000, seconds: 0.5, cpuSeconds: 1, opensearchCpuSeconds: 2 },
  ingester: { events: 1000, seconds: ingesterS, cpuSeconds: 3, opensearchCpuSeconds: 4, peakRssBytes: 100 * 2 ** 20 },
  peer: { events: 1000, lines: 1200, seconds: peerS, cpuSeconds: 0.5, opensearchCpuSeconds: 3, peakRssBytes: 20 * 2 ** 20 },
});

describe('summarize and peerMarkdown', () => {
  const size: PeerSize = { size: 1000, lines: 1200, events: 1000, bytes: 1, load: [3, 4, 5], rounds: [round(1, 2), round(2, 1), round(1, 1)] };

  it('takes medians of rates, and the median of each round\'s ratio', () => {
    const x = summarize(size);
    expect(x.ingester).toBe(1000);
    expect(x.peer).toBe(1000);
    expect(x.peerLines).toBe(1200);
    expect(x.ratio).toBe(1);   // the rounds' ratios: 2, 0.5, 1
    expect(x.baseline).toBe(2000);
    expect(x.rss).toEqual({ ingester: 100 * 2 ** 20, peer: 20 * 2 ** 20 });
  });

  it('prints one row per size', () => {
    const md = peerMarkdown([size], { rounds: 3, batch: 5000, workers: 2 });
    expect(md).toContain('| 1,000 (1,200) | 3 | 1,000 (1.0) | 1,000 (1.0) | 1,200 | **1.00x** | 2,000 (0.5) | 3.0 / 0.5 / 1.0 | 4.0 / 3.0 / 2.0 | 100 / 20 | 3.0, 4.0, 5.0 |');
  });
});
