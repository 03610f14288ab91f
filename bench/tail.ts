/**
 * Live-tail latency: from a write (its bulk request acknowledged) to the event's arrival at a subscriber of
 * auditEventTail (graphql-sse's own client, over the gateway's /graphql/stream), beside the same writes found by
 * a direct OpenSearch polling loop at the same interval, run at the same time (the tail's own request, built
 * by the same code, without the settle horizon: the time it takes OpenSearch to make a write searchable, as
 * a poller at that interval sees it). The gap is the settle time (TAIL_SETTLE_MS), the price of delivering
 * in order, exactly once, resumably.
 *
 * Writes go to a service of their own (the query figures' counts stay as they are): batches of BATCH events,
 * each stamped with ingestedAt as the ingester stamps it (its clock as it encodes the batch), one batch
 * every ~700 ms (out of step with the polls).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-sse';
import { DEFAULT_TAIL_LIMITS } from '../src/base/config';
import type { AuditEventDocument } from '../src/modules/audit-events/event.document';
import { buildTailSearch } from '../src/modules/audit-events/event.tail';
import { END_OF_MS, TailKey } from '../src/modules/audit-events/tail.cursor';
import type { BenchEnvironment } from './environment';
import type { Figure } from './report';
import { percentiles } from './stats';

const BATCH = 20;
const TAIL = `subscription($s: ID!) { auditEventTail(serviceId: $s) { cursor event { id } } }`;

function doc(serviceId: string, projectId: string, organizationId: string, i: number): AuditEventDocument {
  return { id: randomBytes(24).toString('base64url'), serviceId, projectId, organizationId, timestamp: new Date().toISOString(),
    auditType: 'SESSION', statementId: i, substatementId: 1, class: 'READ', command: 'SELECT', objectType: 'TABLE', objectName: 'public.accounts',
    statement: `select * from accounts where id = ${i}`, statementStatus: 'LOGGED', parameters: null, rows: 1, user: 'analyst', database: 'app',
    sessionId: 'bench-tail', sessionLineNum: i, applicationName: 'bench', remoteHost: null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureTail(env: BenchEnvironment, size: number, batches: number): Promise<Figure[]> {
  const { projectId, organizationId, token } = env.tenant;
  const service = await env.admin.tenancy.registerService(projectId, `bench-tail-${size}`, 'postgres://avnadmin@127.0.0.1:1/postgres');
  const store = env.admin.eventStore!;
  const url = (await env.gatewayUrl()).replace(/\/graphql$/, '/graphql/stream');
  const acked = new Map<string, number>();
  const viaTail = new Map<string, number>();
  const direct = new Map<string, number>();
  const interval = DEFAULT_TAIL_LIMITS.pollIntervalMs;

  // the subscriber: graphql-sse's client, one event stream (distinct connections mode)
  const client = createClient({ url, headers: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const stream = client.iterate<{ auditEventTail: { event: { id: string } } }>({ query: TAIL, variables: { s: service.id } });
  let failed: unknown = null;
  const reading = (async () => {
    for await (const r of stream) {
      if (r.errors) throw new Error(`tail error: ${JSON.stringify(r.errors).slice(0, 300)}`);
      viaTail.set(r.data!.auditEventTail.event.id, performance.now());
    }
  })().catch((err) => { failed = err; });

  // the baseline: the tail's own request straight to OpenSearch, every `interval`, up to now (no settle)
  let stop = false;
  // always from the start (a few hundred events at most): whatever becomes searchable is found by the next poll
  const from: TailKey = { ingestedAtMs: Date.now(), tiebreak: END_OF_MS };
  const polling = (async () => {
    while (!stop) {
      const { index, body } = buildTailSearch(service.id, null, from, Date.now() + 60_000, 10_000);
      const res = await fetch(`${env.search.url}/${index}/_search?ignore_unavailable=true&allow_no_indices=true`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.ok) {
        const hits = ((await res.json()) as { hits: { hits: { _source: { id: string } }[] } }).hits.hits;
        const now = performance.now();
        for (const h of hits) if (!direct.has(h._source.id)) direct.set(h._source.id, now);
      }
      await sleep(interval);
    }
  })();

  await sleep(1000);   // the subscription is open
  for (let b = 0; b < batches; b++) {
    const docs = Array.from({ length: BATCH }, (_, i) => doc(service.id, projectId, organizationId, b * BATCH + i));
    const result = await store.bulkIndex(docs, [], new Date().toISOString());
    const at = performance.now();
    if (result.rejected.length > 0) throw new Error(`bench tail: ${result.rejected.length} documents rejected`);
    for (const d of docs) acked.set(d.id, at);
    await sleep(600 + Math.floor(Math.random() * 200));
  }
  const deadline = Date.now() + DEFAULT_TAIL_LIMITS.settleMs + 15_000;
  while ((viaTail.size < acked.size || direct.size < acked.size) && Date.now() < deadline && !failed) await sleep(100);
  stop = true;
  await polling;
  await stream.return?.();
  client.dispose();
  await reading;
  if (failed) throw failed;
  if (viaTail.size !== acked.size) throw new Error(`bench tail: ${viaTail.size} of ${acked.size} events arrived through the tail`);
  const latency = (seen: Map<string, number>) => percentiles([...acked].map(([id, at]) => seen.get(id)! - at));
  return [{
    section: 'tail', name: `live tail, write acknowledged -> event at an SSE subscriber (${batches} batches of ${BATCH})`, size, unit: 'ms',
    measured: latency(viaTail), baseline: latency(direct),
    baselineName: `the same writes found by the same search straight to OpenSearch every ${interval} ms, without the ${DEFAULT_TAIL_LIMITS.settleMs} ms settle horizon`,
    target: { text: 'p95 <= 5000 ms (within a few seconds)', met: latency(viaTail).p95 <= 5000 },
  }];
}
