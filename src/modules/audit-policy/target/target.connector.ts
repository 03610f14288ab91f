/** Opens target sessions with the configured timeouts and always closes them: the one way the control path connects. */
import type { GatewayConfig } from '../../../base/config';
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import { refusedByServer, TargetSession } from './target.session';

export type TargetTimeouts = Pick<GatewayConfig, 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs'>;

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
  constructor(private readonly timeouts: TargetTimeouts, private readonly recorder: TargetConnectionRecorder = NO_RECORDER) {}

  /** Runs `fn` on a fresh connection to the service (its default database, or `database`), then closes it. */
  async with<T>(service: ServiceRecord, database: string | undefined, fn: (s: TargetSession) => Promise<T>): Promise<T> {
    let session: TargetSession;
    try {
      session = await TargetSession.open(service.connectionUrl, {
        connectTimeoutMs: this.timeouts.targetConnectTimeoutMs, statementTimeoutMs: this.timeouts.targetStatementTimeoutMs }, database);
    } catch (err) {
      if (refusedByServer(err)) this.recorder.refused(); else this.recorder.unreachable();
      throw err;
    }
    this.recorder.opened();
    try { return await fn(session); } finally { await session.close(); this.recorder.closed(); }
  }
}
