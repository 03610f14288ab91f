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
