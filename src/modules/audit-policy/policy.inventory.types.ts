/** GraphQL output types of the inventory (policy.inventory.ts): services with their policies, and a live server's scopes. */
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../../base/relay';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import { AuditSettings } from './audit-policy.types';
import { AuditScopeKind, MAX_SCOPES } from './inventory.scopes';

registerEnumType(AuditScopeKind, { name: 'AuditScopeKind', description: 'Where a pgaudit setting is held on a server.',
  valuesConfig: {
    SERVICE: { description: 'The whole service: the configuration files and ALTER SYSTEM (postgresql.auto.conf).' },
    DATABASE: { description: 'One database: ALTER DATABASE ... SET.' },
    ROLE: { description: 'One role, in every database: ALTER ROLE ... SET.' },
    ROLE_IN_DATABASE: { description: 'One role in one database: ALTER ROLE ... IN DATABASE ... SET.' },
  } });

@ObjectType({ description: 'The most recent change made through the gateway to any policy of a service.' })
export class AuditLastChange {
  @Field({ description: 'When it took effect.' })
  at!: Date;
  @Field({ description: 'Who made it: the API token and the database role it acts as.' })
  actor!: string;
  @Field(() => String, { nullable: true, description: 'ENABLED, CONFIGURED or DISABLED (more may be added); null if that revision is missing from the history (see AuditPolicy.historyIntegrity).' })
  action!: string | null;
  @Field(() => String, { nullable: true, description: 'The database of the policy changed; null for a policy of the whole service or of a role in every database.' })
  database!: string | null;
  @Field(() => String, { nullable: true, description: 'The role of the policy changed; null for a policy without a role.' })
  role!: string | null;
  @Field(() => Int, { description: 'The policy version the change created.' })
  version!: number;
}

@ObjectType({ description: 'Audit logging of a service as the gateway\'s policies record it (no connection to the server).' })
export class AuditServiceStatus {
  @Field({ description: 'Whether audit logging is enabled through the gateway for any scope of the service.' })
  enabled!: boolean;
  @Field(() => Int, { description: 'How many of the service\'s policies are enabled.' })
  enabledScopes!: number;
  @Field(() => AuditLastChange, { nullable: true, description: 'The most recent change to any of its policies; null if none was ever made.' })
  lastChange!: AuditLastChange | null;
}

@ObjectType({ description: 'One policy of a service, as the gateway records it (no connection to the server, but for drift and driftChecked): see auditPolicy for its live settings.' })
export class AuditPolicySummary {
  @Field(() => ID, { description: 'Policy id.' })
  id!: string;
  @Field(() => String, { nullable: true, description: 'The database, or null for a policy of the whole service (or of a role in every database).' })
  database!: string | null;
  @Field(() => String, { nullable: true, description: 'The role, or null for a policy without a role.' })
  role!: string | null;
  @Field({ description: 'Whether audit logging is enabled for this scope.' })
  enabled!: boolean;
  @Field(() => Int, { description: 'The policy\'s version: its number of revisions.' })
  version!: number;
  @Field({ description: 'When the last revision took effect.' })
  updatedAt!: Date;
  @Field({ description: 'Who made the last revision.' })
  updatedBy!: string;
  /** For the live fields (drift); never a GraphQL field. */
  serviceId!: string;
}

@ObjectType({ description: 'A PostgreSQL service of the caller\'s project, with what the gateway has configured on it.' })
export class AuditService {
  @Field(() => ID, { description: 'The service id (serviceId of the other fields).' })
  id!: string;
  @Field({ description: 'The service\'s name in its project.' })
  name!: string;
  @Field(() => AuditServiceStatus, { description: 'Audit logging as the gateway\'s policies record it (no connection to the server).' })
  audit!: AuditServiceStatus;
  @Field(() => [AuditPolicySummary], { description: 'Every policy of the service with a history, by database then role (no connection to the server, but for their drift).' })
  policies!: AuditPolicySummary[];
  /** For the live fields (eligibility); never a GraphQL field. */
  service!: ServiceRecord;
}

@ObjectType({ description: 'An edge of AuditServiceConnection.' })
export class AuditServiceEdge {
  @Field({ description: 'Opaque cursor of this service.' })
  cursor!: string;
  @Field(() => AuditService, { description: 'The service.' })
  node!: AuditService;
}

@ObjectType({ description: 'The caller\'s project\'s services, by name (then id).' })
export class AuditServiceConnection {
  @Field(() => [AuditServiceEdge], { description: 'This page of services.' })
  edges!: AuditServiceEdge[];
  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Number of services of the project in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'One pgaudit setting as a scope holds it.' })
export class AuditScopeValue {
  @Field({ description: 'The setting, e.g. `pgaudit.log`.' })
  setting!: string;
  @Field({ description: 'Its text as the server holds it (not normalised).' })
  value!: string;
}

@ObjectType({ description: `A scope of a live server that holds pgaudit settings, whether set through the gateway or by hand. auditScopes lists at most ${MAX_SCOPES}.` })
export class AuditScope {
  @Field(() => AuditScopeKind, { description: 'Where the settings are held.' })
  kind!: AuditScopeKind;
  @Field(() => String, { nullable: true, description: 'The database (DATABASE, ROLE_IN_DATABASE); null otherwise.' })
  database!: string | null;
  @Field(() => String, { nullable: true, description: 'The role (ROLE, ROLE_IN_DATABASE); null otherwise.' })
  role!: string | null;
  @Field(() => [AuditScopeValue], { description: 'The pgaudit settings this scope sets, in pgaudit\'s order (for SERVICE: those whose value differs from pgaudit\'s built-in default).' })
  values!: AuditScopeValue[];
  @Field(() => AuditSettings, { nullable: true, description: 'The settings in effect in this scope: its values over the levels below it (service < database < role < role in database); null if a value cannot be read.' })
  settings!: AuditSettings | null;
  @Field({ description: 'Whether an enabled gateway policy has exactly this scope (false: set outside the gateway, or its policy is disabled).' })
  managed!: boolean;
  @Field(() => ID, { nullable: true, description: 'The gateway\'s policy of exactly this scope (enabled or not), if there is one.' })
  policyId!: string | null;
}
