/** Stored documents -> GraphQL objects of the query path. Pure; every field named, no casts. */
import type { AuditEventDocument } from './event.document';
import type { AuditEventNode } from './audit-events.types';

/** STABLE non-null fields get "" / 0 where the log format did not carry them (stderr prefixes without %u/%d/%c/%l). */
export function toAuditEventNode(d: AuditEventDocument): AuditEventNode {
  return {
    id: d.id,
    timestamp: new Date(d.timestamp),
    auditType: d.auditType,
    statementId: d.statementId,
    substatementId: d.substatementId,
    class: d.class,
    command: d.command,
    objectType: d.objectType,
    objectName: d.objectName,
    statement: d.statement,
    parameters: d.parameters,
    rows: d.rows,
    user: d.user ?? '',
    database: d.database ?? '',
    sessionId: d.sessionId ?? '',
    sessionLineNum: d.sessionLineNum ?? 0,
    applicationName: d.applicationName,
    remoteHost: d.remoteHost,
  };
}
