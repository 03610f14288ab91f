/**
 * What one request holds of the customers' servers: per service, one of the connector's slots and one
 * connection to its default database, lent to the request's resolvers one at a time (aliases and fields
 * share it), and given back by close() when the request ends. The design is in this module's README
 * ("One connection per service per request").
 */
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import type { TargetConnector } from './target.connector';
import type { TargetSession } from './target.session';

/** One service as the request holds it. */
interface Held {
  /** The slot; a refusal (SERVICE_BUSY) stays: the request does not ask twice. */
  slot: Promise<() => void>;
  /** The connection, opened by the first borrower; a failure to connect stays too, a dropped connection is replaced. */
  session: Promise<TargetSession> | null;
  /** The end of the borrowers' queue: each runs once the one before it has settled. */
  tail: Promise<unknown>;
}

export class RequestEnded extends Error {
  constructor() { super('the request ended before this field reached its service'); }
}

export class TargetLease {
  private readonly held = new Map<string, Held>();
  private ended = false;

  constructor(private readonly connector: TargetConnector) {}

  /** Runs `fn` on the request's connection to the service's default database, after the borrowers queued before it. */
  with<T>(service: ServiceRecord, fn: (s: TargetSession) => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(new RequestEnded());
    let held = this.held.get(service.id);
    if (!held) {
      held = { slot: this.connector.acquire(service), session: null, tail: Promise.resolve() };
      held.slot.catch(() => undefined);   // observed by each borrower
      this.held.set(service.id, held);
    }
    const h = held;
    const turn = h.tail.then(async () => {
      if (this.ended) throw new RequestEnded();
      await h.slot;
      if (!h.session || (await h.session.then((s) => s.broken, () => false))) {
        const dropped = h.session;
        h.session = this.connector.open(service, undefined);
        await dropped?.then((s) => this.connector.close(s), () => undefined);
      }
      const session = await h.session;
      try { return await fn(session); } finally { await session.resetRole().catch(() => undefined); }
    });
    h.tail = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Runs `fn` on a short-lived connection to another database of the service (a database-level enable reads
   * and creates the extension there). Only from inside with() for the same service: it uses the slot held there.
   */
  withDatabase<T>(service: ServiceRecord, database: string, fn: (s: TargetSession) => Promise<T>): Promise<T> {
    if (!this.held.has(service.id)) throw new Error('withDatabase outside with() for the service');
    return this.connector.with(service, database, fn, true);
  }

  /** Waits for the borrower running now, refuses the queued ones, closes the connections and gives the slots back. */
  async close(): Promise<void> {
    this.ended = true;
    await Promise.all([...this.held.values()].map(async (h) => {
      await h.tail;
      const session = await h.session?.catch(() => null);
      if (session) await this.connector.close(session);
      (await h.slot.catch(() => null))?.();
    }));
    this.held.clear();
  }
}
