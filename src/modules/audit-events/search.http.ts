/**
 * The query path's own HTTP to OpenSearch (used by event.store.ts only): a POST of a body already encoded,
 * over a keep-alive agent, its JSON answer parsed once. The client library stays for everything else (writes,
 * templates, exports); on the read path its generic machinery (request events, header merging, body
 * serializers, secure-json-parse's second scan of every answer for `__proto__` / `constructor`) was a large
 * share of the gateway's CPU per request (bench/README.md). The answers parsed here are OpenSearch's own
 * JSON whose keys are fixed (documents of our strict templates, aggregation names of our requests), and
 * JSON.parse makes `__proto__` an own property, never a prototype. Behaves as the client did: the node URL's
 * credentials and path prefix, a request timeout, one retry of a read on a connection fault or a 502/503/504.
 */
import http from 'node:http';
import https from 'node:https';
import { storeUnavailable } from './audit-events.errors';

/** Answers that mean "the cluster is overloaded or unreachable", as the client's retry and the store's mapping treat them. */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);
/** Retried once, as the client retried them (a 429 is not: the cluster asks for less, not again). */
const RETRY_ONCE_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);

/** OpenSearch answered with an error status that is no outage (e.g. a query it refuses): a fault of this code, not the caller's. */
export class SearchRefused extends Error {
  constructor(readonly statusCode: number, type: string) { super(`OpenSearch answered ${statusCode}: ${type}`); }
}

class ConnectionFault extends Error {}

export class SearchHttp {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly host: string;
  private readonly port: string;
  private readonly prefix: string;
  private readonly authorization: string | undefined;

  constructor(node: string, private readonly timeoutMs: number) {
    const url = new URL(node);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new Error(`OPENSEARCH_URL: unsupported protocol ${url.protocol}`);
    // as the client's own agent: keep-alive, the most recently used socket first (it is the least likely to have been closed)
    const options = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(options) : new http.Agent(options);
    this.request = secure ? https.request : http.request;
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port;
    this.prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    this.authorization = url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined;
  }

  close(): void { this.agent.destroy(); }

  /**
   * POSTs `body` to `path` (query string included) and returns the parsed answer. STORE_UNAVAILABLE when the
   * cluster cannot be reached, times out or answers 429/502/503/504; SearchRefused for any other error status.
   */
  async post<T>(path: string, body: string, contentType: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let answer: { status: number; text: string };
      try {
        answer = await this.send(path, body, contentType);
      } catch (err) {
        if (err instanceof ConnectionFault && attempt === 1) continue;   // e.g. a kept-alive socket the server had just closed
        throw storeUnavailable('the audit event store is unavailable');
      }
      if (RETRY_ONCE_STATUS.has(answer.status) && attempt === 1) continue;
      if (RETRYABLE_STATUS.has(answer.status)) throw storeUnavailable('the audit event store is unavailable');
      if (answer.status >= 300) throw new SearchRefused(answer.status, errorType(answer.text));
      return JSON.parse(answer.text) as T;
    }
  }

  private send(path: string, body: string, contentType: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
      if (this.authorization) headers.authorization = this.authorization;
      const req = this.request({ host: this.host, port: this.port, method: 'POST', path: this.prefix + path, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', (err) => reject(new ConnectionFault(err.message)));
        res.on('aborted', () => reject(new ConnectionFault('answer aborted')));
      });
      req.setNoDelay(true);
      req.setTimeout(this.timeoutMs, () => { req.destroy(new Error('timed out')); });
      // a timeout is not retried: the request may still be running on the cluster
      req.on('error', (err) => reject(err.message === 'timed out' ? err : new ConnectionFault(err.message)));
      req.end(body);
    });
  }
}

/** The error type of an OpenSearch error answer, for the message (never the reason: it may quote the query). */
function errorType(text: string): string {
  try {
    const type = (JSON.parse(text) as { error?: { type?: unknown } }).error?.type;
    return typeof type === 'string' ? type.slice(0, 100) : 'error';
  } catch { return 'error'; }
}
