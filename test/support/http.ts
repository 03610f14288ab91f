/** HTTP as a client sees it: the real server of a test gateway on an ephemeral port, requests through fetch. */
import { startHttpServer } from '../../src/api/http-server';
import type { HttpLimits } from '../../src/base/config';
import { Logger, silentLogger } from '../../src/base/logger';
import type { TestGateway } from './harness';

export interface Reply { status: number; headers: Headers; text: string; json: any }

/** The real HTTP server (startHttpServer) in front of a test gateway, on 127.0.0.1 and a free port. */
export async function startHttp(g: TestGateway, maxBodyBytes: number, limits?: HttpLimits, logger: Logger = silentLogger)
  : Promise<{ port: number; base: string; close(): Promise<void> }> {
  const http = await startHttpServer({ ...g.gateway, logger, maxBodyBytes, http: limits }, 0, '127.0.0.1');
  return { port: http.port, base: `http://127.0.0.1:${http.port}`, close: () => http.close() };
}

/** One request; the body read as text and, when it is JSON, parsed (json: undefined otherwise). */
export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** POST /graphql as a well-behaved client sends it (content-type: application/json, needed for Apollo's CSRF prevention), `body` as is. */
export function graphqlPost(body: string, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body };
}

export const bearer = (token: string) => `Bearer ${token}`;
