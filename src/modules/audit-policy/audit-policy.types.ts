/** GraphQL output types of the control path. Field names marked STABLE in design/api.graphql are kept exactly. */
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { enumOf } from '../../base/graphql-enum';
import { PageInfo } from '../../base/relay';
import { AuditRequirement } from '../entitlements/entitlement.checks';
import { AuditErrorCode } from './audit-policy.errors';
import { SettingsSource } from './policy.change';
import { HistoryProblem } from './policy.history-chain';
import { AUDIT_LOG_CLASSES, AUDIT_LOG_LEVELS, AuditLogClass, AuditLogLevel } from './settings/settings.model';

export const AuditLogClassEnum = enumOf(AUDIT_LOG_CLASSES);
export const AuditLogLevelEnum = enumOf(AUDIT_LOG_LEVELS);

registerEnumType(AuditLogClassEnum, { name: 'AuditLogClass', description: 'A pgaudit statement class (pgaudit.log).' });
registerEnumType(AuditLogLevelEnum, { name: 'AuditLogLevel', description: 'Log level of audit entries (pgaudit.log_level); only matters when logClient is on.' });
registerEnumType(AuditRequirement, { name: 'AuditRequirement', description: 'A condition for audit logging.' });
registerEnumType(AuditErrorCode, {
  name: 'AuditErrorCode',
  description: 'Why a mutation was refused. Automation should branch on these codes, never on messages.',
  valuesConfig: {
    PRO_PLATFORM_REQUIRED: { description: 'The organization does not have Pro Platform.' },
    PRO_FEATURES_REQUIRED: { description: 'The project does not have Pro Features.' },
    POSTGRES_VERSION_UNSUPPORTED: { description: 'The server is older than PostgreSQL 11.' },
    AVNADMIN_REQUIRED: { description: 'The caller does not act as the avnadmin superuser.' },
    PGAUDIT_UNAVAILABLE: { description: 'pgaudit is not loaded (shared_preload_libraries) or not installed on the server.' },
    INVALID_SETTING: { description: 'A setting value breaks pgaudit\'s rules.' },
    SETTING_UNSUPPORTED: { description: 'The server\'s pgaudit version does not have this setting or class.' },
    DATABASE_NOT_FOUND: { description: 'The database does not exist on the service, or is one no policy may target (a template such as template1, or one that takes no connections).' },
    VERSION_CONFLICT: { description: 'expectedVersion is not the policy\'s current version.' },
    NOT_ENABLED: { description: 'Audit logging is not enabled for this scope.' },
    APPLY_FAILED: { description: 'The server did not take the change; its previous settings were restored.' },
    SERVICE_UNREACHABLE: { description: 'The PostgreSQL service could not be reached; nothing was changed.' },
    IDEMPOTENCY_KEY_REUSED: { description: 'The idempotency key was already used for a different request.' },
    SERVICE_BUSY: { description: 'The gateway already holds as many connections to this service as it allows (TARGET_MAX_CONNECTIONS_PER_SERVICE); nothing was changed: retry shortly.' },
    ROLE_NOT_FOUND: { description: 'The role the scope names does not exist on the service, or is one of PostgreSQL\'s predefined roles (pg_*).' },
    SCOPE_CONFLICT: { description: 'Two policies would govern one database: a service-level targetDatabases list names a database that has an enabled policy of its own, or the other way round; or targetDatabases was given for a database or role scope.' },
    SERVICE_TLS_FAILED: { description: 'The connection to the service does not meet the gateway\'s TLS policy (TARGET_SSLMODE): the server offers no TLS, or its certificate is not trusted or names another host; nothing was changed.' },
    RELATION_NOT_FOUND: { description: 'setObjectAudit: a relation does not exist in the database (names are exact, as in the catalogs), or is not a table, view, materialized view or partitioned table; nothing was changed.' },
    COLUMN_NOT_FOUND: { description: 'setObjectAudit: a column is not a column of its relation; nothing was changed.' },
  },
});
registerEnumType(SettingsSource, { name: 'AuditSettingsSource', description: 'Where the settings shown were read.',
  valuesConfig: { SERVER: { description: 'Read from the live server just now.' },
    LAST_APPLIED: { description: 'The server could not be reached: the settings last applied through the gateway.' } } });

registerEnumType(HistoryProblem, { name: 'AuditHistoryProblem', description: 'Why a revision breaks the history\'s hash chain.',
  valuesConfig: {
    CONTENT_CHANGED: { description: 'The revision was edited after it was written: its content no longer hashes to its stored hash.' },
    LINK_BROKEN: { description: 'The revision does not link to the hash of the revision before it (version 1: to the genesis value): one was replaced, re-linked or reordered.' },
    MISSING_VERSION: { description: 'This version is absent: deleted, or the history ends before the policy\'s current version.' },
  } });

@ObjectType({ description: 'The first revision that breaks a history\'s hash chain.' })
export class AuditHistoryBreak {
  @Field(() => Int, { description: 'The version at fault (for MISSING_VERSION, the version that is absent).' })
  version!: number;
  @Field(() => HistoryProblem, { description: 'What is wrong with it.' })
  problem!: HistoryProblem;
}

@ObjectType({ description: 'Whether a policy\'s history is as written: each revision carries a SHA-256 hash over its content and the previous revision\'s hash.' })
export class AuditHistoryIntegrity {
  @Field({ description: 'True when every revision from version 1 to the policy\'s version is present, unchanged and linked.' })
  intact!: boolean;
  @Field(() => Int, { description: 'Revisions examined.' })
  revisions!: number;
  @Field(() => String, { nullable: true, description: 'The newest revision\'s hash. Record it outside the gateway: someone able to write the gateway database could recompute a whole chain, but not match a head recorded elsewhere.' })
  headHash!: string | null;
  @Field(() => AuditHistoryBreak, { nullable: true, description: 'The first revision that breaks the chain, in version order; null when intact.' })
  firstBroken!: AuditHistoryBreak | null;
}

@ObjectType({ description: 'The full pgaudit configuration of one scope.' })
export class AuditSettings {
  @Field(() => [AuditLogClassEnum], { description: 'pgaudit.log: classes of statements logged by session audit logging.' })
  log!: AuditLogClass[];
  @Field(() => [AuditLogClassEnum], { description: 'pgaudit.log exclusions (`-class`), e.g. log [ALL] with logExclude [MISC].' })
  logExclude!: AuditLogClass[];
  @Field({ description: 'pgaudit.log_catalog: log statements whose relations are all in pg_catalog.' })
  logCatalog!: boolean;
  @Field({ description: 'pgaudit.log_client: also send audit messages to the client (e.g. psql).' })
  logClient!: boolean;
  @Field(() => AuditLogLevelEnum, { description: 'pgaudit.log_level: level of audit entries sent to the client.' })
  logLevel!: AuditLogLevel;
  @Field({ description: 'pgaudit.log_parameter: include statement parameters.' })
  logParameter!: boolean;
  @Field(() => Int, { nullable: true, description: 'pgaudit.log_parameter_max_size: longest parameter logged, in bytes (0 = no limit). Null where the server\'s pgaudit has no such setting (before PostgreSQL 16).' })
  logParameterMaxSize!: number | null;
  @Field({ description: 'pgaudit.log_relation: a separate entry for each relation in SELECT/DML.' })
  logRelation!: boolean;
  @Field({ description: 'pgaudit.log_rows: include the number of rows retrieved or affected.' })
  logRows!: boolean;
  @Field({ description: 'pgaudit.log_statement: include the statement text and parameters.' })
  logStatement!: boolean;
  @Field({ description: 'pgaudit.log_statement_once: statement text only in the first entry of a statement/sub-statement.' })
  logStatementOnce!: boolean;
  @Field(() => String, { nullable: true, description: 'pgaudit.role: master role for object audit logging (null: none).' })
  role!: string | null;
  @Field({ description: "PostgreSQL's log_connections, turned on by this policy (ALTER SYSTEM): every connection attempt and login is logged, the LOGIN events of `sessionEvents`. false: the policy does not set it, the server's own configuration decides. Always false for a database or role policy: it is server-wide." })
  logConnections!: boolean;
  @Field({ description: "PostgreSQL's log_disconnections, turned on by this policy (ALTER SYSTEM): every session end is logged with its duration, the LOGOUT events of `sessionEvents`. false: the policy does not set it. Always false for a database or role policy." })
  logDisconnections!: boolean;
}

@ObjectType({ description: 'One setting changed by a revision, in pgaudit\'s text form.' })
export class AuditSettingChange {
  @Field({ description: 'The pgaudit setting, e.g. `pgaudit.log`.' })
  setting!: string;
  @Field(() => String, { nullable: true, description: 'Value before the change.' })
  from!: string | null;
  @Field(() => String, { nullable: true, description: 'Value after the change.' })
  to!: string | null;
}

@ObjectType({ description: 'A pgaudit setting whose value on the server now differs from what the gateway applied, in pgaudit\'s text form.' })
export class AuditSettingDrift {
  @Field({ description: 'The pgaudit setting, e.g. `pgaudit.log`.' })
  setting!: string;
  @Field(() => String, { nullable: true, description: 'What the gateway applied: the value of the policy\'s last revision (for a disabled policy, what disable left: pgaudit\'s default for the service, the inherited value for a database).' })
  applied!: string | null;
  @Field(() => String, { nullable: true, description: 'What the scope holds on the server now.' })
  live!: string | null;
}

@ObjectType({ description: 'One change of a policy that took effect on the server. Append-only.' })
export class AuditPolicyRevision {
  @Field(() => ID, { description: 'Revision id.' })
  id!: string;
  @Field(() => Int, { description: 'The policy version this revision created (1, 2, ...).' })
  version!: number;
  @Field({ description: 'ENABLED, CONFIGURED or DISABLED (more may be added).' })
  action!: string;
  @Field(() => AuditSettings, { nullable: true, description: 'The settings in effect after the change, as read back from the server.' })
  settings!: AuditSettings | null;
  @Field({ description: 'Who made the change: the API token and the database role it acts as.' })
  actor!: string;
  @Field(() => String, { nullable: true, description: 'Why, as given by the caller.' })
  reason!: string | null;
  @Field({ description: 'When the change took effect.' })
  createdAt!: Date;
  @Field(() => [AuditSettingChange], { description: 'The settings that changed, from/to.' })
  changes!: AuditSettingChange[];
  @Field(() => [String], { description: 'The SQL statements run on the service for this change.' })
  statements!: string[];
  @Field(() => [String], { nullable: true, description: 'The service-level policy\'s targetDatabases after this revision; null: the whole service, or a database or role scope.' })
  targetDatabases!: string[] | null;
  @Field({ description: 'SHA-256 (hex) over the previous revision\'s hash and this revision\'s content: its link in the history\'s hash chain (AuditPolicy.historyIntegrity). A head recorded elsewhere can be compared with the revision of that version later.' })
  contentHash!: string;
}

@ObjectType({ description: 'An edge of AuditPolicyRevisionConnection.' })
export class AuditPolicyRevisionEdge {
  @Field({ description: 'Opaque cursor of this revision.' })
  cursor!: string;
  @Field(() => AuditPolicyRevision, { description: 'The revision.' })
  node!: AuditPolicyRevision;
}

@ObjectType({ description: 'Revisions of a policy, newest first.' })
export class AuditPolicyRevisionConnection {
  @Field(() => [AuditPolicyRevisionEdge], { description: 'This page of revisions.' })
  edges!: AuditPolicyRevisionEdge[];
  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Number of revisions of the policy in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'The audit-logging policy of a service (database null) or of one of its databases.' })
export class AuditPolicy {
  @Field(() => ID, { description: 'Policy id.' })
  id!: string;
  @Field(() => ID, { description: 'The PostgreSQL service.' })
  serviceId!: string;
  @Field(() => String, { nullable: true, description: 'The database, or null for the whole service (or, with role, the role in every database).' })
  database!: string | null;
  @Field(() => String, { nullable: true, description: 'The role of a role scope (ALTER ROLE role [IN DATABASE database] SET), or null. Role settings take effect at the role\'s next session.' })
  role!: string | null;
  @Field(() => [String], { nullable: true, description: 'pgaudit.targetDatabases of a service-level policy: the only databases its settings apply to (ALTER DATABASE ... SET; the service level keeps pgaudit\'s defaults). Null: the whole service.' })
  targetDatabases!: string[] | null;
  @Field({ description: 'Whether audit logging is enabled for this scope.' })
  enabled!: boolean;
  @Field(() => Int, { description: 'Increases with every revision; pass it as expectedVersion for optimistic concurrency.' })
  version!: number;
  @Field(() => AuditSettings, { description: 'The settings in effect for this scope (a database sees service settings it does not override).' })
  settings!: AuditSettings;
  @Field(() => SettingsSource, { description: 'Whether `settings` were read from the live server or are the last applied ones.' })
  settingsSource!: SettingsSource;
  @Field({ description: 'When the last revision took effect.' })
  updatedAt!: Date;
  @Field({ description: 'Who made the last revision.' })
  updatedBy!: string;
}

@ObjectType({ description: 'Why a mutation did not do what was asked.' })
export class AuditUserError {
  @Field(() => AuditErrorCode, { description: 'Machine-readable reason.' })
  code!: AuditErrorCode;
  @Field({ description: 'Human-readable explanation.' })
  message!: string;
  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "settings", "role"].' })
  field!: string[] | null;
}

@ObjectType({ description: 'Result of enable/configure/disable.' })
export class AuditPolicyPayload {
  @Field(() => AuditPolicy, { nullable: true, description: 'The policy after the call (null if refused, or if a dry run found none).' })
  policy!: AuditPolicy | null;
  @Field(() => AuditPolicyRevision, { nullable: true, description: 'The revision this call created (null if refused, dry run or nothing changed).' })
  revision!: AuditPolicyRevision | null;
  @Field(() => [String], { description: 'The SQL run on the service (or that would run, for dryRun).' })
  statements!: string[];
  @Field(() => [AuditUserError], { description: 'Why the call was refused; empty on success.' })
  userErrors!: AuditUserError[];
  @Field(() => [AuditSettingChange], { description: 'For dryRun: what the call would change, setting by setting, from what the scope holds now: the changes its revision would record (a disable of the service level shows pgaudit\'s defaults as the new values; where the server\'s configuration files set pgaudit values, those apply instead). Empty when not a dry run (revision.changes says what changed), when refused, for setObjectAudit (its statements are the grants), and when nothing would change.' })
  plannedChanges!: AuditSettingChange[];
}

@ObjectType({ description: 'One entitlement check.' })
export class EntitlementCheck {
  @Field(() => AuditRequirement, { description: 'The requirement checked.' })
  requirement!: AuditRequirement;
  @Field({ description: 'Whether it holds.' })
  satisfied!: boolean;
  @Field({ description: 'Why, in words.' })
  detail!: string;
}

@ObjectType({ description: 'Whether audit logging can be managed on a service by this caller, and why.' })
export class AuditEligibility {
  @Field({ description: 'True when every check is satisfied.' })
  eligible!: boolean;
  @Field(() => [EntitlementCheck], { description: 'The four checks.' })
  checks!: EntitlementCheck[];
}
