/**
 * A subscription over /graphql/stream as a client sees it: one POST with `accept: text/event-stream`; a refusal is
 * a JSON answer with its status, an accepted subscription a stream of `next` / `complete` events (graphql-sse's
 * distinct-connections protocol) read here event by event.
 */
export interface SseEvent { event: string; data: any }

export interface Subscription {
  status: number;
  headers: Headers;
  /** The JSON body of a refusal (not a stream); undefined for a stream. */
  json: any;
  /** The text of a refusal. */
  text: string;
  /** The next `next`/`complete` event, or null when none came within `timeoutMs` or the stream ended. */
  next(timeoutMs?: number): Promise<SseEvent | null>;
  /** Disconnects (the server closes the tail). */
  close(): void;
}

export async function subscribe(base: string, token: string | null, query: string, variables: Record<string, unknown> = {},
  headers: Record<string, string> = {}): Promise<Subscription> {
  const abort = new AbortController();
  const res = await fetch(`${base}/graphql/stream`, {
    method: 'POST', signal: abort.signal,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, json, text, next: async () => null, close: () => abort.abort() };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseEvent[] = [];
  let ended = false;
  let reading: Promise<void> | null = null;
  const readMore = () => (reading ??= (async () => {
    try {
      const { value, done } = await reader.read();
      if (done) { ended = true; return; }
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = '';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        const text = data.join('\n');
        if (event) queue.push({ event, data: text ? JSON.parse(text) : null });
      }
    } catch { ended = true; } finally { reading = null; }
  })());
  return {
    status: res.status, headers: res.headers, json: undefined, text: '',
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0 && !ended) {
        const left = deadline - Date.now();
        if (left <= 0) return null;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([readMore(), new Promise((r) => { timer = setTimeout(r, left); })]);
        clearTimeout(timer);
      }
      return queue.shift() ?? null;
    },
    close() { abort.abort(); },
  };
}

/** Reads `next` events until `until` holds for what was read, or `timeoutMs` passes; returns the payloads. */
export async function collect(sub: Subscription, until: (payloads: any[]) => boolean, timeoutMs: number): Promise<any[]> {
  const payloads: any[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(payloads)) {
    const e = await sub.next(Math.max(1, deadline - Date.now()));
    if (!e || e.event === 'complete') break;
    payloads.push(e.data);
  }
  return payloads;
}
