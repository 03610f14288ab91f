/**
 * The hostile suite's client and judge: sends one HostileRequest on a raw socket and reads every answer on it;
 * then says what is wrong with the answer (a 5xx, no answer at all, a leak). Pure apart from the socket.
 */
import net from 'node:net';
import type { HostileRequest } from './hostile-corpus';

export interface WireReply {
  /** Status codes of every answer read on the connection (pipelined requests get several). */
  statuses: number[];
  /** The answers' heads and bodies as text (chunked bodies de-chunked), for the leak checks. */
  text: string;
  /** The server closed the connection (or reset it) before `waitMs`. */
  closed: boolean;
  ms: number;
}

/** Writes the request's chunks on a new connection; reads until the server closes it or `waitMs` pass. */
export function sendRaw(port: number, req: HostileRequest, waitMs: number): Promise<WireReply> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(received).toString('latin1');
      const statuses = [...raw.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, text: answerText(Buffer.concat(received)), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => { received.push(d); });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));   // ECONNRESET, EPIPE: the server dropped us
    socket.on('connect', async () => {
      for (const [i, c] of req.chunks.entries()) {
        if (i > 0 && req.gapMs) await new Promise((r) => setTimeout(r, req.gapMs));
        if (!socket.writable) return;
        socket.write(c);
      }
      if (req.abort) { socket.destroy(); setTimeout(() => finish(true), 50); }
    });
  });
}

/**
 * The answers as text: a single chunked answer de-chunked (so a marker split by chunk framing is still found);
 * anything else (pipelined answers, a broken frame) as received.
 */
export function answerText(raw: Buffer): string {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return raw.toString('utf8');
  const head = raw.subarray(0, headEnd).toString('latin1');
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return raw.toString('utf8');
  const parts: Buffer[] = [];
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return raw.toString('utf8');
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return raw.toString('utf8');
    if (size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return `${head}\r\n\r\n${Buffer.concat(parts).toString('utf8')}`;
}

/** What must never appear in an answer. `excused`: where a match may only be the client's own text echoed back. */
export interface LeakRule { name: string; pattern: RegExp; excusedBy?: string }

/**
 * Every pattern runs in linear time (answers may hold 100,000 characters of one class: no unbounded run before
 * a required suffix). The rules: stack frames, file paths, connection URLs and the clusters' credentials, tokens, and another
 * tenant's markers. Generic patterns (a path, a stack-looking line) are excused when the matched text is in
 * `clientText` (every string the corpus sends: an error may quote a value, a revision keeps a reason); the
 * secrets and the other tenant's markers never are.
 */
export function leakRules(opts: { secrets: string[]; foreignMarkers: string[]; root: string; clusterPorts: number[]; clientText: string }): LeakRule[] {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    { name: 'stack trace', pattern: /\bat (?:async )?[\w$.<>]{1,200} \([^)\n]{0,300}:\d+:\d+\)|\n {2,}at |"stacktrace"/, excusedBy: opts.clientText },
    { name: 'source path', pattern: /\.(?:ts|js|mjs|cjs):\d+|node_modules|\bdist\/src\b|\/src\/(?:api|base|modules|cli)\//, excusedBy: opts.clientText },
    { name: 'filesystem path', pattern: /\/(?:home|root|usr|var|opt|tmp|work|srv|etc|proc|run|data)\/[\w.-]*\w/, excusedBy: opts.clientText },
    { name: 'repository path', pattern: new RegExp(esc(opts.root)) },
    { name: 'connection URL', pattern: /postgres(?:ql)?:\/\/|opensearch:\/\/|https?:\/\/127\.0\.0\.1:\d+/ },
    ...opts.clusterPorts.map((p) => ({ name: `cluster port ${p}`, pattern: new RegExp(`(?:127\\.0\\.0\\.1|localhost)[:/ ]${p}\\b|port ${p}\\b|:${p}/`) })),
    ...opts.secrets.map((s, i) => ({ name: `secret #${i + 1}`, pattern: new RegExp(esc(s)) })),
    { name: 'token', pattern: /pga_[A-Za-z0-9_-]{8,}/ },
    ...opts.foreignMarkers.map((m, i) => ({ name: `other tenant's marker #${i + 1}`, pattern: new RegExp(esc(m)) })),
  ];
}

/** The rules `text` breaks, with the offending excerpt. */
export function leaksIn(text: string, rules: LeakRule[]): { rule: string; excerpt: string }[] {
  const out: { rule: string; excerpt: string }[] = [];
  for (const rule of rules) {
    const re = new RegExp(rule.pattern.source, rule.pattern.flags.includes('g') ? rule.pattern.flags : `${rule.pattern.flags}g`);
    for (const m of text.matchAll(re)) {
      if (rule.excusedBy !== undefined && rule.excusedBy.includes(m[0])) continue;
      out.push({ rule: rule.name, excerpt: text.slice(Math.max(0, m.index! - 80), m.index! + m[0].length + 80) });
      break;
    }
  }
  return out;
}
