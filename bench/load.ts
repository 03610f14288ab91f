/**
 * HTTP load with autocannon: a fixed request at a fixed number of connections for a fixed time.
 * autocannon keeps its latencies in whole milliseconds; a gateway's overhead is a fraction of one, so
 * the percentiles here come from every response's own time (autocannon's `response` event, float ms).
 * A response that is not 2xx, or whose body carries GraphQL `errors` (or an OpenSearch `error`), counts as an error: a run with
 * any error is refused rather than reported.
 */
import autocannon from 'autocannon';
import { percentiles, Percentiles } from './stats';

export interface LoadRequest {
  url: string;
  body: string;
  headers?: Record<string, string>;
  /** Default application/json. */
  contentType?: string;
}

export interface LoadResult extends Percentiles {
  connections: number;
  requests: number;
  /** Completed requests per second. */
  rps: number;
  /** With `cpuSeconds`: CPU milliseconds that process spent per request over the timed load (warm-up excluded). */
  cpuMsPerRequest?: number;
}

function run(req: LoadRequest, connections: number, length: { duration: number } | { amount: number }, samples: number[] | null): Promise<{ requests: number; errors: number; firstError: string }> {
  return new Promise((resolve, reject) => {
    let errors = 0;
    let firstError = '';
    const instance = autocannon({
      url: req.url, method: 'POST', body: req.body, connections, ...length, pipelining: 1,
      headers: { 'content-type': req.contentType ?? 'application/json', ...req.headers },
      requests: [{ onResponse: (status: number, body: string) => {
        if (status < 200 || status > 299 || body.startsWith('{"errors"') || body.includes('"errors":[') || body.includes('"error":{')) {
          errors += 1;
          if (!firstError) firstError = `${status} ${body.slice(0, 300)}`;
        }
      } }],
    }, (err, result) => {
      if (err) reject(err);
      else resolve({ requests: result.requests.total, errors: errors + result.errors + result.non2xx, firstError: firstError || `${result.errors} socket errors` });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => { samples?.push(ms); });
  });
}

/**
 * `warmupRequests` not recorded, then `seconds` (whole seconds: autocannon's unit) of load. With `cpuSeconds`
 * (a process's CPU time so far, e.g. the server's from /proc), its CPU per request over the timed load.
 */
export async function measureLoad(req: LoadRequest, connections: number, seconds: number, warmupRequests = 500,
  cpuSeconds?: () => Promise<number>): Promise<LoadResult> {
  if (warmupRequests > 0) await run(req, connections, { amount: warmupRequests }, null);
  const samples: number[] = [];
  const cpu0 = cpuSeconds ? await cpuSeconds() : 0;
  const t0 = performance.now();
  const r = await run(req, connections, { duration: seconds }, samples);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds ? ((await cpuSeconds()) - cpu0) * 1000 : undefined;
  if (r.errors > 0) throw new Error(`load on ${new URL(req.url).pathname}: ${r.errors} of ${r.requests} requests failed; first: ${r.firstError}`);
  if (samples.length === 0) throw new Error(`load on ${new URL(req.url).pathname}: no response in ${seconds} s`);
  return { ...percentiles(samples), connections, requests: samples.length, rps: samples.length / elapsed,
    ...(cpu !== undefined ? { cpuMsPerRequest: cpu / samples.length } : {}) };
}

/** One server of measureInterleaved, with the CPU time so far of the process to charge (optional). */
export interface LoadTarget { req: LoadRequest; cpuSeconds?: () => Promise<number> }

/**
 * Several servers compared at one concurrency, in turns: each warmed up (`warmupRequests`, unrecorded), then
 * `seconds` rounds of one second in which each gets its second of load in turn; the samples of its rounds are
 * pooled. On a machine shared with other work, a busy spell then touches every server alike instead of
 * whichever happened to run during it. `cpuMsPerRequest`: the given process's CPU over its own timed seconds.
 */
export async function measureInterleaved(targets: readonly LoadTarget[], connections: number, seconds: number, warmupRequests = 500): Promise<LoadResult[]> {
  for (const t of targets) if (warmupRequests > 0) await run(t.req, connections, { amount: warmupRequests }, null);
  const acc = targets.map(() => ({ samples: [] as number[], elapsed: 0, cpu: 0 }));
  for (let round = 0; round < seconds; round++) {
    for (const [i, t] of targets.entries()) {
      const a = acc[i]!;
      const cpu0 = t.cpuSeconds ? await t.cpuSeconds() : 0;
      const t0 = performance.now();
      const r = await run(t.req, connections, { duration: 1 }, a.samples);
      a.elapsed += (performance.now() - t0) / 1000;
      if (t.cpuSeconds) a.cpu += ((await t.cpuSeconds()) - cpu0) * 1000;
      if (r.errors > 0) throw new Error(`load on ${new URL(t.req.url).pathname}: ${r.errors} of ${r.requests} requests failed; first: ${r.firstError}`);
    }
  }
  return targets.map((t, i) => {
    const a = acc[i]!;
    if (a.samples.length === 0) throw new Error(`load on ${new URL(t.req.url).pathname}: no response in ${seconds} s`);
    return { ...percentiles(a.samples), connections, requests: a.samples.length, rps: a.samples.length / a.elapsed,
      ...(t.cpuSeconds ? { cpuMsPerRequest: a.cpu / a.samples.length } : {}) };
  });
}
