/** Opens target sessions with the configured timeouts and always closes them: the one way the control path connects. */
import type { GatewayConfig } from '../../../base/config';
import type { ServiceRecord } from '../../tenancy/tenancy.repository';
import { TargetSession } from './target.session';

export type TargetTimeouts = Pick<GatewayConfig, 'targetConnectTimeoutMs' | 'targetStatementTimeoutMs'>;

export class TargetConnector {
  constructor(private readonly timeouts: TargetTimeouts) {}

  /** Runs `fn` on a fresh connection to the service (its default database, or `database`), then closes it. */
  async with<T>(service: ServiceRecord, database: string | undefined, fn: (s: TargetSession) => Promise<T>): Promise<T> {
    const session = await TargetSession.open(service.connectionUrl, {
      connectTimeoutMs: this.timeouts.targetConnectTimeoutMs, statementTimeoutMs: this.timeouts.targetStatementTimeoutMs }, database);
    try { return await fn(session); } finally { await session.close(); }
  }
}
