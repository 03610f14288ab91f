/**
 * The browser console (console/, built by `npm run build` into dist/console/) served as static files: `/` is
 * its index.html, `/explorer` the API explorer (explorer.html, GraphiQL), `/assets/<name>` their hashed scripts
 * and styles. The built files are read once, at start-up, into a table of path -> bytes (and their gzip); a
 * request's path is only ever looked up in that table, never joined to a file path, so no request can reach
 * another file. Every answer carries a strict Content-Security-Policy (scripts, styles and requests to this
 * origin only; no inline script; no framing).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { projectRoot } from '../base/paths';

/** The console's Content-Security-Policy: its own origin only (the GraphQL API included), nothing inline, never framed. */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Content types by extension: a built file of any other kind is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json; charset=utf-8',
};

/** Headers of every console answer. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin',
};

/** The pages, by path: never cached without asking again (each names the hashed assets of the current build). */
const PAGES: Readonly<Record<string, string>> = { '/': 'index.html', '/explorer': 'explorer.html' };

interface StaticFile { body: Buffer; gzip: Buffer | null; type: string; cacheControl: string }

export interface ConsoleFiles {
  /** Answers GET/HEAD of a path it owns: the file, or 404 (and 503 for a page when the console was not built). */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string, requestId: string): void;
}

/** The built console in `dir` (the build's dist/console by default), read now; without it the pages say how to build it. */
export function loadConsole(dir = path.join(projectRoot(), 'dist', 'console')): ConsoleFiles {
  const files = new Map<string, StaticFile>();
  const add = (urlPath: string, file: string, cacheControl: string) => {
    const type = CONTENT_TYPES[path.extname(file)];
    if (!type) return;
    const body = readFileSync(file);
    const gzip = body.length >= 1024 ? gzipSync(body, { level: 9 }) : null;
    files.set(urlPath, { body, gzip: gzip && gzip.length < body.length ? gzip : null, type, cacheControl });
  };
  let built = true;
  try {
    for (const [urlPath, file] of Object.entries(PAGES)) add(urlPath, path.join(dir, file), 'no-cache');
    // Vite names every asset by its content hash: a name never changes content, so it may be kept for a year
    for (const name of readdirSync(path.join(dir, 'assets'))) add(`/assets/${name}`, path.join(dir, 'assets', name), 'public, max-age=31536000, immutable');
  } catch { built = false; files.clear(); }

  return {
    serve(req, res, pathname, requestId) {
      const file = files.get(pathname);
      if (!file) {
        const status = !built && Object.hasOwn(PAGES, pathname) ? 503 : 404;
        res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'x-request-id': requestId, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : status === 503 ? 'The console is not built: run npm run build.\n' : 'Not found.\n');
        return;
      }
      const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? file.gzip : null;
      const body = gzip ?? file.body;
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': file.cacheControl, 'content-length': String(body.length),
        vary: 'accept-encoding', 'x-request-id': requestId, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
