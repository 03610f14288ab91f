/**
 * The query path's own HTTP to OpenSearch (used by event.store.ts only): a POST of a body already encoded,
 * over a keep-alive agent, its JSON answer parsed once. The client library stays for everything else (writes,
 * templates, exports); on the read path its generic machinery (request events, header merging, body
 * serializers, secure-json-parse's second scan of every answer for `__proto__` / `constructor`) was a large
 * share of the gateway's CPU per request (bench/README.md). The answers parsed here are OpenSearch's own
 * JSON whose keys are fixed (documents of our strict templates, aggregation names of our requests), and
 * JSON.parse makes `__proto__` an own property, never a prototype. Behaves as the client did: the node URL's
 * credentials and path prefix, a request timeout, one retry of a read on a connection fault or a 502/503/504.
 * With several nodes of one cluster (OPENSEARCH_URL as a list), as the client with `nodes`: requests go round the
 * nodes, a node that could not be reached is left out for DEAD_NODE_MS, and a read that meets a connection fault
 * is sent to the next node (each node once, then it fails).
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

/** How long a node that could not be reached is left out (unless every node is). */
export const DEAD_NODE_MS = 10_000;

interface Node {
  agent: http.Agent;
  request: typeof http.request;
  host: string;
  port: string;
  prefix: string;
  authorization: string | undefined;
  /** Left out until then (ms since the epoch); 0: alive. */
  deadUntil: number;
}

function nodeOf(node: string): Node {
  const url = new URL(node);
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') throw new Error(`OPENSEARCH_URL: unsupported protocol ${url.protocol}`);
  // as the client's own agent: keep-alive, the most recently used socket first (it is the least likely to have been closed)
  const options = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' as const };
  return {
    agent: secure ? new https.Agent(options) : new http.Agent(options),
    request: secure ? https.request : http.request,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port,
    prefix: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
    authorization: url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined,
    deadUntil: 0,
  };
}

export class SearchHttp {
  private readonly nodes: Node[];
  /** The round's position: the node the next request starts at. */
  private turn = 0;

  /** `nodes`: one node's URL, or the URLs of several nodes of one cluster. */
  constructor(nodes: string | readonly string[], private readonly timeoutMs: number, private readonly now: () => number = Date.now) {
    this.nodes = (typeof nodes === 'string' ? [nodes] : nodes).map(nodeOf);
    if (this.nodes.length === 0) throw new Error('OPENSEARCH_URL: no node');
  }

  close(): void { for (const n of this.nodes) n.agent.destroy(); }

  /**
   * POSTs `body` to `path` (query string included) and returns the parsed answer. STORE_UNAVAILABLE when the
   * cluster cannot be reached, times out or answers 429/502/503/504; SearchRefused for any other error status.
   * Up to one attempt more than there are nodes: a connection fault goes on to the next node (with one node: the
   * same one once more, e.g. after a kept-alive socket the server had just closed); a 502/503/504 is tried again
   * once, on the next node, and only as the first answer.
   */
  async post<T>(path: string, body: string, contentType: string): Promise<T> {
    let node = this.pick();
    for (let attempt = 1; ; attempt++) {
      let answer: { status: number; text: string };
      try {
        answer = await this.send(node, path, body, contentType);
      } catch (err) {
        if (err instanceof ConnectionFault) node.deadUntil = this.now() + DEAD_NODE_MS;
        if (err instanceof ConnectionFault && attempt <= this.nodes.length) { node = this.after(node); continue; }
        throw storeUnavailable('the audit event store is unavailable');
      }
      node.deadUntil = 0;
      if (RETRY_ONCE_STATUS.has(answer.status) && attempt === 1) { node = this.after(node); continue; }
      if (RETRYABLE_STATUS.has(answer.status)) throw storeUnavailable('the audit event store is unavailable');
      if (answer.status >= 300) throw new SearchRefused(answer.status, errorType(answer.text));
      return JSON.parse(answer.text) as T;
    }
  }

  /** The next node of the round that is not left out; when every node is, the one left out longest ago. */
  private pick(): Node {
    const n = this.nodes.length;
    if (n === 1) return this.nodes[0]!;
    const now = this.now();
    for (let i = 0; i < n; i++) {
      const node = this.nodes[(this.turn + i) % n]!;
      if (node.deadUntil <= now) { this.turn = (this.turn + i + 1) % n; return node; }
    }
    return this.nodes.reduce((a, b) => (b.deadUntil < a.deadUntil ? b : a));
  }

  /** The node to try after `node` failed: the next one not left out, else simply the next one. */
  private after(node: Node): Node {
    const n = this.nodes.length;
    const at = this.nodes.indexOf(node);
    const now = this.now();
    for (let i = 1; i < n; i++) {
      const next = this.nodes[(at + i) % n]!;
      if (next.deadUntil <= now) return next;
    }
    return this.nodes[(at + 1) % n]!;
  }

  private send(node: Node, path: string, body: string, contentType: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': Buffer.byteLength(body) };
      if (node.authorization) headers.authorization = node.authorization;
      const req = node.request({ host: node.host, port: node.port, method: 'POST', path: node.prefix + path, headers, agent: node.agent }, (res) => {
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
