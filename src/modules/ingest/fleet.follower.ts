/**
 * Fleet mode: one process follows the log directories of many services, and several such processes share them.
 * Under a log root, each directory named by a service id is that service's log directory (`<root>/<service id>/`,
 * read as `ingest --log-dir` reads one: csvlog or jsonlog files, checkpoints per file in the gateway database).
 *
 * Who reads what is decided by leases in the gateway database (lease.repository.ts): a process reads a service only
 * while it holds the service's lease, renews its leases every third of their time to live, and takes expired ones.
 * Each process aims at its fair share, ceil(services / running processes), taking leases up to it and giving back
 * what is over it, so a process that joins gets work and the services of one that dies move to the others once
 * its leases expire. A process that stalls past its leases' expiry while another takes them may read a few records
 * again: their ids are derived from the records, so nothing is stored twice.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from '../../base/logger';
import { pause } from '../../base/pause';
import type { EventStore } from '../audit-events/event.store';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { Ingester } from './ingester';
import type { LeaseRepository } from './lease.repository';

const UUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

export interface FleetOptions {
  /** The directory holding one log directory per service, named by its id. */
  logRoot: string;
  /** How long a lease (and this process's presence) lasts unless renewed; default 30 s. */
  leaseTtlMs?: number;
  /** Time between passes over the held services; default 1 s. */
  pollMs?: number;
  /** At most this many services at once, whatever the fair share; default 1000. */
  maxServices?: number;
  /** With it, the hourly retention sweep of `follow`. */
  retentionDays?: number;
  deadLetterRetentionDays?: number;
}

export interface FleetDeps {
  store: EventStore;
  logger: Logger;
  leases: LeaseRepository;
  /** A service by id (operator lookup), or null. */
  service(id: string): Promise<ServiceRecord | null>;
  /** The ingester of a service's log directory (made once per service, on its first lease). */
  ingester(service: ServiceRecord, logDir: string): Ingester;
}

export class FleetFollower {
  /** This process in the lease table: host, pid and a random part (a restarted process is another holder). */
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private held = new Set<string>();
  private readonly ingesters = new Map<string, Ingester>();
  private readonly unknown = new Set<string>();
  private readonly ttl: number;

  constructor(private readonly deps: FleetDeps, private readonly opts: FleetOptions) {
    this.ttl = opts.leaseTtlMs ?? 30_000;
  }

  /** The services this process holds now. */
  get services(): ReadonlySet<string> { return this.held; }

  /** Passes over the held services until `signal` aborts; then gives its leases back at once (they need not expire). */
  async run(signal: AbortSignal): Promise<void> {
    // renewal apart from the passes: a long pass over a big backlog never lets a lease lapse
    const renewal = setInterval(() => { void this.renew().catch((err: Error) => this.deps.logger.warn('lease renewal failed', { error: err.message })); },
      Math.max(100, Math.floor(this.ttl / 3)));
    let lastExpiry = 0;
    try {
      while (!signal.aborted) {
        try {
          await this.rebalance();
          for (const id of [...this.held].sort()) {
            if (signal.aborted) break;
            if (!this.held.has(id)) continue;   // lost meanwhile
            const stats = await this.ingesterOf(id)?.runOnce();
            if (stats && (stats.events || stats.malformed || stats.sessionEvents)) this.deps.logger.info('ingested', { serviceId: id, ...stats });
          }
          if (this.opts.retentionDays && Date.now() - lastExpiry > 3_600_000) {
            const expired = await this.deps.store.expire(this.opts.retentionDays, new Date(), this.opts.deadLetterRetentionDays ?? this.opts.retentionDays);
            lastExpiry = Date.now();
            if (expired.length) this.deps.logger.info('expired audit event indices', { indices: expired });
          }
        } catch (err) {
          this.deps.logger.warn('fleet pass failed; retrying', { error: (err as Error).message });
        }
        await pause(this.opts.pollMs ?? 1000, signal);
      }
    } finally {
      clearInterval(renewal);
      await this.deps.leases.release(this.holder).catch((err: Error) => this.deps.logger.warn('leases not released (they expire)', { error: err.message }));
    }
  }

  private async renew(): Promise<void> {
    await this.deps.leases.present(this.holder, this.ttl);
    this.held = new Set(await this.deps.leases.renew(this.holder, this.ttl));
  }

  /** Takes leases up to the fair share, or gives back what is over it. */
  private async rebalance(): Promise<void> {
    const running = await this.deps.leases.present(this.holder, this.ttl);
    this.held = new Set(await this.deps.leases.renew(this.holder, this.ttl));
    const candidates = await this.serviceDirs();
    const share = Math.min(this.opts.maxServices ?? 1000, Math.ceil(candidates.length / Math.max(1, running)));
    if (this.held.size > share) {
      const over = [...this.held].sort().slice(share);
      await this.deps.leases.release(this.holder, over);
      for (const id of over) this.held.delete(id);
      this.deps.logger.info('leases given back', { services: over.length, share });
      return;
    }
    // in a random order, so that processes starting together do not all try the same services first
    for (const id of shuffle(candidates.filter((c) => !this.held.has(c)))) {
      if (this.held.size >= share) break;
      if (await this.deps.leases.claim(this.holder, id, this.ttl)) this.held.add(id);
    }
  }

  /** The service ids under the log root that tenancy knows (an unknown one is logged once and left alone). */
  private async serviceDirs(): Promise<string[]> {
    const entries = await readdir(this.opts.logRoot, { withFileTypes: true });
    const ids: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !UUID.test(e.name)) continue;
      const id = e.name.toLowerCase();
      if (this.unknown.has(id)) continue;
      if (this.ingesters.has(id) || (await this.known(id, e.name))) ids.push(id);
    }
    return ids;
  }

  private async known(id: string, directory: string): Promise<boolean> {
    const service = await this.deps.service(id);
    if (!service) {
      this.unknown.add(id);
      this.deps.logger.warn('a log directory names no service: left alone', { directory: id });
      return false;
    }
    this.ingesters.set(id, this.deps.ingester(service, path.join(this.opts.logRoot, directory)));
    return true;
  }

  private ingesterOf(id: string): Ingester | undefined { return this.ingesters.get(id); }
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
