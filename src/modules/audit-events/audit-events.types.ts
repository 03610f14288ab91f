/**
 * GraphQL types of the query path (AuditEvent, AuditEventFilter and AuditType are STABLE in contract/api.graphql).
 * AuditEventFilter is also the filter type of the query builder (event.query.ts): one filter type, not two.
 */
import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { enumOf } from '../../base/graphql-enum';
import { PageInfo } from '../../base/relay';
import { AUDIT_TYPES, AuditType, EventGroupBy, GROUP_BY_FIELDS } from './event.document';

export const AuditTypeEnum = enumOf(AUDIT_TYPES);
registerEnumType(AuditTypeEnum, { name: 'AuditType', description: 'SESSION: session audit logging (pgaudit.log); OBJECT: object audit logging (pgaudit.role grants).' });

export const AuditEventGroupBy = enumOf(Object.keys(GROUP_BY_FIELDS) as EventGroupBy[]);
registerEnumType(AuditEventGroupBy, { name: 'AuditEventGroupBy', description: 'A dimension to count audit events by.' });

@ObjectType({ description: 'What redaction at ingest took out of an event (its service\'s redaction rules when it was ingested).' })
export class AuditEventRedaction {
  @Field(() => Int, { description: 'The version of the redaction rules applied (redactionRules.history).' }) rulesVersion!: number;
  @Field({ description: 'True when the parameters were dropped: `parameters` is null because of the rules, not because pgaudit did not log them.' }) parametersDropped!: boolean;
  @Field(() => Int, { description: 'Literals of the statement masked.' }) literalsMasked!: number;
  @Field(() => Int, { description: 'Pattern matches masked in the statement and parameters.' }) patternsMasked!: number;
}
// simpleResolvers: the query path's objects are plain data (audit-events.mapper.ts); their fields are read by
// graphql-js's own resolver, without type-graphql's per-field middleware wrapper (bench/README.md, measured levers).

/** The GraphQL `AuditEvent` (its stored form is event.document.ts's AuditEventDocument; audit-events.mapper.ts maps one to the other). */
@ObjectType('AuditEvent', { description: 'One pgaudit log entry of a service.' , simpleResolvers: true })
export class AuditEventNode {
  @Field(() => ID, { description: 'Stable id, derived from the service, session id and log line number.' }) id!: string;
  @Field({ description: 'When PostgreSQL logged it.' }) timestamp!: Date;
  @Field(() => AuditTypeEnum, { description: 'SESSION or OBJECT.' }) auditType!: AuditType;
  @Field(() => Int, { description: 'pgaudit statement id (per backend; pair with sessionId).' }) statementId!: number;
  @Field(() => Int, { description: 'pgaudit sub-statement id.' }) substatementId!: number;
  @Field({ description: 'Statement class, e.g. READ, WRITE, DDL.' }) class!: string;
  @Field({ description: 'Command, e.g. SELECT, CREATE TABLE.' }) command!: string;
  @Field(() => String, { nullable: true, description: 'Object type, e.g. TABLE.' }) objectType!: string | null;
  @Field(() => String, { nullable: true, description: 'Fully qualified object name.' }) objectName!: string | null;
  @Field(() => String, { nullable: true, description: 'The statement; null when pgaudit wrote <not logged> or <previously logged>. In auditEvents it is cut at EVENT_TEXT_MAX_BYTES UTF-8 bytes (on a character boundary; see statementTruncated); auditEvent returns it whole.' }) statement!: string | null;
  @Field({ description: 'True when `statement` is only the beginning of the statement (auditEvents cuts long statements; auditEvent never does).' }) statementTruncated!: boolean;
  @Field(() => Int, { nullable: true, description: 'Length of the whole statement in UTF-8 bytes, also when `statement` is cut; null when the statement is null.' }) statementBytes!: number | null;
  @Field(() => [String], { nullable: 'itemsAndList', description: 'Statement parameters; null when not logged, [] for <none>. In auditEvents each is cut at EVENT_TEXT_MAX_BYTES UTF-8 bytes and at most EVENT_MAX_PARAMETERS are returned (see parametersTruncated); auditEvent returns them whole.' }) parameters!: string[] | null;
  @Field({ description: 'True when a parameter was cut or parameters were left out (auditEvents only; auditEvent never cuts).' }) parametersTruncated!: boolean;
  @Field(() => Float, { nullable: true, description: 'Rows retrieved or affected (pgaudit.log_rows); null when not logged.' }) rows!: number | null;
  @Field({ description: 'Database user.' }) user!: string;
  @Field({ description: 'Database.' }) database!: string;
  @Field({ description: 'PostgreSQL session id.' }) sessionId!: string;
  @Field(() => Int, { description: 'Line number within the session\'s log output.' }) sessionLineNum!: number;
  @Field(() => String, { nullable: true, description: 'application_name of the client.' }) applicationName!: string | null;
  @Field(() => String, { nullable: true, description: 'Client host.' }) remoteHost!: string | null;
  @Field(() => AuditEventRedaction, { nullable: true, description: 'What redaction at ingest took out of this event; null when its service had no redaction rules on when it was ingested.' }) redaction!: AuditEventRedaction | null;
  @Field(() => Date, { nullable: true, description: 'When the ingester indexed it (its clock as it wrote the event): the order of auditEventTail. Null for events indexed before the gateway recorded it.' }) ingestedAt!: Date | null;
}

@ObjectType({ description: 'An edge of AuditEventConnection.' , simpleResolvers: true })
export class AuditEventEdge {
  @Field({ description: 'Opaque cursor of this event.' }) cursor!: string;
  @Field(() => AuditEventNode, { description: 'The event.' }) node!: AuditEventNode;
}

@ObjectType({ description: 'Audit events, newest first.' , simpleResolvers: true })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge], { description: 'This page of events.' }) edges!: AuditEventEdge[];
  @Field(() => PageInfo, { description: 'Paging information.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Exact number of events matching the filter.' }) totalCount!: number;
}

@InputType({ description: 'Which audit events. Every list matches any of its values; all given conditions must hold.' })
export class AuditEventFilter {
  @Field(() => Date, { nullable: true, description: 'At or after this time.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'At or before this time.' }) to?: Date | null;
  @Field(() => [String], { nullable: true, description: 'Databases.' }) @IsOptional() @ArrayMaxSize(100) databases?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Database users.' }) @IsOptional() @ArrayMaxSize(100) users?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Classes, e.g. DDL.' }) @IsOptional() @ArrayMaxSize(100) classes?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Commands, e.g. SELECT.' }) @IsOptional() @ArrayMaxSize(100) commands?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Object names, e.g. public.accounts.' }) @IsOptional() @ArrayMaxSize(100) objectNames?: string[] | null;
  @Field(() => [AuditTypeEnum], { nullable: true, description: 'SESSION and/or OBJECT.' }) auditTypes?: AuditType[] | null;
  @Field(() => String, { nullable: true, description: 'One session.' }) @IsOptional() @MaxLength(256) sessionId?: string | null;
  @Field(() => String, { nullable: true, description: 'Search in the statement and object name; never query syntax. Words separated by white space must all match, in any case. '
    + 'A word matches a whole name or any part of one: `raise` and `hr` find hr.raise, `employee` finds "Hr"."Employee", `name` and `first_name` find first_name (also names in string literals and comments, and the object name). '
    + 'A word ending in * is a prefix (`emp*`; at least 2 letters or digits before the *, at most 3 prefixes, each matching the first 100 names that begin with it, alphabetically, in each daily index). '
    + '"Quoted words" are a phrase: those words adjacent and in order, split as the statement is (`"hr.employee set"`; a name inside a phrase is matched whole, so `"employee set"` does not find hr.employee set). '
    + 'Every other character (\\, :, (, {...) is part of its word; a word without letters or digits is left out. At most 500 characters and 32 words and phrases; beyond, INVALID_ARGUMENT naming filter.text.' }) @IsOptional() @MaxLength(500) text?: string | null;
}

@ArgsType()
export class AuditEventsArgs {
  @Field(() => ID, { description: 'The PostgreSQL service.' }) serviceId!: string;
  @Field(() => AuditEventFilter, { nullable: true, description: 'Which events.' }) filter?: AuditEventFilter | null;
  @Field(() => Int, { defaultValue: 20, description: 'Page size, 1 to 100.' }) first!: number;
  @Field(() => String, { nullable: true, description: 'An endCursor from the previous page.' }) @IsOptional() @MaxLength(200) after?: string | null;
}

@ArgsType()
export class AuditEventArgs {
  @Field(() => ID, { description: 'The PostgreSQL service.' }) serviceId!: string;
  @Field(() => ID, { description: 'The event id (AuditEvent.id).' }) @MaxLength(256) id!: string;
}

@ObjectType({ description: 'How many events have one value of the grouped dimension.' , simpleResolvers: true })
export class AuditEventCount {
  @Field({ description: 'The value ("(none)" where the event has none).' }) key!: string;
  @Field(() => Int, { description: 'Number of events.' }) count!: number;
}

@ObjectType({ description: 'How many events fall in one time interval.' , simpleResolvers: true })
export class AuditEventBucket {
  @Field({ description: 'Start of the interval.' }) start!: Date;
  @Field(() => Int, { description: 'Number of events.' }) count!: number;
}

@ObjectType({ description: 'Counts of audit events for a console\'s charts. Everything in it (totalCount, groups, overTime) covers the time range from `from` to `to`.' , simpleResolvers: true })
export class AuditEventStats {
  @Field({ description: 'Start of the time range counted: `filter.from`, or, without it, STATS_DEFAULT_WINDOW_HOURS before `to`.' }) from!: Date;
  @Field({ description: 'End of the time range counted: `filter.to`, or, without it, the time of the query (or `filter.from` when that is later).' }) to!: Date;
  @Field(() => Int, { description: 'Exact number of events matching the filter between `from` and `to`.' }) totalCount!: number;
  @Field(() => AuditEventGroupBy, { description: 'The dimension of `groups`.' }) groupBy!: EventGroupBy;
  @Field({ description: 'The histogram interval.' }) interval!: string;
  @Field(() => [AuditEventCount], { description: 'Counts per value, largest first (at most 50).' }) groups!: AuditEventCount[];
  @Field(() => [AuditEventBucket], { description: 'Counts per interval, oldest first.',
    deprecationReason: 'Use overTimeStart and overTimeCounts: the same buckets as a list of numbers, several times cheaper to serve and to read (an 840-bucket histogram: bench/README.md).' })
  overTime!: AuditEventBucket[];
  @Field(() => Date, { nullable: true, description: 'Start of the first interval of overTimeCounts; null when there is none (no events stored at all).' })
  overTimeStart!: Date | null;
  @Field(() => [Int], { description: 'Counts per interval, oldest first, without gaps: count i is of the interval starting at overTimeStart + i x `interval` (the buckets of overTime, at most 2000).' })
  overTimeCounts!: number[];
}

@ArgsType()
export class AuditEventTailArgs {
  @Field(() => ID, { description: 'The PostgreSQL service.' }) serviceId!: string;
  @Field(() => AuditEventFilter, { nullable: true, description: 'Which events (as in auditEvents; from/to bound the event time, not when it was indexed).' }) filter?: AuditEventFilter | null;
  @Field(() => String, { nullable: true, description: 'A cursor delivered by auditEventTail (an item\'s cursor, or extensions.cursor of SUBSCRIPTION_ENDED): deliver exactly the events indexed after it. At most TAIL_RESUME_WINDOW_HOURS old (24 by default). Without it: events indexed from now on.' }) after?: string | null;
}

@ObjectType({ description: 'One newly indexed event of a live tail, with the cursor that resumes the tail right after it.' })
export class AuditEventTailItem {
  @Field({ description: 'Opaque tail cursor: subscribe with after: <cursor> to get exactly the events indexed after this one.' }) cursor!: string;
  @Field(() => AuditEventNode, { description: 'The event (statement and parameters cut as in auditEvents).' }) event!: AuditEventNode;
}
