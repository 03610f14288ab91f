/** Stored documents -> GraphQL objects of the query path. Pure; every field named, no casts. */
import type { AuditEventDocument } from './event.document';
import type { AuditEventNode } from './audit-events.types';
import { cutParameters, cutUtf8, EventTextBounds } from './text-cut';

/**
 * STABLE non-null fields get "" / 0 where the log format did not carry them (stderr prefixes without %u/%d/%c/%l).
 * With `bounds` (event lists), the statement and parameters are cut and flagged; without (a single event), whole.
 */
export function toAuditEventNode(d: AuditEventDocument, bounds: EventTextBounds | null = null): AuditEventNode {
  const statement = d.statement === null ? null : cutUtf8(d.statement, bounds ? bounds.textMaxBytes : Number.POSITIVE_INFINITY);
  const parameters = d.parameters === null ? null
    : bounds ? cutParameters(d.parameters, bounds) : { values: d.parameters, truncated: false };
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
    statement: statement?.text ?? null,
    statementTruncated: statement?.truncated ?? false,
    statementBytes: statement?.bytes ?? null,
    parameters: parameters?.values ?? null,
    parametersTruncated: parameters?.truncated ?? false,
    rows: d.rows,
    user: d.user ?? '',
    database: d.database ?? '',
    sessionId: d.sessionId ?? '',
    sessionLineNum: d.sessionLineNum ?? 0,
    applicationName: d.applicationName,
    remoteHost: d.remoteHost,
    redaction: d.redaction ?? null,
    ingestedAt: d.ingestedAt ? new Date(d.ingestedAt) : null,
  };
}
