/** GraphQL output types of object audit (setObjectAudit, AuditPolicy.objectAudit, AuditPolicyRevision.objectAudit). */
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { enumOf } from '../../../base/graphql-enum';
import { SettingsSource } from '../policy.change';
import { OBJECT_PRIVILEGES, ObjectPrivilege } from './object-audit.plan';

export const ObjectAuditPrivilegeEnum = enumOf(OBJECT_PRIVILEGES);
registerEnumType(ObjectAuditPrivilegeEnum, { name: 'ObjectAuditPrivilege',
  description: 'A privilege whose use on a relation object audit logs (AUDIT: OBJECT): the auditor role holds it there.' });

@ObjectType({ description: 'Privileges the auditor role holds on one relation: on the whole relation (columns null) or on these columns.' })
export class ObjectAuditGrant {
  @Field({ description: 'The schema, as the catalogs spell it.' })
  schema!: string;
  @Field({ description: 'The table, view, materialized view or partitioned table, as the catalogs spell it.' })
  relation!: string;
  @Field(() => [ObjectAuditPrivilegeEnum], { description: 'Statements using these privileges on it are logged.' })
  privileges!: ObjectPrivilege[];
  @Field(() => [String], { nullable: true, description: 'Null: the whole relation; else only statements touching these columns are logged.' })
  columns!: string[] | null;
}

@ObjectType({ description: 'pgaudit object audit of one database: pgaudit.role names the auditor role, and its grants choose what is logged.' })
export class ObjectAudit {
  @Field({ description: 'The NOLOGIN role pgaudit.role names in this database.' })
  auditorRole!: string;
  @Field(() => [ObjectAuditGrant], { description: 'What the auditor role holds (SELECT, INSERT, UPDATE, DELETE on tables, views, materialized views and partitioned tables), in a canonical order; empty: object audit removed.' })
  objects!: ObjectAuditGrant[];
  @Field(() => SettingsSource, { nullable: true, description: 'On a policy: SERVER (read from the catalogs just now) or LAST_APPLIED (the service could not be reached). Null on a revision: what that change read back.' })
  source!: SettingsSource | null;
}
