/**
 * A LogRecord holding one of PostgreSQL's own connection lines -> the stored SessionEvent. Pure: no I/O,
 * never throws on input. The lines (PostgreSQL 15, the same text in csvlog, jsonlog and stderr):
 * - LOG `connection authorized: user=U database=D application_name=A[ SSL enabled (protocol=P, cipher=C, bits=N)][ GSS (...)]`
 *   and `replication connection authorized: user=U[ application_name=A]...` (log_connections) -> LOGIN;
 * - LOG `disconnection: session time: H:MM:SS.mmm user=U database=D host=H[ port=P]` (log_disconnections) -> LOGOUT;
 * - FATAL of a connection's start-up (`password authentication failed for user "U"`, `no pg_hba.conf entry
 *   for host ...`, `role "U" does not exist`, ...: LOGIN_FAILURE_RULES) -> LOGIN_FAILED, logged whatever
 *   log_connections says.
 * `connection received: host=H port=P` and `connection authenticated: identity=... method=...` are not
 * events: a connection that goes no further is not a login, and the LOGIN that follows carries the rest.
 *
 * Identity: the id is the audit event's (recordEventId: service, session id, line number; or the position
 * in a stream), so a re-read finds the event already stored, exactly as for audit events.
 * Fields: user and database come from the record's own columns where the format has them (csvlog, jsonlog,
 * a stderr prefix with %u/%d): the message is read for them only where the record has none, since a role
 * or database name may itself contain ` database=` and make the message ambiguous. application_name comes
 * from the LOGIN message (the record's column is still empty at that point), else from the record.
 * Look-alikes: a matching message with a CONTEXT or STATEMENT attached (`RAISE LOG 'connection authorized:
 * ...'` in a function) is not the server's: rejected as `not_from_server`; a `disconnection:` line that does
 * not parse is `malformed_session`.
 */
import { cutUtf8 } from '../audit-events/text-cut';
import { LoginFailureReason, SESSION_MESSAGE_MAX_BYTES, SessionEvent, SessionEventKind } from '../audit-events/session.document';
import { recordEventId } from './audit-event';
import type { LogRecord } from './log-record';

export type SessionExtraction =
  | { kind: 'event'; event: SessionEvent }
  /** Not a connection line: nothing to index. */
  | { kind: 'not-session' }
  /** Looks like a connection line but is not one the server wrote, or does not parse: a dead letter. */
  | { kind: 'rejected'; code: 'malformed_session' | 'not_from_server'; reason: string };

// Names are at most 63 bytes (NAMEDATALEN - 1; application_name too): bounded lazy groups keep backtracking small.
const AUTHORIZED = /^(replication )?connection authorized: user=(.{0,63}?)(?: database=(.{0,63}?))?(?: application_name=(.{0,63}?))?(?: SSL enabled \(protocol=([^,()]*), cipher=([^,()]*), bits=(\d{1,6})\))?(?: GSS \([^()]*\))?$/s;
const DISCONNECTION = /^disconnection: session time: (\d{1,9}):([0-5]\d):([0-5]\d)\.(\d{3}) user=(.{0,63}?) database=(.{0,63}?) host=(.*?)(?: port=(\d{1,5}))?$/s;
/** No connection line the server writes is this long (names are 63 bytes, a host name 1025): longer ones are never parsed. */
export const SESSION_LINE_MAX_CHARS = 4096;

/** FATAL messages of a connection's start-up, in the order they are tried; `user` captures the role named, if any. */
const LOGIN_FAILURE_RULES: readonly { test: RegExp; reason: LoginFailureReason; user?: number }[] = [
  { test: /^password authentication failed for user "(.*)"$/s, reason: 'PASSWORD', user: 1 },
  { test: /^certificate authentication failed for user "(.*)"$/s, reason: 'CERTIFICATE', user: 1 },
  { test: /^connection requires a valid client certificate$/, reason: 'CERTIFICATE' },
  { test: /^certificate validation \(clientcert=verify-full\) failed for user "(.*)"$/s, reason: 'CERTIFICATE', user: 1 },
  { test: /^(?:[A-Za-z]{1,16} )?authentication failed for user "(.*)"(?:: invalid authentication method)?$/s, reason: 'AUTHENTICATION', user: 1 },
  { test: /^no pg_hba\.conf entry for (?:replication connection from )?host ".*", user "(.*?)", /s, reason: 'NO_HBA_ENTRY', user: 1 },
  { test: /^pg_hba\.conf rejects (?:replication )?connection for host ".*", user "(.*?)", /s, reason: 'HBA_REJECT', user: 1 },
  { test: /^role "(.*)" does not exist$/s, reason: 'UNKNOWN_ROLE', user: 1 },
  { test: /^role "(.*)" is not permitted to log in$/s, reason: 'ROLE_CANNOT_LOGIN', user: 1 },
  { test: /^database ".*" does not exist$/s, reason: 'UNKNOWN_DATABASE' },
  { test: /^permission denied for database ".*"$/s, reason: 'NO_CONNECT_PRIVILEGE' },
  { test: /^database ".*" is not currently accepting connections$/s, reason: 'DATABASE_NOT_ACCEPTING' },
  { test: /^too many connections for (?:role|database) ".*"$/s, reason: 'TOO_MANY_CONNECTIONS' },
  { test: /^sorry, too many clients already$/, reason: 'TOO_MANY_CONNECTIONS' },
  { test: /^remaining connection slots are reserved for /, reason: 'TOO_MANY_CONNECTIONS' },
];

type Parsed = Omit<SessionEvent, 'id' | 'serviceId' | 'timestamp' | 'sessionId' | 'sessionLineNum' | 'message'>;

const base = (rec: LogRecord, kind: SessionEventKind): Parsed => ({
  kind, user: rec.user, database: rec.database, remoteHost: rec.remoteHost, remotePort: rec.remotePort, applicationName: rec.applicationName,
  durationMs: null, failureReason: null, replication: false, sslProtocol: null, sslCipher: null, sslBits: null,
});

/** The message -> the event's own fields, or null (not a connection line), or a string (why it does not parse). */
function parse(rec: LogRecord): Parsed | string | null {
  const m = rec.message;
  if (m.length > SESSION_LINE_MAX_CHARS) {
    return rec.severity === 'LOG' && /^(?:replication )?(?:connection authorized|disconnection): /.test(m) ? 'connection line longer than the server writes' : null;
  }
  if (rec.severity === 'LOG') {
    if (m.startsWith('connection authorized: ') || m.startsWith('replication connection authorized: ')) {
      const a = AUTHORIZED.exec(m);
      if (!a) return 'connection authorized line that does not parse';
      const replication = a[1] !== undefined;
      return {
        ...base(rec, 'LOGIN'),
        user: rec.user ?? a[2]!,
        database: rec.database ?? (replication ? null : a[3] ?? null),
        applicationName: a[4] ?? rec.applicationName,
        replication,
        sslProtocol: a[5] ?? null, sslCipher: a[6] ?? null, sslBits: a[7] === undefined ? null : Number(a[7]),
      };
    }
    if (m.startsWith('disconnection: ')) {
      const d = DISCONNECTION.exec(m);
      if (!d) return 'disconnection line that does not parse';
      const durationMs = ((Number(d[1]) * 60 + Number(d[2])) * 60 + Number(d[3])) * 1000 + Number(d[4]);
      const port = d[8] === undefined ? null : Number(d[8]);
      return {
        ...base(rec, 'LOGOUT'),
        user: rec.user ?? d[5]!,
        database: rec.database ?? (d[6] === '' ? null : d[6]!),
        remoteHost: rec.remoteHost ?? (d[7] === '' ? null : d[7]!),
        remotePort: rec.remotePort ?? (port !== null && port <= 65535 ? port : null),
        durationMs,
      };
    }
    return null;
  }
  if (rec.severity === 'FATAL') {
    for (const rule of LOGIN_FAILURE_RULES) {
      const f = rule.test.exec(m);
      if (!f) continue;
      return { ...base(rec, 'LOGIN_FAILED'), user: rec.user ?? (rule.user ? f[rule.user] ?? null : null), failureReason: rule.reason };
    }
  }
  return null;
}

/**
 * The whole per-record step for session events. Throws only as toAuditEvent does (a record without an
 * identity and no `source`): a caller's mistake, never the input's.
 */
export function sessionEventOf(serviceId: string, rec: LogRecord, source?: string): SessionExtraction {
  const parsed = parse(rec);
  if (parsed === null) return { kind: 'not-session' };
  if (rec.context !== null || rec.query !== null) {
    return { kind: 'rejected', code: 'not_from_server', reason: 'connection line with a CONTEXT or STATEMENT attached: not written by the server (e.g. RAISE LOG)' };
  }
  if (typeof parsed === 'string') return { kind: 'rejected', code: 'malformed_session', reason: parsed };
  const id = recordEventId(serviceId, rec, source);
  if (id === null) throw new Error('sessionEventOf: the record has no session id/line number, or comes from a stream; pass the source (file or stream) name');
  return {
    kind: 'event',
    event: {
      id, serviceId, timestamp: rec.timestamp, ...parsed, sessionId: rec.sessionId, sessionLineNum: rec.sessionLineNum,
      message: cutUtf8(rec.message, SESSION_MESSAGE_MAX_BYTES).text,
    },
  };
}
