import { KafkaResult, metricSums, parseKafkaOptions, report, rssTrend, slopeOf, SoakResult, soakReport } from './kafka-report';

describe('Kafka ingest bench helpers', () => {
  it('reads options: defaults, quick mode, overrides and refusals', () => {
    expect(parseKafkaOptions([])).toMatchObject({ mode: 'full', events: 200_000, members: [1, 2, 4], lagShares: [0.5, 0.9], lagSeconds: 60, rebalanceDelayMs: 3000 });
    expect(parseKafkaOptions(['--quick'])).toMatchObject({ mode: 'quick', events: 20_000, lagShares: [0.5], lagSeconds: 5, rebalanceDelayMs: 1500 });
    expect(parseKafkaOptions(['--events', '1.5m', '--members', '2,8', '--lag-rate', '3k', '--lag-seconds', '0', '--rebalance-delay-ms', '0']))
      .toMatchObject({ events: 1_500_000, members: [2, 8], lagRate: 3000, lagSeconds: 0, rebalanceDelayMs: 0 });
    expect(() => parseKafkaOptions(['--events', '10'])).toThrow('at least 1000');
    expect(() => parseKafkaOptions(['--members', '0,2'])).toThrow('group sizes');
    expect(() => parseKafkaOptions(['--events', 'many'])).toThrow('not a number');
    expect(parseKafkaOptions([])).toMatchObject({ soakMinutes: 0 });
    expect(parseKafkaOptions(['--soak-minutes', '60', '--soak-rate', '3k'])).toMatchObject({ soakMinutes: 60, soakRate: 3000, churnMinutes: 10 });
    expect(parseKafkaOptions(['--soak-minutes', '3', '--churn-minutes', '0'])).toMatchObject({ soakMinutes: 3, churnMinutes: 0 });
    expect(() => parseKafkaOptions(['--soak-minutes', '-1'])).toThrow('--soak-minutes');
  });

  it('soak: the whole-soak member\'s RSS trend after warm-up, and the table says whether every event arrived once', () => {
    // 10 samples, the first two (warm-up) climbing, then +1 MB per 10 s = 360 MB/hour
    const samples = Array.from({ length: 10 }, (_, i) => ({ t: (i + 1) * 10, lag: 5, producedRecords: i * 100, rssMb: [i < 2 ? 50 + 40 * i : 100 + (i - 2), i % 2 === 0 ? null : 80] }));
    const trend = rssTrend(samples);
    expect(trend).toMatchObject({ first: 100, last: 107, max: 107 });
    expect(trend.slopePerHour).toBeCloseTo(360, 5);
    expect(rssTrend([])).toEqual({ first: 0, last: 0, slopePerHour: 0, max: 0 });
    const r: SoakResult = { date: '2026-12-05T03:00:00Z', machine: { cores: 2, cpu: 'x', memoryGiB: 24, node: 'v20', os: 'Linux' }, options: parseKafkaOptions(['--soak-minutes', '30']),
      seconds: 1900, records: 4_000_000, events: 3_600_000, indexed: 3_600_000, deadLetters: 0, kills: [600, 1200], rssFirstMb: 120, rssLastMb: 125, rssSlopeMbPerHour: 4,
      rssMaxMb: 130, lag: { p50: 500, p95: 2000, max: 9000, drainedSeconds: 10 }, recordsPerS: 2240, counts: { events: 1, duplicates: 3000, bulkRetries: 0, commitsOk: 9, commitsRefused: 1, consumerRestarts: 0 },
      ingesterCpuSeconds: 500, load: { min: 2, max: 4 }, samples };
    const table = soakReport(r);
    expect(table).toContain('| exactly once | yes |');
    expect(table).toContain('| second member killed -9 and replaced at (s) | 600, 1200 |');
    expect(table).toContain('+4.0 MB/hour');
    expect(soakReport({ ...r, indexed: r.events - 1 })).toContain('| exactly once | **no** |');
  });

  it('sums a Prometheus exposition per metric, the refused Kafka commits apart', () => {
    const sums = metricSums([
      '# HELP pgaudit_gateway_ingest_duplicates_total documents found already indexed',
      '# TYPE pgaudit_gateway_ingest_duplicates_total counter',
      'pgaudit_gateway_ingest_duplicates_total 12',
      'pgaudit_gateway_ingest_kafka_commits_total{outcome="committed"} 40',
      'pgaudit_gateway_ingest_kafka_commits_total{outcome="refused"} 3',
      'pgaudit_gateway_ingest_dead_letters_total{code="malformed"} 1',
      'pgaudit_gateway_ingest_dead_letters_total{code="record_too_large"} 2',
      'process_cpu_seconds_total 1.5e+0',
    ].join('\n'));
    expect(sums.get('pgaudit_gateway_ingest_duplicates_total')).toBe(12);
    expect(sums.get('pgaudit_gateway_ingest_kafka_commits_total')).toBe(40);
    expect(sums.get('pgaudit_gateway_ingest_kafka_commits_total:refused')).toBe(3);
    expect(sums.get('pgaudit_gateway_ingest_dead_letters_total')).toBe(3);
    expect(sums.get('process_cpu_seconds_total')).toBe(1.5);
  });

  it('takes the lag\'s least-squares trend', () => {
    expect(slopeOf([])).toBe(0);
    expect(slopeOf([{ t: 1, lag: 5 }])).toBe(0);
    expect(slopeOf([1, 2, 3, 4].map((t) => ({ t, lag: 100 + 50 * t })))).toBeCloseTo(50);
    expect(slopeOf([1, 2, 3, 4].map((t) => ({ t, lag: t % 2 === 0 ? 300 : 100 })))).toBeCloseTo(40);
    expect(slopeOf([1, 2, 3].map((t) => ({ t, lag: 7 })))).toBe(0);
  });

  it('renders a run as tables with every figure against the baselines of the same run', () => {
    const counts = { events: 1000, duplicates: 0, bulkRetries: 0, commitsOk: 10, commitsRefused: 0, consumerRestarts: 0 };
    const run = (members: number, seconds: number) => ({ members, events: 1000, messages: 1100, seconds, rate: 1000 / seconds, firstSeconds: 1,
      steadyRate: 1000 / (seconds - 1), ingesterCpuSeconds: 0.5, steadyEventsPerCpuSecond: 2500, opensearchCpuSeconds: 0.4, bulkShardRequests: 4,
      brokerCpuSeconds: 0.1, peakRssMb: [120, null], load: { min: 1, max: 2 }, counts });
    const r: KafkaResult = {
      date: '2026-12-05T01:00:00.000Z', machine: { cores: 2, cpu: 'x', memoryGiB: 24, node: 'v20', os: 'Linux' }, options: parseKafkaOptions(['--quick']), seconds: 60,
      generated: { auditEvents: 1000, records: 1100, lines: 1200, csvlogBytes: 367_000 },
      baseline: { rate: 2000, docs: 1000, load: { min: 1, max: 1 }, opensearchCpuMsPer1k: 150 },
      file: { events: 1000, seconds: 0.5, wallSeconds: 1, rate: 2000, wallRate: 1000, cpuSeconds: 0.8, peakRssBytes: 128 * 2 ** 20, load: { min: 1, max: 1 } },
      kafka: { produceRecordsPerS: 10_000, recordsPerPartition: [550, 550], valueBytes: 367_000, messageBytes: 489_000, logBytes: 505_000, runs: [run(1, 2), run(2, 4)] },
      index: { eventBytes: 340, eventDocs: 1000, sessionBytes: 336, sessionDocs: 20 },
      lag: [{ eventsPerS: 500, share: 0.5, recordsPerS: 550, seconds: 60, producedRecordsPerS: 549, records: 4400, events: 4000, p50: 100, p95: 200, max: 275,
        slope: -3, drainedSeconds: 1, bounded: true, samples: [[1, 100]], peakRssMb: [110, 111], load: { min: 1, max: 1 }, counts,
        ingesterCpuSeconds: 4.5, opensearchCpuSeconds: 2.7, bulkShardRequests: 40 }],
    };
    const text = report(r);
    expect(text).toContain('| Kafka, 1 `ingest --kafka-*` process: spawn -> last event indexed (2.0 s) | 500 | 25% | 50% | 1.0-2.0 |');
    expect(text).toContain('| Kafka, 2 `ingest --kafka-*` processes: spawn -> last event indexed (4.0 s) | 250 | 13% | 25% |');
    expect(text).toContain('| `ingest --once` (file, one service) | 0.8 | 1,250 |');
    expect(text).toContain('| csvlog file (audit rows and the non-audit rows between them) | 367 |');
    expect(text).toContain('| 500; 549 | 50% | 60 | 100 / 200 / 275 | 0.50 s | -3.0 | 1.0 s | yes | 100.0 | 7% / 4% | 111 |');
    // every row of each table has as many cells as its header (the |---| line aside)
    const tables = text.split('\n\n').map((block) => block.split('\n').filter((l) => l.startsWith('| '))).filter((rows) => rows.length > 0);
    expect(tables.length).toBe(4);
    for (const rows of tables) expect(new Set(rows.map((l) => l.split(' | ').length))).toEqual(new Set([rows[0]!.split(' | ').length]));
  });
});
