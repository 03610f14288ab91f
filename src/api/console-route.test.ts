import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CONSOLE_CSP, loadConsole } from './console-route';

/** A GET of `pathname` through `serve`, its answer captured (no socket I/O). */
function get(files: ReturnType<typeof loadConsole>, pathname: string, headers: Record<string, string> = {}, method = 'GET') {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.headers = headers;
  const res = new ServerResponse(req);
  let status = 0;
  let head: Record<string, string> = {};
  let body = Buffer.alloc(0);
  res.writeHead = ((s: number, h: Record<string, string>) => { status = s; head = h; return res; }) as never;
  res.end = ((b?: Buffer | string) => { body = b === undefined ? Buffer.alloc(0) : Buffer.from(b); return res; }) as never;
  files.serve(req, res, pathname, 'rid');
  return { status, head, body };
}

describe('the console\'s static files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1.js"></script>');
  writeFileSync(path.join(dir, 'explorer.html'), '<!doctype html><script type="module" src="/assets/explorer-1.js"></script>');
  const js = 'console.log("x");\n'.repeat(200);
  writeFileSync(path.join(dir, 'assets', 'app-1.js'), js);
  writeFileSync(path.join(dir, 'assets', 'notes.txt'), 'a kind of file the console never serves');
  const files = loadConsole(dir);

  it('/ is index.html, never cached without asking again, with the policy', () => {
    const r = get(files, '/');
    expect(r.status).toBe(200);
    expect(r.head).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'x-request-id': 'rid' });
    expect(r.body.toString()).toContain('/assets/app-1.js');
  });
  it('/explorer is explorer.html, with the same headers as /', () => {
    const r = get(files, '/explorer');
    expect(r.status).toBe(200);
    expect(r.head).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'x-request-id': 'rid' });
    expect(r.body.toString()).toContain('/assets/explorer-1.js');
  });
  it('a hashed asset is immutable, gzipped when the client takes it, whole otherwise; HEAD has no body', () => {
    const gz = get(files, '/assets/app-1.js', { 'accept-encoding': 'gzip, br' });
    expect(gz.head).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(gunzipSync(gz.body).toString()).toBe(js);
    const plain = get(files, '/assets/app-1.js');
    expect(plain.head['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(js);
    expect(get(files, '/assets/app-1.js', {}, 'HEAD').body.length).toBe(0);
  });
  it.each(['/assets/notes.txt', '/assets/missing.js', '/assets/../index.html', '/index.html', '/assets/', '/explorer.html', '/explorer/', '/assets/../explorer.html'])('%s is 404 (only the table\'s paths exist)', (p) => {
    const r = get(files, p);
    expect(r.status).toBe(404);
    expect(r.head['content-security-policy']).toBe(CONSOLE_CSP);
  });
  it.each(['/', '/explorer'])('without a build, %s says how to make one (503)', (p) => {
    const r = get(loadConsole(path.join(dir, 'nowhere')), p);
    expect(r.status).toBe(503);
    expect(r.body.toString()).toContain('npm run build');
  });
});
