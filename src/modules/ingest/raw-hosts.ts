/**
 * The shared mode of the raw-index source (raw-shared.source.ts): a log integration writes many services into one
 * index pattern, told apart by each document's `HOSTNAME`; an operator maps (pattern, host) -> service (admin
 * raw-host) and one process routes every document by it. What is pure of it: what an index pattern and a host may
 * be, how a host is compared (hostnames are case-insensitive; a trailing dot names the same host), the routing
 * table of one pass, and the count of what one pass skipped (`UnmappedHosts`). No I/O, never throws on a document.
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

/** The longest host kept of an unmapped document (a document's HOSTNAME is the integration's, not checked). */
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

/** Distinct unmapped hosts one pass tells apart at most; the documents of further hosts are counted, not their hosts. */
export const MAX_UNMAPPED_HOSTS = 10_000;

/** One unmapped host (null: documents without a HOSTNAME) and its documents of the pass. */
export interface UnmappedHostCount { host: string | null; documents: number }

/** What one pass skipped, as its log line says it: the most frequent hosts, then how many more. */
export interface UnmappedSummary {
  /** Documents skipped. */
  documents: number;
  /** Distinct hosts they came from (no HOSTNAME counts as one), up to MAX_UNMAPPED_HOSTS. */
  hosts: number;
  /** At most `limit` hosts, the most documents first (then by host). */
  top: UnmappedHostCount[];
  /** Hosts counted and not in `top`. */
  moreHosts: number;
  /** Documents of hosts past MAX_UNMAPPED_HOSTS (their hosts not told apart): 0 unless a pass met that many. */
  untracked: number;
}

/**
 * The documents of hosts mapped to no service that one pass skipped, by host (as compared: without case and
 * trailing dot). Bounded: at most `maxHosts` hosts are told apart, each at most 253 characters (RawHostTable.route).
 */
export class UnmappedHosts {
  private readonly byHost = new Map<string | null, number>();
  private total = 0;
  private untracked = 0;

  constructor(private readonly maxHosts = MAX_UNMAPPED_HOSTS) {}

  /** One skipped document of `host` (null: it had none). */
  add(host: string | null): void {
    this.total += 1;
    const key = host === null ? null : normalHost(host);
    const n = this.byHost.get(key);
    if (n !== undefined) this.byHost.set(key, n + 1);
    else if (this.byHost.size < this.maxHosts) this.byHost.set(key, 1);
    else this.untracked += 1;
  }

  get documents(): number { return this.total; }

  get hosts(): number { return this.byHost.size; }

  /** The `limit` hosts with the most documents (ties by host, no HOSTNAME last), and how many more there were. */
  summary(limit = 10): UnmappedSummary {
    const top: UnmappedHostCount[] = [];
    for (const [host, documents] of this.byHost) {
      const c = { host, documents };
      // a sorted list of at most `limit`: one pass over the hosts, never a sort of them all
      let i = top.length;
      while (i > 0 && before(c, top[i - 1]!)) i -= 1;
      if (i < limit) { top.splice(i, 0, c); if (top.length > limit) top.pop(); }
    }
    return { documents: this.total, hosts: this.byHost.size, top, moreHosts: this.byHost.size - top.length, untracked: this.untracked };
  }
}

/** Whether `a` comes before `b` in a summary: more documents, then by host, no HOSTNAME last. */
function before(a: UnmappedHostCount, b: UnmappedHostCount): boolean {
  if (a.documents !== b.documents) return a.documents > b.documents;
  if (a.host === null || b.host === null) return b.host === null && a.host !== null;
  return a.host < b.host;
}
