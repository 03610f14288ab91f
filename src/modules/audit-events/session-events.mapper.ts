/** Stored session documents -> the GraphQL `SessionEvent`. Pure; every field named. */
import type { SessionEventDocument } from './session.document';
import type { SessionEventNode } from './session-events.types';

const INT_MAX = 2 ** 31 - 1;

export function toSessionEventNode(d: SessionEventDocument): SessionEventNode {
  return {
    id: d.id,
    timestamp: new Date(d.timestamp),
    kind: d.kind,
    user: d.user,
    database: d.database,
    remoteHost: d.remoteHost,
    remotePort: d.remotePort,
    applicationName: d.applicationName,
    sessionId: d.sessionId,
    // GraphQL Int is 32 bits: a line number or duration beyond it is capped, never an error
    sessionLineNum: d.sessionLineNum === null ? null : Math.min(d.sessionLineNum, INT_MAX),
    durationMs: d.durationMs === null ? null : Math.min(d.durationMs, INT_MAX),
    failureReason: d.failureReason,
    replication: d.replication,
    sslProtocol: d.sslProtocol,
    sslCipher: d.sslCipher,
    sslBits: d.sslBits,
    message: d.message,
  };
}
