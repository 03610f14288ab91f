/**
 * The floor of any gateway on this machine: a bare Node HTTP proxy, in its own process, that forwards
 * each request (method, path, body, content type) to OpenSearch over keep-alive connections and returns
 * the answer unread. No auth, no GraphQL, no parsing. The bench sends it the direct OpenSearch requests,
 * so "proxy minus direct" is what one more HTTP hop costs here, before the gateway does any work.
 *
 *   node dist/bench/bare-proxy.js <opensearch-url>     prints its port on stdout, serves until killed
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:9200');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const out = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, agent,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', 'content-length': body.length } }, (answer) => {
      const parts: Buffer[] = [];
      answer.on('data', (c: Buffer) => parts.push(c));
      answer.on('end', () => {
        res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
        res.end(Buffer.concat(parts));
      });
    });
    out.on('error', (err) => { res.writeHead(502); res.end(JSON.stringify({ error: { reason: err.message } })); });
    out.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
