/**
 * GraphQL types of the session-event query path (sessionEvents, sessionEventStats). New types beside the
 * STABLE AuditEvent, which they never change. SessionEventFilter is also the query builder's filter
 * (session.query.ts SessionFilter has its shape).
 */
import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { enumOf } from '../../base/graphql-enum';
import { PageInfo } from '../../base/relay';
import { AuditEventBucket, AuditEventCount } from './audit-events.types';
import {
  LOGIN_FAILURE_REASONS, LoginFailureReason, SESSION_EVENT_KINDS, SESSION_GROUP_BY_FIELDS, SessionEventKind, SessionGroupBy,
} from './session.document';

export const SessionEventKindEnum = enumOf(SESSION_EVENT_KINDS);
registerEnumType(SessionEventKindEnum, { name: 'SessionEventKind', description: 'LOGIN: `connection authorized` (log_connections). LOGIN_FAILED: a FATAL of a connection\'s start-up (always logged). LOGOUT: `disconnection` (log_disconnections). A LOGIN followed by a LOGIN_FAILED of the same sessionId: authenticated, then refused (no such database, no CONNECT privilege, NOLOGIN role).' });

export const LoginFailureReasonEnum = enumOf(LOGIN_FAILURE_REASONS);
registerEnumType(LoginFailureReasonEnum, { name: 'LoginFailureReason', description: 'Why a login failed, from the server\'s FATAL message (kept whole in SessionEvent.message). PASSWORD covers a role that does not exist under password authentication: PostgreSQL logs both alike.' });

export const SessionEventGroupBy = enumOf(Object.keys(SESSION_GROUP_BY_FIELDS) as SessionGroupBy[]);
registerEnumType(SessionEventGroupBy, { name: 'SessionEventGroupBy', description: 'A dimension to count session events by.' });

@ObjectType('SessionEvent', { description: 'A login, failed login or logout of a service, from PostgreSQL\'s own log lines (not pgaudit). Fields the log line does not carry are null.' })
export class SessionEventNode {
  @Field(() => ID, { description: 'Stable id, derived from the service, session id and log line number (or the position in a stream).' }) id!: string;
  @Field({ description: 'When PostgreSQL logged it.' }) timestamp!: Date;
  @Field(() => SessionEventKindEnum, { description: 'LOGIN, LOGIN_FAILED or LOGOUT.' }) kind!: SessionEventKind;
  @Field(() => String, { nullable: true, description: 'The role that logged in, tried to, or logged out (as the client gave it, also for a role that does not exist).' }) user!: string | null;
  @Field(() => String, { nullable: true, description: 'The database; null for a physical replication connection.' }) database!: string | null;
  @Field(() => String, { nullable: true, description: 'Client host (address, or name with log_hostname); `[local]` for a Unix socket.' }) remoteHost!: string | null;
  @Field(() => Int, { nullable: true, description: 'Client TCP port; null on a Unix socket or where the log format does not carry it.' }) remotePort!: number | null;
  @Field(() => String, { nullable: true, description: 'application_name the client gave.' }) applicationName!: string | null;
  @Field(() => String, { nullable: true, description: 'PostgreSQL session id (%c): the LOGIN, a LOGIN_FAILED after it and the LOGOUT of one session share it.' }) sessionId!: string | null;
  @Field(() => Int, { nullable: true, description: 'Line number within the session\'s log output.' }) sessionLineNum!: number | null;
  @Field(() => Int, { nullable: true, description: 'LOGOUT: the session\'s duration in milliseconds (capped at 2^31-1 here; the log says it to the millisecond).' }) durationMs!: number | null;
  @Field(() => LoginFailureReasonEnum, { nullable: true, description: 'LOGIN_FAILED: why.' }) failureReason!: LoginFailureReason | null;
  @Field({ description: 'LOGIN: a replication (walsender) connection.' }) replication!: boolean;
  @Field(() => String, { nullable: true, description: 'LOGIN over TLS: the protocol, e.g. TLSv1.3.' }) sslProtocol!: string | null;
  @Field(() => String, { nullable: true, description: 'LOGIN over TLS: the cipher.' }) sslCipher!: string | null;
  @Field(() => Int, { nullable: true, description: 'LOGIN over TLS: the key bits.' }) sslBits!: number | null;
  @Field({ description: 'The server\'s message (at most 1024 UTF-8 bytes).' }) message!: string;
}

@ObjectType({ description: 'An edge of SessionEventConnection.' })
export class SessionEventEdge {
  @Field({ description: 'Opaque cursor of this event.' }) cursor!: string;
  @Field(() => SessionEventNode, { description: 'The event.' }) node!: SessionEventNode;
}

@ObjectType({ description: 'Session events, newest first.' })
export class SessionEventConnection {
  @Field(() => [SessionEventEdge], { description: 'This page of events.' }) edges!: SessionEventEdge[];
  @Field(() => PageInfo, { description: 'Paging information.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Exact number of session events matching the filter.' }) totalCount!: number;
}

@InputType({ description: 'Which session events. Every list matches any of its values (at most 100 values of at most 256 characters); all given conditions must hold.' })
export class SessionEventFilter {
  @Field(() => Date, { nullable: true, description: 'At or after this time.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'At or before this time.' }) to?: Date | null;
  @Field(() => [SessionEventKindEnum], { nullable: true, description: 'LOGIN, LOGIN_FAILED and/or LOGOUT.' }) @IsOptional() @ArrayMaxSize(100) kinds?: SessionEventKind[] | null;
  @Field(() => [String], { nullable: true, description: 'Roles.' }) @IsOptional() @ArrayMaxSize(100) users?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Databases.' }) @IsOptional() @ArrayMaxSize(100) databases?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Client hosts, exactly as logged (e.g. 10.0.0.1, [local]).' }) @IsOptional() @ArrayMaxSize(100) remoteHosts?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'application_name values.' }) @IsOptional() @ArrayMaxSize(100) applicationNames?: string[] | null;
  @Field(() => [LoginFailureReasonEnum], { nullable: true, description: 'Failure reasons (LOGIN_FAILED events only match).' }) @IsOptional() @ArrayMaxSize(100) failureReasons?: LoginFailureReason[] | null;
  @Field(() => String, { nullable: true, description: 'One session.' }) @IsOptional() @MaxLength(256) sessionId?: string | null;
}

@ArgsType()
export class SessionEventsArgs {
  @Field(() => ID, { description: 'The PostgreSQL service.' }) serviceId!: string;
  @Field(() => SessionEventFilter, { nullable: true, description: 'Which session events.' }) filter?: SessionEventFilter | null;
  @Field(() => Int, { defaultValue: 20, description: 'Page size, 1 to 100.' }) first!: number;
  @Field(() => String, { nullable: true, description: 'An endCursor from the previous page.' }) @IsOptional() @MaxLength(200) after?: string | null;
}

@ObjectType({ description: 'Counts of session events for a console\'s charts, all over the time range from `from` to `to`.' })
export class SessionEventStats {
  @Field({ description: 'Start of the time range counted: `filter.from`, or, without it, STATS_DEFAULT_WINDOW_HOURS before `to`.' }) from!: Date;
  @Field({ description: 'End of the time range counted: `filter.to`, or, without it, the time of the query (or `filter.from` when that is later).' }) to!: Date;
  @Field(() => Int, { description: 'Exact number of session events matching the filter between `from` and `to`.' }) totalCount!: number;
  @Field(() => SessionEventGroupBy, { description: 'The dimension of `groups`.' }) groupBy!: SessionGroupBy;
  @Field({ description: 'The histogram interval.' }) interval!: string;
  @Field(() => [AuditEventCount], { description: 'Counts per value, largest first (at most 50).' }) groups!: AuditEventCount[];
  @Field(() => [AuditEventBucket], { description: 'Counts per interval, oldest first.' }) overTime!: AuditEventBucket[];
}
