/** OpenSearch over plain HTTP (Node's fetch, no client library in between), for checks on what was stored. */

/** One request to the node at `url`; JSON in and out; throws on a non-2xx answer (with its body). */
export async function openSearch<T = any>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
