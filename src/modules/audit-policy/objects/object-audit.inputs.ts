/**
 * GraphQL inputs of setObjectAudit. class-validator bounds their sizes (names as PostgreSQL identifiers: at most 63
 * bytes, no NUL; at most 200 objects of at most 100 columns); whether the names exist is checked on the server.
 */
import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, Matches, MaxLength, Min, registerDecorator, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { ObjectPrivilege } from './object-audit.plan';
import { ObjectAuditPrivilegeEnum } from './object-audit.types';

const NO_NUL = /^[^\u0000]*$/;
const noNul = (each = false) => Matches(NO_NUL, { each, message: '$property must not contain NUL characters' });

/** A PostgreSQL identifier: 1 to 63 bytes (NAMEDATALEN - 1), each element when `each`. */
function identifier(each = false) {
  return (target: object, propertyName: string) => {
    registerDecorator({ name: 'isIdentifier', target: target.constructor, propertyName, options: { each,
      message: `$property must be 1 to 63 bytes (a PostgreSQL identifier)` },
    validator: { validate: (v: unknown) => typeof v === 'string' && v.length > 0 && Buffer.byteLength(v) <= 63 } });
    noNul(each)(target, propertyName);
  };
}

@InputType({ description: 'One relation to audit: the statements using these privileges on it (or on these columns) are logged.' })
export class ObjectAuditInput {
  @Field(() => String, { defaultValue: 'public', description: 'The schema, exactly as the catalogs spell it (no case folding).' })
  @identifier()
  schema!: string;
  @Field(() => String, { description: 'A table, view, materialized view or partitioned table, exactly as the catalogs spell it.' })
  @identifier()
  relation!: string;
  @Field(() => [ObjectAuditPrivilegeEnum], { description: 'What to log: SELECT, INSERT, UPDATE, DELETE (at least one).' })
  @ArrayMinSize(1) @ArrayMaxSize(4)
  privileges!: ObjectPrivilege[];
  @Field(() => [String], { nullable: true, description: 'Only these columns (column-level grants; at most 100). DELETE takes no columns. Absent: the whole relation.' })
  @IsOptional() @ArrayMinSize(1) @ArrayMaxSize(100) @identifier(true)
  columns?: string[] | null;
}

@InputType({ description: 'The whole object audit of one database: what the auditor role is granted afterwards is exactly `objects`.' })
export class SetObjectAuditInput {
  @Field(() => ID, { description: 'The PostgreSQL service.' })
  serviceId!: string;
  @Field(() => String, { description: 'The database whose object audit this is.' })
  @MaxLength(63) @noNul()
  database!: string;
  @Field(() => String, { nullable: true, description: 'The NOLOGIN role pgaudit.role names (created if missing). Absent: the one object audit uses in this database now, else pgaudit_auditor. Refused if it can log in, is a superuser or is the caller\'s role.' })
  @IsOptional() @identifier()
  auditorRole?: string | null;
  @Field(() => [ObjectAuditInput], { description: 'Every relation to audit (at most 200); [] removes object audit from the database.' })
  @ArrayMaxSize(200) @ValidateNested({ each: true })
  objects!: ObjectAuditInput[];
  @Field(() => Int, { nullable: true, description: 'Optimistic concurrency: refused with VERSION_CONFLICT unless the policy is at this version.' })
  @IsOptional() @Min(0)
  expectedVersion?: number | null;
  @Field(() => String, { nullable: true, description: 'Why, recorded in the policy history (at most 2000 characters).' })
  @IsOptional() @MaxLength(2000) @noNul()
  reason?: string | null;
  @Field(() => String, { nullable: true, description: 'Retries with the same key return the first result and apply nothing twice (1 to 200 characters).' })
  @IsOptional() @Length(1, 200) @noNul()
  idempotencyKey?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Check everything and return the SQL that would run; change nothing.' })
  dryRun?: boolean | null;
}
