/**
 * Opens target sessions with the configured timeouts and always closes them: the one way the control path
 * connects. It also protects each customer's server from this process: at most `targetMaxConnectionsPerService`
 * requests hold connections to one service at once (others wait their turn, up to the connect timeout, then
 * get SERVICE_BUSY); a request holding one may open one nested connection at a time (the scope's database),
 * so one service never sees more than twice the cap from this process. A request holds its slot and its
 * connection through a TargetLease (target.lease.ts); `with` is the one-off form.
 */
import type { GatewayConfig } from '../../../base/config';
import { AuditErrorCode, refuse } from '../audit-policy.errors';
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import type { CredentialVault } from '../../tenancy/service-credential';
import { refusedByServer, TargetSession } from './target.session';

export type TargetTimeouts = Pick<GatewayConfig, 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs' | 'targetLockTimeoutMs' | 'targetMaxConnectionsPerService' | 'targetTls'>;

/** SERVICE_BUSY's text (a query's top-level error carries it beside the code SERVICE_UNAVAILABLE). */
export const SERVICE_BUSY_MESSAGE = 'the gateway is already using as many connections to this service as it allows; nothing was changed: retry shortly';

/** A counting semaphore with a FIFO queue and a wait deadline. */
class Slots {
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  get idle(): boolean { return this.busy === 0 && this.waiting.length === 0; }

  /** Resolves true with a slot held, or false when none came free within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<boolean> {
    if (this.busy < this.size) { this.busy += 1; return Promise.resolve(true); }
    return new Promise((resolve) => {
      const grant = () => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();          // the slot passes straight to the next in line
    else this.busy -= 1;
  }
}

/** What the connector reports about connections (metrics); it never learns which service. */
export interface TargetConnectionRecorder {
  opened(): void;
  closed(): void;
  /** the server answered and refused (authentication, too many connections, no such database) */
  refused(): void;
  /** no answer: network error or connect timeout */
  unreachable(): void;
}

const NO_RECORDER: TargetConnectionRecorder = { opened() {}, closed() {}, refused() {}, unreachable() {} };

export class TargetConnector {
  private readonly slots = new Map<string, Slots>();

  /** `vault` opens each service's sealed credential, here and only here, for the session being opened. */
  constructor(private readonly timeouts: TargetTimeouts, private readonly vault: Pick<CredentialVault, 'open'>, private readonly recorder: TargetConnectionRecorder = NO_RECORDER) {}

  /**
   * Runs `fn` on a fresh connection to the service (its default database, or `database`), then closes it.
   * Waits for one of the service's slots first, unless `nested`: a connection opened while the same request
   * already holds one (it must not wait for itself).
   */
  async with<T>(service: ServiceRecord, database: string | undefined, fn: (s: TargetSession) => Promise<T>, nested = false): Promise<T> {
    const release = nested ? null : await this.acquire(service);
    try {
      const session = await this.open(service, database);
      try { return await fn(session); } finally { await this.close(session); }
    } finally { release?.(); }
  }

  /** A slot of the service, held until the returned function is called; SERVICE_BUSY when none came free within the connect timeout. */
  async acquire(service: ServiceRecord): Promise<() => void> {
    let slots = this.slots.get(service.id);
    if (!slots) { slots = new Slots(this.timeouts.targetMaxConnectionsPerService); this.slots.set(service.id, slots); }
    if (!(await slots.acquire(this.timeouts.targetConnectTimeoutMs))) {
      if (slots.idle) this.slots.delete(service.id);
      throw refuse(AuditErrorCode.SERVICE_BUSY, SERVICE_BUSY_MESSAGE, ['input', 'serviceId']);
    }
    const held = slots;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.release();
      if (held.idle && this.slots.get(service.id) === held) this.slots.delete(service.id);
    };
  }

  /** A new session to the service (its default database, or `database`); the caller holds one of its slots and closes it with close(). */
  async open(service: ServiceRecord, database: string | undefined): Promise<TargetSession> {
    let session: TargetSession;
    // Decrypted here, for this one call: the URL is handed to the pg client and kept in no record, log or error
    // (CREDENTIALS_UNREADABLE, thrown before any connection, names the service only).
    const url = this.vault.open(service);
    try {
      session = await TargetSession.open(url, {
        connectTimeoutMs: this.timeouts.targetConnectTimeoutMs, statementTimeoutMs: this.timeouts.targetStatementTimeoutMs,
        lockTimeoutMs: this.timeouts.targetLockTimeoutMs, tls: this.timeouts.targetTls }, database);
    } catch (err) {
      if (refusedByServer(err)) this.recorder.refused(); else this.recorder.unreachable();
      throw err;
    }
    this.recorder.opened();
    return session;
  }

  async close(session: TargetSession): Promise<void> {
    await session.close();
    this.recorder.closed();
  }
}
