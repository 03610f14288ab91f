import { createMetricsRegistry, gatewayMetrics, ingestMetrics, kafkaIngestMetrics, lapseMetrics, metricsAuthorized, rawSharedIngestMetrics, tailMetrics, targetConnectionMetrics } from './metrics';

describe('lapse metrics', () => {
  it('pending gauge, disabled counter, failures by fixed reason (an unknown reason counts as error)', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    const m = lapseMetrics(registry, ['unreachable', 'error']);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_lapse_job_failures_total\{reason="unreachable"\} 0$/m);
    m.pending(3); m.disabled(); m.disabled(); m.failed('unreachable'); m.failed('some tenant text');
    const text = await registry.metrics();
    expect(text).toMatch(/^pgaudit_gateway_lapse_jobs_pending 3$/m);
    expect(text).toMatch(/^pgaudit_gateway_lapse_policies_disabled_total 2$/m);
    expect(text).toMatch(/^pgaudit_gateway_lapse_job_failures_total\{reason="unreachable"\} 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_lapse_job_failures_total\{reason="error"\} 1$/m);
    expect(text).not.toMatch(/tenant/);
  });
});

describe('metricsAuthorized', () => {
  const token = 'm-0123456789abcdef';
  it('accepts exactly Bearer <token>', () => {
    expect(metricsAuthorized(`Bearer ${token}`, token)).toBe(true);
    expect(metricsAuthorized(`bearer ${token}`, token)).toBe(true);
  });
  it.each([[undefined], [''], [token], [`Bearer ${token}x`], [`Bearer ${token.slice(1)}`], ['Basic abc'], [`Bearer  `]])('refuses %j', (h) => {
    expect(metricsAuthorized(h, token)).toBe(false);
  });
  it('without a token configured, everything is allowed (the dedicated ingest port)', () => {
    expect(metricsAuthorized(undefined, null)).toBe(true);
  });
});

describe('ingest metrics', () => {
  it('counts events, dead letters, bytes, retries and rejections; lag is measured from the newest event', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    let now = Date.parse('2026-01-01T00:01:00Z');
    const m = ingestMetrics(registry, () => now, ['malformed', 'timestamp_out_of_window']);
    expect(await registry.getSingleMetricAsString('pgaudit_gateway_ingest_lag_seconds')).toMatch(/^pgaudit_gateway_ingest_lag_seconds 0$/m);   // 0 before the first event
    m.bytesRead(100); m.bytesRead(50);
    m.acknowledged(3, { malformed: 1 }, Date.parse('2026-01-01T00:00:30Z'));
    m.acknowledged(2, {}, Date.parse('2026-01-01T00:00:10Z'));   // an older batch acknowledged later: the newest stays
    m.duplicates(4); m.duplicates(0);
    m.bulkRetries(2); m.bulkRetries(0); m.rejected(1);
    const text = await registry.metrics();
    expect(text).toMatch(/^pgaudit_gateway_ingest_events_total 5$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_dead_letters_total\{reason="malformed"\} 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_dead_letters_total\{reason="timestamp_out_of_window"\} 0$/m);   // every reason present from the start
    expect(text).toMatch(/^pgaudit_gateway_ingest_duplicates_total 4$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_bytes_total 150$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_bulk_retries_total 2$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_documents_rejected_total 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_lag_seconds 30$/m);
    now += 5000;
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_ingest_lag_seconds 35$/m);
  });
});

describe('target connection metrics', () => {
  it('the open gauge follows opened/closed; the outcomes are counted, all three present from the start', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    const m = targetConnectionMetrics(registry);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_target_connections_total\{outcome="refused"\} 0$/m);
    m.opened(); m.opened(); m.closed(); m.refused(); m.unreachable();
    const text = await registry.metrics();
    expect(text).toMatch(/^pgaudit_gateway_target_connections_open 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_target_connections_total\{outcome="opened"\} 2$/m);
    expect(text).toMatch(/^pgaudit_gateway_target_connections_total\{outcome="unreachable"\} 1$/m);
  });

  it('two registries never share a metric (no global state)', async () => {
    const a = createMetricsRegistry({ defaults: false });
    const b = createMetricsRegistry({ defaults: false });
    targetConnectionMetrics(a).opened();
    targetConnectionMetrics(b);
    expect(await b.metrics()).toMatch(/^pgaudit_gateway_target_connections_open 0$/m);
  });
});

describe('tail metrics', () => {
  it('the open gauge follows opened/ended; delivered events counted; ends by fixed reason (an unknown one counts as error)', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    const m = tailMetrics(registry, ['idle', 'client_closed', 'error']);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_tail_subscriptions_ended_total\{reason="client_closed"\} 0$/m);
    m.opened(); m.opened(); m.delivered(); m.delivered(); m.delivered(); m.ended('idle'); m.ended('tenant text');
    m.opened();
    const text = await registry.metrics();
    expect(text).toMatch(/^pgaudit_gateway_tail_subscriptions_open 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_tail_events_delivered_total 3$/m);
    expect(text).toMatch(/^pgaudit_gateway_tail_subscriptions_ended_total\{reason="idle"\} 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_tail_subscriptions_ended_total\{reason="error"\} 1$/m);
    expect(text).not.toMatch(/tenant/);
  });
});

describe('export metrics', () => {
  it('every format and end status present from the start', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    gatewayMetrics(registry);
    const text = await registry.metrics();
    for (const format of ['ndjson', 'csv']) {
      for (const name of ['exports_started_total', 'export_events_total', 'export_bytes_total']) {
        expect(text).toMatch(new RegExp(`^pgaudit_gateway_${name}\\{format="${format}"\\} 0$`, 'm'));
      }
    }
    for (const status of ['complete', 'partial', 'error', 'aborted']) expect(text).toMatch(new RegExp(`^pgaudit_gateway_exports_ended_total\\{status="${status}"\\} 0$`, 'm'));
  });
});

describe('kafka ingest metrics', () => {
  it('commits by outcome (both present from the start), consumer restarts, partitions held', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    const m = kafkaIngestMetrics(registry);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_ingest_kafka_commits_total\{outcome="refused"\} 0$/m);
    m.committed(true); m.committed(true); m.committed(false); m.consumerRestarted(); m.partitionsAssigned(3); m.partitionsAssigned(2);
    const text = await registry.metrics();
    expect(text).toMatch(/^pgaudit_gateway_ingest_kafka_commits_total\{outcome="committed"\} 2$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_kafka_commits_total\{outcome="refused"\} 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_kafka_consumer_restarts_total 1$/m);
    expect(text).toMatch(/^pgaudit_gateway_ingest_kafka_partitions_assigned 2$/m);
  });
});

describe('shared raw-index ingest metrics', () => {
  it('counts the skipped documents of unmapped hosts, present at 0 from the start, with no label', async () => {
    const registry = createMetricsRegistry({ defaults: false });
    const m = rawSharedIngestMetrics(registry);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_ingest_raw_unmapped_documents_total 0$/m);
    m.unmapped(40); m.unmapped(0); m.unmapped(2);
    expect(await registry.metrics()).toMatch(/^pgaudit_gateway_ingest_raw_unmapped_documents_total 42$/m);
  });
});
