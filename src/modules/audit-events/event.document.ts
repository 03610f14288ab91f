/**
 * The audit event as the store keeps it. This module owns the shape: the ingest path builds documents of
 * it and the query path reads them back, so ingest depends on audit-events and never the reverse.
 */

export const AUDIT_TYPES = ['SESSION', 'OBJECT'] as const;
export type AuditType = typeof AUDIT_TYPES[number];
export type StatementStatus = 'LOGGED' | 'NOT_LOGGED' | 'PREVIOUSLY_LOGGED';

/** What pgaudit itself wrote after `AUDIT: ` (the ingest path's parser produces exactly this). */
export interface PgauditFields {
  auditType: AuditType;
  /** Per-backend counter; pair it with the session id. */
  statementId: number;
  substatementId: number;
  /** READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET (any upper-case word is accepted for future classes). */
  class: string;
  command: string;
  objectType: string | null;
  objectName: string | null;
  /** null when not logged, previously logged, or empty; statementStatus tells which. */
  statement: string | null;
  statementStatus: StatementStatus;
  /** null: `<not logged>` / `<previously logged>`; []: `<none>`; else one string per parameter (NULL -> ''). */
  parameters: string[] | null;
  /** null when log_rows is off. */
  rows: number | null;
}

/**
 * One event without the tenant fields: the pgaudit fields plus the log record's identity and context.
 * user, database, sessionId and sessionLineNum are null when the log format does not carry them
 * (stderr prefixes without %u/%d/%c/%l).
 */
export interface AuditEvent extends PgauditFields {
  /** Deterministic (see ingest/audit-event.ts): re-reading a log overwrites instead of duplicating. */
  id: string;
  serviceId: string;
  /** ISO-8601 UTC. */
  timestamp: string;
  user: string | null;
  database: string | null;
  sessionId: string | null;
  sessionLineNum: number | null;
  applicationName: string | null;
  remoteHost: string | null;
  /** What redaction at ingest did to the event (src/modules/redaction); absent when its service had no rules on. */
  redaction?: EventRedaction;
}

/** Written by the ingester on each event of a service with redaction rules on: which rules, and what they took out. */
export interface EventRedaction {
  /** The version of the service's rules applied. */
  rulesVersion: number;
  /** The parameters were dropped (`parameters` is null because of the rules, not because pgaudit did not log them). */
  parametersDropped: boolean;
  /** Literals of the statement masked. */
  literalsMasked: number;
  /** Pattern matches masked (statement and parameters). */
  patternsMasked: number;
}

/** The stored document: the event plus the tenant fields, which are on every document and in every query. */
export interface AuditEventDocument extends AuditEvent {
  projectId: string;
  organizationId: string;
  /**
   * ISO-8601 UTC, the ingester's clock when it encoded the event for its bulk request (event.index.ts
   * eventSource): the order of the live tail (event.tail.ts). Absent on events indexed by earlier versions.
   */
  ingestedAt?: string;
}

/** The dimensions events can be counted by (auditEventStats.groupBy) and the document field of each. */
export const GROUP_BY_FIELDS = {
  CLASS: 'class', COMMAND: 'command', USER: 'user', DATABASE: 'database', OBJECT_NAME: 'objectName', AUDIT_TYPE: 'auditType',
} as const satisfies Record<string, keyof AuditEventDocument>;
export type EventGroupBy = keyof typeof GROUP_BY_FIELDS;
