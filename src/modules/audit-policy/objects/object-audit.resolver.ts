/** Object audit's GraphQL surface: setObjectAudit and the objectAudit fields of a policy and a revision. No logic of its own. */
import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { AuditPolicyContext } from '../audit-policy.resolver';
import { AuditPolicy, AuditPolicyPayload, AuditPolicyRevision } from '../audit-policy.types';
import type { RevisionRow } from '../policy.repository';
import { SetObjectAuditInput } from './object-audit.inputs';
import { ObjectAudit } from './object-audit.types';

@Resolver(() => AuditPolicy)
export class ObjectAuditResolver {
  @Mutation(() => AuditPolicyPayload, { description: 'Set the object audit of one database (pgaudit.role and the auditor role\'s grants): afterwards the auditor holds exactly `objects`; [] removes it. Idempotent with idempotencyKey.' })
  setObjectAudit(@Arg('input', () => SetObjectAuditInput, { description: 'The database, its auditor role and the relations to audit.' }) input: SetObjectAuditInput,
    @Ctx() ctx: AuditPolicyContext): Promise<AuditPolicyPayload> {
    return ctx.policies.setObjectAudit({ principal: ctx.principal, serviceId: input.serviceId, database: input.database,
      auditorRole: input.auditorRole, expectedVersion: input.expectedVersion, reason: input.reason,
      idempotencyKey: input.idempotencyKey, dryRun: input.dryRun, logger: ctx.logger,
      objects: input.objects.map((o) => ({ schema: o.schema, relation: o.relation, privileges: [...o.privileges], columns: o.columns ? [...o.columns] : null })) },
    ctx.targets);
  }

  @FieldResolver(() => ObjectAudit, { nullable: true, description: 'Object audit of this database (null: never configured through the gateway), read from the server\'s catalogs, or the last applied when it cannot be reached.' })
  objectAudit(@Root() policy: AuditPolicy, @Ctx() ctx: AuditPolicyContext): Promise<ObjectAudit | null> {
    return ctx.policies.objectAudit(ctx.principal, policy.id, ctx.targets);
  }
}

@Resolver(() => AuditPolicyRevision)
export class ObjectAuditRevisionResolver {
  @FieldResolver(() => ObjectAudit, { nullable: true, description: 'The object audit this revision read back (OBJECT_AUDIT_CONFIGURED); null for the other actions.' })
  objectAudit(@Root() revision: AuditPolicyRevision): ObjectAudit | null {
    const objects = (revision as unknown as RevisionRow).objects;
    return objects ? { ...objects, source: null } : null;
  }
}
