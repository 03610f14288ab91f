/**
 * A process without an HTTP server of its own (`ingest`) exposes its registry here: `GET /metrics` on a
 * dedicated port, nothing else (404; other methods 405). With METRICS_TOKEN set, a bearer token is needed.
 */
import http from 'node:http';
import { metricsAuthorized, MetricsRegistry } from './metrics';

export async function serveMetrics(registry: MetricsRegistry, port: number, token: string | null, host = '0.0.0.0')
  : Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found\n'); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }); res.end(); return; }
    if (!metricsAuthorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }); res.end('unauthorized\n'); return;
    }
    registry.metrics().then((text) => { res.writeHead(200, { 'content-type': registry.contentType }); res.end(req.method === 'HEAD' ? undefined : text); },
      () => { res.writeHead(500); res.end(); });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
