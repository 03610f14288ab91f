/**
 * GraphQL inputs of the control path (STABLE field names). class-validator bounds the sizes of free
 * text; pgaudit's own rules are checked by the settings model against the live server, so that a
 * bad value comes back as a userError naming the field.
 */
import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, Matches, MaxLength, Min } from 'class-validator';

/** PostgreSQL text cannot hold NUL: refuse it at the door rather than as a database error. */
const NO_NUL = /^[^\u0000]*$/;
const noNul = () => Matches(NO_NUL, { message: '$property must not contain NUL characters' });
import { Field, ID, InputType, Int } from 'type-graphql';
import { AuditLogClassEnum, AuditLogLevelEnum } from './audit-policy.types';
import type { AuditLogClass, AuditLogLevel } from './settings/settings.model';

@InputType({ description: 'pgaudit settings. Absent fields keep their current value (configure) or take pgaudit\'s default (enable).' })
export class AuditSettingsInput {
  @Field(() => [AuditLogClassEnum], { nullable: true, description: 'pgaudit.log: the classes of statements session audit logs. READ: SELECT and COPY from a relation or query; WRITE: INSERT, UPDATE, DELETE, TRUNCATE and COPY into a relation; FUNCTION: function calls and DO blocks; ROLE: GRANT, REVOKE and CREATE/ALTER/DROP ROLE; DDL: all DDL not in ROLE; MISC: e.g. DISCARD, FETCH, CHECKPOINT, VACUUM, SET; MISC_SET: SET commands such as SET ROLE (pgaudit 1.4+, PostgreSQL 12+); ALL: every class.' })
  @IsOptional() @ArrayMaxSize(16)
  log?: AuditLogClass[] | null;
  @Field(() => [AuditLogClassEnum], { nullable: true, description: 'pgaudit.log `-class` exclusions, e.g. log [ALL] + logExclude [MISC].' })
  @IsOptional() @ArrayMaxSize(16)
  logExclude?: AuditLogClass[] | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_catalog (pgaudit\'s default on): also log statements whose relations are all in pg_catalog; off leaves out the catalog queries of tools such as psql.' })
  logCatalog?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_client (default off): also send audit messages to the client (psql shows them); meant for tests, it tells the user what is audited.' })
  logClient?: boolean | null;
  @Field(() => AuditLogLevelEnum, { nullable: true, description: 'pgaudit.log_level (default LOG): the level of audit messages; it matters only with logClient on, and pgaudit reserves it for tests.' })
  logLevel?: AuditLogLevel | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_parameter (default off): also log the parameters (bind values) of each statement; they may hold secrets (see setRedactionRules).' })
  logParameter?: boolean | null;
  @Field(() => Int, { nullable: true, description: 'pgaudit.log_parameter_max_size in bytes, 0 (no limit) to 1073741823: a longer parameter is logged as <long param suppressed>; only where the server\'s pgaudit has it (PostgreSQL 16+).' })
  logParameterMaxSize?: number | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_relation (default off): one entry per relation a SELECT or DML statement touches instead of one per statement, so every table is named.' })
  logRelation?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_rows (default off; pgaudit 1.6+, PostgreSQL 14+): add the number of rows the statement retrieved or affected.' })
  logRows?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_statement (default on; pgaudit 1.6+, PostgreSQL 14+): log the statement text and parameters; off writes <not logged> instead, when the class and the object are enough.' })
  logStatement?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'pgaudit.log_statement_once (default off): the statement text and parameters with the first entry of a statement only; later entries of it say <previously logged>.' })
  logStatementOnce?: boolean | null;
  @Field(() => String, { nullable: true, description: 'pgaudit.role: an existing role used as the object-audit master role; empty string for none.' })
  role?: string | null;
  @Field(() => Boolean, { nullable: true, description: "Turn on PostgreSQL's log_connections server-wide (ALTER SYSTEM; new connections log their login: LOGIN events). false = the policy does not set it (RESET). Service-level policy without targetDatabases only." })
  logConnections?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: "Turn on PostgreSQL's log_disconnections server-wide (ALTER SYSTEM; LOGOUT events with the session's duration). false = the policy does not set it (RESET). Service-level policy without targetDatabases only." })
  logDisconnections?: boolean | null;
}

const FIELD = { reason: 'Why, recorded in the policy history (at most 2000 characters).',
  key: 'Retries with the same key return the first result and apply nothing twice (1 to 200 characters).',
  dryRun: 'Validate and return the SQL that would run; change nothing.',
  database: 'A database of the service; absent for the whole service.',
  role: 'A role of the service: the scope becomes that role (ALTER ROLE ... SET), in the given database only if database is given too (ALTER ROLE ... IN DATABASE ... SET). PostgreSQL applies role-in-database over role over database over service settings, at the role\'s next session.',
  targets: 'pgaudit.targetDatabases, service level only (no database or role): the settings apply to exactly these databases (ALTER DATABASE ... SET) and nowhere else (the service level is RESET to pgaudit\'s defaults); a database leaving the list is RESET. 1 to 100 existing databases, none with an enabled policy of its own. Null: the whole service again; absent: enable = the whole service, configure = unchanged. All or nothing.',
  expected: 'Optimistic concurrency: refused with VERSION_CONFLICT unless the policy is at this version.' };

/** What every mutation input has: where, why, and how to retry or rehearse it. Only its subclasses appear in the schema. */
@InputType()
abstract class AuditScopeInput {
  @Field(() => ID, { description: 'The PostgreSQL service.' })
  serviceId!: string;
  @Field(() => String, { nullable: true, description: FIELD.database })
  database?: string | null;
  @Field(() => String, { nullable: true, description: FIELD.role })
  role?: string | null;
  @Field(() => String, { nullable: true, description: FIELD.reason })
  @IsOptional() @MaxLength(2000) @noNul()
  reason?: string | null;
  @Field(() => String, { nullable: true, description: FIELD.key })
  @IsOptional() @Length(1, 200) @noNul()
  idempotencyKey?: string | null;
  @Field(() => Boolean, { nullable: true, description: FIELD.dryRun })
  dryRun?: boolean | null;
}

@InputType()
abstract class VersionedAuditScopeInput extends AuditScopeInput {
  @Field(() => Int, { nullable: true, description: FIELD.expected })
  @IsOptional() @Min(0)
  expectedVersion?: number | null;
}

@InputType({ description: 'Enable audit logging for a service or one of its databases.' })
export class EnableAuditLoggingInput extends AuditScopeInput {
  @Field(() => AuditSettingsInput, { nullable: true, description: 'Absent: the predefined settings (see README).' })
  settings?: AuditSettingsInput | null;
  @Field(() => [String], { nullable: true, description: FIELD.targets })
  @IsOptional() @ArrayMinSize(1) @ArrayMaxSize(100) @MaxLength(256, { each: true })
  targetDatabases?: string[] | null;
}

@InputType({ description: 'Change some settings of an enabled policy.' })
export class ConfigureAuditLoggingInput extends VersionedAuditScopeInput {
  @Field(() => AuditSettingsInput, { description: 'The settings to change; absent fields keep their value.' })
  settings!: AuditSettingsInput;
  @Field(() => [String], { nullable: true, description: FIELD.targets })
  @IsOptional() @ArrayMinSize(1) @ArrayMaxSize(100) @MaxLength(256, { each: true })
  targetDatabases?: string[] | null;
}

@InputType({ description: 'Disable audit logging: RESET every pgaudit setting of the scope, keeping the history.' })
export class DisableAuditLoggingInput extends VersionedAuditScopeInput {}

@InputType({ description: 'Put the settings the gateway applied last back on the server where they drifted (AuditPolicy.drift); nothing is run and no revision is made when nothing drifted.' })
export class ReconcileAuditPolicyInput extends VersionedAuditScopeInput {}

@InputType({ description: 'Record the settings the server holds now as the policy\'s applied settings (a revision, no statement run), so that they no longer count as drift.' })
export class AdoptAuditPolicyInput extends VersionedAuditScopeInput {}

