/**
 * The shared mode of the raw-index source (raw-shared.source.ts): a log integration writes many services into one
 * index pattern, told apart by each document's `HOSTNAME`; an operator maps (pattern, host) -> service (admin
 * raw-host) and one process routes every document by it. What is pure of it: what an index pattern and a host may
 * be, how a host is compared (hostnames are case-insensitive; a trailing dot names the same host), and the routing
 * table of one pass. No I/O, never throws on a document.
 */

/** An index name or pattern as `ingest --raw-index` takes it: lower-case letters, digits, . _ - and *. */
const INDEX_PATTERN = /^[a-z0-9][a-z0-9._*-]{0,254}$/;

/** A hostname (RFC 1123 labels, lower-cased): what `admin raw-host --host` takes and what a mapping stores. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function isRawIndexPattern(pattern: string): boolean {
  return INDEX_PATTERN.test(pattern);
}

/** A host as compared and stored: lower case, without a trailing dot. */
export function normalHost(host: string): string {
  return (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
}

/** The host as stored, or null when it is not a hostname. */
export function hostnameOf(host: string): string | null {
  const h = normalHost(host);
  return HOSTNAME.test(h) ? h : null;
}

/** A mapped host's service, as the encoder stamps it. */
export interface RawHostService { id: string; projectId: string; organizationId: string }

/** Where one raw document goes: the service its host is mapped to, or why it belongs to no tenant. */
export type RawHostRoute = { kind: 'service'; service: RawHostService } | { kind: 'unmapped'; host: string | null };

/** The longest host a dead letter names (a document's HOSTNAME is the integration's, not checked). */
const MAX_CLAIM_CHARS = 253;

/** One read of a pattern's mapping: a document's HOSTNAME -> its service. */
export class RawHostTable {
  private readonly byHost = new Map<string, RawHostService>();

  constructor(rows: Iterable<{ host: string; service: RawHostService }>) {
    for (const r of rows) this.byHost.set(normalHost(r.host), r.service);
  }

  get size(): number { return this.byHost.size; }

  /** The route of a document whose host field holds `host` (anything: a missing or non-text host is unmapped). */
  route(host: unknown): RawHostRoute {
    if (typeof host !== 'string' || host === '') return { kind: 'unmapped', host: null };
    const service = this.byHost.get(normalHost(host));
    return service ? { kind: 'service', service } : { kind: 'unmapped', host: host.slice(0, MAX_CLAIM_CHARS) };
  }
}
