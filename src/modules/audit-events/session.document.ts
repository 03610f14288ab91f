/**
 * The session event as the store keeps it: a login, a failed login or a logout, read from PostgreSQL's own
 * log lines (log_connections, log_disconnections, FATAL authentication failures). Not an audit event: it
 * has none of pgaudit's fields, so it lives in indices of its own (session.index.ts) and is answered by
 * `sessionEvents`, never by `auditEvents`. The ingest path builds these (ingest/session-event.ts).
 */

/**
 * LOGIN: `connection authorized` (log_connections): authentication succeeded. A LOGIN followed by a
 * LOGIN_FAILED of the same session means the server refused the session after authenticating it (no such
 * database, no CONNECT privilege, NOLOGIN role, a role that does not exist under `trust`).
 * LOGIN_FAILED: a FATAL of the connection's start-up (failureReason says which).
 * LOGOUT: `disconnection` (log_disconnections), with the session's duration.
 */
export const SESSION_EVENT_KINDS = ['LOGIN', 'LOGIN_FAILED', 'LOGOUT'] as const;
export type SessionEventKind = typeof SESSION_EVENT_KINDS[number];

/**
 * Why a login failed, from the server's FATAL message (the message itself is kept as `message`):
 * - PASSWORD: `password authentication failed for user` (password, md5, scram-sha-256; PostgreSQL logs the
 *   same for a role that does not exist, to the client and the log, with the truth only in a DETAIL line);
 * - AUTHENTICATION: another method failed (`<method> authentication failed for user`, e.g. LDAP, cert, peer);
 * - NO_HBA_ENTRY: `no pg_hba.conf entry for ...`;  HBA_REJECT: `pg_hba.conf rejects connection for ...`;
 * - UNKNOWN_ROLE: `role "x" does not exist`;  ROLE_CANNOT_LOGIN: `role "x" is not permitted to log in`;
 * - UNKNOWN_DATABASE: `database "x" does not exist`;  NO_CONNECT_PRIVILEGE: `permission denied for database`;
 * - DATABASE_NOT_ACCEPTING: `database "x" is not currently accepting connections`;
 * - TOO_MANY_CONNECTIONS: `too many connections for role/database`, `sorry, too many clients already`,
 *   `remaining connection slots are reserved ...`;
 * - CERTIFICATE: `connection requires a valid client certificate`, `certificate ... does not match`.
 */
export const LOGIN_FAILURE_REASONS = [
  'PASSWORD', 'AUTHENTICATION', 'NO_HBA_ENTRY', 'HBA_REJECT', 'UNKNOWN_ROLE', 'ROLE_CANNOT_LOGIN', 'UNKNOWN_DATABASE',
  'NO_CONNECT_PRIVILEGE', 'DATABASE_NOT_ACCEPTING', 'TOO_MANY_CONNECTIONS', 'CERTIFICATE',
] as const;
export type LoginFailureReason = typeof LOGIN_FAILURE_REASONS[number];

/** A session event's `message` keeps at most this many UTF-8 bytes of the server's message. */
export const SESSION_MESSAGE_MAX_BYTES = 1024;

/** One session event without the tenant fields. Fields a log line does not carry are null. */
export interface SessionEvent {
  /** Deterministic, from the log identity, exactly as an audit event's (ingest/audit-event.ts recordEventId). */
  id: string;
  serviceId: string;
  /** ISO-8601 UTC: when PostgreSQL logged the line. */
  timestamp: string;
  kind: SessionEventKind;
  user: string | null;
  database: string | null;
  remoteHost: string | null;
  remotePort: number | null;
  applicationName: string | null;
  sessionId: string | null;
  sessionLineNum: number | null;
  /** LOGOUT: the session's duration in milliseconds (`session time:`); null otherwise. */
  durationMs: number | null;
  /** LOGIN_FAILED: why; null otherwise. */
  failureReason: LoginFailureReason | null;
  /** LOGIN: a walsender (`replication connection authorized`). */
  replication: boolean;
  /** LOGIN over TLS: `SSL enabled (protocol=…, cipher=…, bits=…)`; null otherwise. */
  sslProtocol: string | null;
  sslCipher: string | null;
  sslBits: number | null;
  /** The server's message, cut at SESSION_MESSAGE_MAX_BYTES. */
  message: string;
}

export interface SessionEventDocument extends SessionEvent {
  projectId: string;
  organizationId: string;
}

/** The dimensions session events can be counted by (sessionEventStats.groupBy) and the document field of each. */
export const SESSION_GROUP_BY_FIELDS = {
  KIND: 'kind', USER: 'user', DATABASE: 'database', REMOTE_HOST: 'remoteHost', APPLICATION_NAME: 'applicationName', FAILURE_REASON: 'failureReason',
} as const satisfies Record<string, keyof SessionEventDocument>;
export type SessionGroupBy = keyof typeof SESSION_GROUP_BY_FIELDS;
