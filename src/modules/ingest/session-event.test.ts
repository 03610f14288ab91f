import * as fs from 'fs';
import * as path from 'path';
import { SESSION_INDEX_TEMPLATE } from '../audit-events/session.index';
import type { SessionEvent } from '../audit-events/session.document';
import { auditEventOf, eventId } from './audit-event';
import { CsvlogSplitter } from './formats/csvlog.splitter';
import { JsonlogSplitter } from './formats/jsonlog.splitter';
import { StderrSplitter } from './formats/stderr.splitter';
import type { LogItem, LogRecord } from './log-record';
import { SESSION_LINE_MAX_CHARS, sessionEventOf } from './session-event';
import { prng } from '../../../bench/prng';

const FIX = path.join(__dirname, 'fixtures', 'sessions-pg15');
const read = (f: string) => fs.readFileSync(path.join(FIX, f));
const SERVICE = 'svc_01';
const SOURCE = 'file:postgresql@1:2:x';

function all(s: { push(c: Uint8Array | string): LogItem[]; end(): LogItem[] }, input: Uint8Array): LogRecord[] {
  return [...s.push(input), ...s.end()].map((i) => {
    if (!i.ok) throw new Error(`malformed: ${i.reason}: ${i.excerpt}`);
    return i.record;
  });
}
function sessionEvents(recs: LogRecord[]): SessionEvent[] {
  return recs.flatMap((r) => {
    const x = sessionEventOf(SERVICE, r, SOURCE);
    if (x.kind === 'rejected') throw new Error(`rejected: ${x.reason}: ${r.message}`);
    return x.kind === 'event' ? [x.event] : [];
  });
}
const csv = sessionEvents(all(new CsvlogSplitter(), read('postgresql.csv')));
const json = sessionEvents(all(new JsonlogSplitter(), read('postgresql.json')));
const stderr = sessionEvents(all(new StderrSplitter(), read('postgresql.stderr')));

/** What an auditor reads of each event, in log order (the fixture's README lists the run). */
const SUMMARY: [string, string | null, string | null, string | null, string | null][] = [
  // kind, user, database, application / reason, host
  ['LOGIN', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGOUT', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGIN', 'app_user', 'postgres', 'billing', '127.0.0.1'],
  ['LOGOUT', 'app_user', 'postgres', 'billing', '127.0.0.1'],
  ['LOGIN_FAILED', 'app_user', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'app_user', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'ghost', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'ghost', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'nobody', 'postgres', 'NO_HBA_ENTRY', '127.0.0.1'],
  ['LOGIN_FAILED', 'nobody', 'postgres', 'NO_HBA_ENTRY', '127.0.0.1'],
  ['LOGIN_FAILED', 'nobody', 'postgres', 'NO_HBA_ENTRY', '127.0.0.1'],
  ['LOGIN_FAILED', 'rejected', 'postgres', 'HBA_REJECT', '127.0.0.1'],
  ['LOGIN_FAILED', 'rejected', 'postgres', 'HBA_REJECT', '127.0.0.1'],
  ['LOGIN', 'avnadmin', 'nodb', 'psql', '127.0.0.1'],
  ['LOGIN_FAILED', 'avnadmin', 'nodb', 'UNKNOWN_DATABASE', '127.0.0.1'],
  ['LOGIN', 'sslu', 'postgres', 'ssl app, "quoted"', '127.0.0.1'],
  ['LOGOUT', 'sslu', 'postgres', 'ssl app, "quoted"', '127.0.0.1'],
  ['LOGIN_FAILED', 'md5u', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'md5u', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'passu', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'passu', 'postgres', 'PASSWORD', '127.0.0.1'],
  ['LOGIN_FAILED', 'nologin_r', 'postgres', 'NO_HBA_ENTRY', '127.0.0.1'],
  ['LOGIN', 'app_user', 'shop', 'psql', '127.0.0.1'],
  ['LOGIN_FAILED', 'app_user', 'shop', 'NO_CONNECT_PRIVILEGE', '127.0.0.1'],
  ['LOGIN', 'avnadmin', 'postgres', 'psql', '[local]'],
  ['LOGOUT', 'avnadmin', 'postgres', 'psql', '[local]'],
  ['LOGIN', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGOUT', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGIN', 'nologin_r', 'postgres', 'psql', '127.0.0.1'],
  ['LOGIN_FAILED', 'nologin_r', 'postgres', 'ROLE_CANNOT_LOGIN', '127.0.0.1'],
  ['LOGIN', 'ghost2', 'postgres', 'psql', '127.0.0.1'],
  ['LOGIN_FAILED', 'ghost2', 'postgres', 'UNKNOWN_ROLE', '127.0.0.1'],
  ['LOGIN', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGOUT', 'avnadmin', 'postgres', 'psql', '127.0.0.1'],
  ['LOGIN', 'avnadmin', null, 'psql', '127.0.0.1'],
  ['LOGOUT', 'avnadmin', null, 'psql', '127.0.0.1'],
];
const summary = (e: SessionEvent) => [e.kind, e.user, e.database, e.kind === 'LOGIN_FAILED' ? e.failureReason : e.applicationName, e.remoteHost];

describe('session events from real PostgreSQL 15 logs', () => {
  it('csvlog: every login, failed login and logout of the run, in order, with its fields', () => {
    expect(csv.map(summary)).toEqual(SUMMARY);
  });

  it('jsonlog gives exactly the csvlog events (same ids: same session id and line number)', () => {
    expect(json).toEqual(csv);
  });

  it('stderr (prefix %m [%p] %q%u@%d) gives the same events, identified by position, without the session columns', () => {
    // the prefix has no %h/%r/%c/%l: host only where the message says it (LOGOUT), no session id
    expect(stderr.map((e) => [e.kind, e.user, e.database, e.kind === 'LOGIN_FAILED' ? e.failureReason : null, e.durationMs, e.message]))
      .toEqual(csv.map((e) => [e.kind, e.user, e.database, e.kind === 'LOGIN_FAILED' ? e.failureReason : null, e.durationMs, e.message]));
    for (const e of stderr) {
      expect(e.sessionId).toBeNull();
      expect(e.remoteHost).toBe(e.kind === 'LOGOUT' ? csv.find((c) => c.message === e.message)!.remoteHost : null);
    }
    expect(new Set(stderr.map((e) => e.id)).size).toBe(stderr.length);
  });

  it('a LOGIN carries TLS details and the port; a LOGOUT its duration; a failure the server\'s message', () => {
    const login = csv[2]!;
    expect(login).toEqual({
      id: eventId(SERVICE, login.sessionId!, login.sessionLineNum!), serviceId: SERVICE, timestamp: '2026-12-04T15:06:08.734Z', kind: 'LOGIN',
      user: 'app_user', database: 'postgres', remoteHost: '127.0.0.1', remotePort: 47558, applicationName: 'billing',
      sessionId: '6b12d6e0.2d16', sessionLineNum: 3, durationMs: null, failureReason: null, replication: false,
      sslProtocol: 'TLSv1.3', sslCipher: 'TLS_AES_256_GCM_SHA384', sslBits: 256,
      message: 'connection authorized: user=app_user database=postgres application_name=billing SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)',
    });
    const logout = csv[3]!;
    expect(logout).toMatchObject({ kind: 'LOGOUT', sessionId: login.sessionId, durationMs: 34, remotePort: 47558, sslProtocol: null });
    expect(csv[4]).toMatchObject({ kind: 'LOGIN_FAILED', failureReason: 'PASSWORD', remotePort: 47572, durationMs: null,
      message: 'password authentication failed for user "app_user"' });
    const local = csv.find((e) => e.remoteHost === '[local]' && e.kind === 'LOGIN')!;
    expect(local).toMatchObject({ remotePort: null, sslProtocol: null, sslCipher: null, sslBits: null });
    expect(csv.filter((e) => e.replication).map((e) => [e.kind, e.database])).toEqual([['LOGIN', 'postgres'], ['LOGIN', null]]);
  });

  it('session lines are never audit events, and audit lines never session events', () => {
    for (const r of all(new CsvlogSplitter(), read('postgresql.csv'))) {
      if (sessionEventOf(SERVICE, r, SOURCE).kind === 'event') expect(auditEventOf(SERVICE, r, SOURCE).kind).toBe('not-audit');
    }
    expect(sessionEventOf(SERVICE, rec({ message: 'AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>' }), SOURCE).kind).toBe('not-session');
  });

  it('the index template maps every field of the event', () => {
    expect(Object.keys(SESSION_INDEX_TEMPLATE.template.mappings.properties).sort())
      .toEqual([...Object.keys(csv[0]!), 'projectId', 'organizationId', 'tiebreak'].sort());
  });
});

const rec = (o: Partial<LogRecord> = {}): LogRecord => ({
  format: 'csvlog', timestamp: '2026-12-04T15:06:08.734Z', user: 'app_user', database: 'postgres', pid: 11542, remoteHost: '10.0.0.1', remotePort: 5000,
  sessionId: '6b12d6e0.2d16', sessionLineNum: 3, applicationName: null, severity: 'LOG',
  message: 'connection authorized: user=app_user database=postgres application_name=billing', context: null, query: null, endOffset: 99, ...o,
});
const event = (o: Partial<LogRecord>) => {
  const x = sessionEventOf(SERVICE, rec(o), SOURCE);
  if (x.kind !== 'event') throw new Error(`not an event: ${JSON.stringify(x)}`);
  return x.event;
};

describe('every message variant', () => {
  it.each<[string, Partial<SessionEvent>]>([
    ['connection authorized: user=app_user database=postgres', { kind: 'LOGIN', applicationName: null, sslProtocol: null }],
    ['connection authorized: user=app_user database=postgres application_name=a b SSL enabled (protocol=x, cipher=y, bits=1) SSL enabled (protocol=TLSv1.2, cipher=ECDHE, bits=128)',
      { applicationName: 'a b SSL enabled (protocol=x, cipher=y, bits=1)', sslProtocol: 'TLSv1.2', sslCipher: 'ECDHE', sslBits: 128 }],
    ['connection authorized: user=app_user database=postgres application_name=psql GSS (authenticated=yes, encrypted=yes, principal=u@R)', { applicationName: 'psql' }],
    ['replication connection authorized: user=app_user application_name=walreceiver', { replication: true, applicationName: 'walreceiver', database: 'postgres' }],
    ['disconnection: session time: 123:04:05.678 user=app_user database=postgres host=10.0.0.1 port=5000', { kind: 'LOGOUT', durationMs: ((123 * 60 + 4) * 60 + 5) * 1000 + 678 }],
  ])('%s', (message, expected) => {
    expect(event({ message })).toMatchObject(expected);
  });

  it('reads user, database, host and port from the message only where the record has none (stderr without %u/%d/%r)', () => {
    const bare = { format: 'stderr' as const, user: null, database: null, remoteHost: null, remotePort: null, sessionId: null, sessionLineNum: null };
    expect(event({ ...bare, message: 'connection authorized: user=a b database=c d application_name=e' }))
      .toMatchObject({ user: 'a b', database: 'c d', applicationName: 'e' });
    expect(event({ ...bare, message: 'disconnection: session time: 0:00:01.000 user=u database= host=::1 port=6000' }))
      .toMatchObject({ user: 'u', database: null, remoteHost: '::1', remotePort: 6000, durationMs: 1000 });
    expect(event({ ...bare, message: 'disconnection: session time: 0:00:01.000 user=u database=d host=[local]' }))
      .toMatchObject({ remoteHost: '[local]', remotePort: null });
    // the record's columns win over an ambiguous message (a role named "x database=y")
    expect(event({ user: 'x database=y', database: 'd', message: 'connection authorized: user=x database=y database=d application_name=p' }))
      .toMatchObject({ user: 'x database=y', database: 'd', applicationName: 'p' });
  });

  it.each<[string, string]>([
    ['password authentication failed for user "u"', 'PASSWORD'],
    ['LDAP authentication failed for user "u"', 'AUTHENTICATION'],
    ['Ident authentication failed for user "u"', 'AUTHENTICATION'],
    ['authentication failed for user "u": invalid authentication method', 'AUTHENTICATION'],
    ['certificate authentication failed for user "u"', 'CERTIFICATE'],
    ['connection requires a valid client certificate', 'CERTIFICATE'],
    ['no pg_hba.conf entry for host "10.0.0.1", user "u", database "d", no encryption', 'NO_HBA_ENTRY'],
    ['no pg_hba.conf entry for replication connection from host "10.0.0.1", user "u", SSL encryption', 'NO_HBA_ENTRY'],
    ['pg_hba.conf rejects connection for host "10.0.0.1", user "u", database "d", SSL encryption', 'HBA_REJECT'],
    ['pg_hba.conf rejects replication connection for host "10.0.0.1", user "u", no encryption', 'HBA_REJECT'],
    ['role "u" does not exist', 'UNKNOWN_ROLE'],
    ['role "u" is not permitted to log in', 'ROLE_CANNOT_LOGIN'],
    ['database "d" does not exist', 'UNKNOWN_DATABASE'],
    ['permission denied for database "d"', 'NO_CONNECT_PRIVILEGE'],
    ['database "d" is not currently accepting connections', 'DATABASE_NOT_ACCEPTING'],
    ['too many connections for role "u"', 'TOO_MANY_CONNECTIONS'],
    ['too many connections for database "d"', 'TOO_MANY_CONNECTIONS'],
    ['sorry, too many clients already', 'TOO_MANY_CONNECTIONS'],
    ['remaining connection slots are reserved for non-replication superuser connections', 'TOO_MANY_CONNECTIONS'],
  ])('FATAL %s -> %s', (message, reason) => {
    const e = event({ severity: 'FATAL', message, user: null });
    expect(e).toMatchObject({ kind: 'LOGIN_FAILED', failureReason: reason, message });
    if (message.includes('user "u"') || message.startsWith('role')) expect(e.user).toBe('u');
  });

  it.each<Partial<LogRecord>>([
    { severity: 'ERROR', message: 'role "u" does not exist' },                  // SET ROLE u: not a login
    { severity: 'FATAL', message: 'terminating connection due to administrator command' },
    { severity: 'LOG', message: 'connection received: host=10.0.0.1 port=5000' },
    { severity: 'LOG', message: 'connection authenticated: identity="u" method=scram-sha-256 (/etc/pg_hba.conf:3)' },
    { severity: 'WARNING', message: 'connection authorized: user=u database=d' },
    { severity: null, message: 'disconnection: session time: 0:00:01.000 user=u database=d host=h' },
    { severity: 'FATAL', message: `role "${'x'.repeat(SESSION_LINE_MAX_CHARS)}" does not exist` },
  ])('not a session event (case %#)', (o) => {
    expect(sessionEventOf(SERVICE, rec(o), SOURCE)).toEqual({ kind: 'not-session' });
  });

  it('RAISE LOG look-alikes (a CONTEXT or STATEMENT attached) are rejected as not_from_server', () => {
    for (const o of [{ context: 'PL/pgSQL function f() line 1 at RAISE' }, { query: 'select f()' }]) {
      expect(sessionEventOf(SERVICE, rec(o), SOURCE)).toMatchObject({ kind: 'rejected', code: 'not_from_server' });
      expect(sessionEventOf(SERVICE, rec({ ...o, severity: 'FATAL', message: 'role "u" does not exist' }), SOURCE)).toMatchObject({ code: 'not_from_server' });
    }
  });

  it.each([
    'disconnection: session time: 0:61:00.000 user=u database=d host=h',
    'disconnection: session time: soon user=u database=d host=h',
    `connection authorized: user=${'u'.repeat(64)} database=d`,
    `disconnection: session time: 0:00:01.000 user=u database=d host=${'h'.repeat(SESSION_LINE_MAX_CHARS)}`,
  ])('malformed (case %#)', (message) => {
    expect(sessionEventOf(SERVICE, rec({ message }), SOURCE))
      .toMatchObject({ kind: 'rejected', code: 'malformed_session' });
  });

  it('a message is kept at most SESSION_MESSAGE_MAX_BYTES', () => {
    const e = event({ message: `disconnection: session time: 0:00:01.000 user=u database=d host=${'é'.repeat(1500)}` });
    expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(1024);
  });

  it('hostile input never throws, and whatever it gives is a well-formed extraction', () => {
    const rand = prng(12);
    const pieces = ['connection authorized: ', 'replication ', 'disconnection: session time: ', 'user=', ' database=', ' application_name=', ' host=',
      ' port=', '65536', '99999', ' SSL enabled (protocol=', ', cipher=', ', bits=', ')', '"', '\n', '\u0000', '0:00:00.000', ':', '.', 'é', '\ud800',
      'password authentication failed for user "', 'role "', '" does not exist', 'no pg_hba.conf entry for host "', '", user "', '", '];
    for (let i = 0; i < 1500; i++) {
      let message = '';
      for (let n = Math.floor(rand() * 12); n > 0; n--) message += pieces[Math.floor(rand() * pieces.length)];
      for (const severity of ['LOG', 'FATAL', 'ERROR', null]) {
        for (const r of [rec({ message, severity }), rec({ message, severity, user: null, database: null, remoteHost: null, remotePort: null })]) {
          const x = sessionEventOf(SERVICE, r, SOURCE);
          expect(['event', 'not-session', 'rejected']).toContain(x.kind);
          if (x.kind === 'event') {
            expect(x.event.remotePort === null || (Number.isInteger(x.event.remotePort) && x.event.remotePort <= 65535)).toBe(true);
            expect(x.event.durationMs === null || Number.isSafeInteger(x.event.durationMs)).toBe(true);
          }
        }
      }
    }
  });
});
