/**
 * The operator's side of the shared raw-index mode (admin raw-host, admin list-raw-hosts): which service a host's
 * documents of a shared index pattern belong to. Every input is checked before anything is written, and a refusal
 * writes nothing: a malformed pattern or host, a service that does not exist, a host already mapped to another
 * service (unmap it first: documents are never moved between tenants by a second mapping), a pattern at its bound.
 * Mapping the same (pattern, host) to the same service again changes nothing and is not an error (automation may
 * repeat it).
 */
import { IngestError, IngestErrorCode } from './ingest.errors';
import { hostnameOf, isRawIndexPattern } from './raw-hosts';
import type { RawHostRow, RawIndexRepository } from './raw-index.repository';

const UUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
/** What a refusal repeats of the operator's input. */
const clip = (s: string) => s.slice(0, 64);

export class RawHostRegistry {
  constructor(
    private readonly repo: Pick<RawIndexRepository, 'mapHost' | 'unmapHost' | 'listHosts'>,
    /** Whether a service exists (operator lookup). */
    private readonly serviceExists: (id: string) => Promise<boolean>,
    /** INGEST_RAW_MAX_HOSTS. */
    private readonly maxHosts: number,
  ) {}

  /** Maps (pattern, host) to the service; `alreadyMapped` when exactly that mapping existed. */
  async map(indexPattern: string, host: string, serviceId: string): Promise<{ mapping: RawHostRow; alreadyMapped: boolean }> {
    const { pattern, hostname } = inputs(indexPattern, host);
    if (!UUID.test(serviceId)) throw new IngestError(IngestErrorCode.INVALID_INPUT, '--service takes a service id (a UUID)');
    const id = serviceId.toLowerCase();
    if (!(await this.serviceExists(id))) throw new IngestError(IngestErrorCode.SERVICE_NOT_FOUND, `service ${clip(id)} does not exist`);
    const r = await this.repo.mapHost(pattern, hostname, id, this.maxHosts);
    if (r.existing && r.existing.serviceId !== id) {
      throw new IngestError(IngestErrorCode.HOST_TAKEN, `host ${hostname} of ${pattern} is mapped to service ${r.existing.serviceId}; remove that mapping first (--remove)`);
    }
    if (r.full) throw new IngestError(IngestErrorCode.TOO_MANY_HOSTS, `${pattern} has ${this.maxHosts} mapped hosts, the most INGEST_RAW_MAX_HOSTS allows`);
    return { mapping: (r.existing ?? r.created)!, alreadyMapped: r.existing !== null };
  }

  /** Removes the mapping of (pattern, host) (only if it maps to `serviceId`, when given). */
  async unmap(indexPattern: string, host: string, serviceId?: string): Promise<RawHostRow> {
    const { pattern, hostname } = inputs(indexPattern, host);
    if (serviceId !== undefined && !UUID.test(serviceId)) throw new IngestError(IngestErrorCode.INVALID_INPUT, '--service takes a service id (a UUID)');
    const removed = await this.repo.unmapHost(pattern, hostname, serviceId?.toLowerCase());
    if (!removed) throw new IngestError(IngestErrorCode.HOST_NOT_MAPPED, `host ${hostname} of ${pattern} is not mapped${serviceId ? ` to service ${clip(serviceId)}` : ''}`);
    return removed;
  }

  /** Every mapping, or one pattern's. */
  async list(indexPattern?: string): Promise<RawHostRow[]> {
    if (indexPattern !== undefined) pattern(indexPattern);
    return this.repo.listHosts(indexPattern);
  }
}

function pattern(indexPattern: string): string {
  if (!isRawIndexPattern(indexPattern)) {
    throw new IngestError(IngestErrorCode.INVALID_INPUT, '--raw-index takes an index name or pattern (lower-case letters, digits, . _ - *)');
  }
  return indexPattern;
}

function inputs(indexPattern: string, host: string): { pattern: string; hostname: string } {
  const hostname = hostnameOf(host);
  if (hostname === null) throw new IngestError(IngestErrorCode.INVALID_INPUT, '--host takes a hostname (letters, digits, - and . labels)');
  return { pattern: pattern(indexPattern), hostname };
}
