/** Builds the GraphQL schema from the resolvers (code-first); `emit-schema` prints it to schema.graphql. */
import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { AuditEventsResolver } from '../modules/audit-events/audit-events.resolver';
import { AuditPolicyResolver } from '../modules/audit-policy/audit-policy.resolver';
import { PolicyInventoryResolver } from '../modules/audit-policy/policy.inventory.resolver';
import { SessionEventsResolver } from '../modules/audit-events/session-events.resolver';
import { ObjectAuditResolver, ObjectAuditRevisionResolver } from '../modules/audit-policy/objects/object-audit.resolver';

let schema: GraphQLSchema | undefined;

export function gatewaySchema(): GraphQLSchema {
  schema ??= buildSchemaSync({ resolvers: [AuditPolicyResolver, PolicyInventoryResolver, ObjectAuditResolver, ObjectAuditRevisionResolver, AuditEventsResolver, SessionEventsResolver], validate: true });
  return schema;
}

/** The published SDL, in a stable order so that diffs show real changes only. */
export function printGatewaySchema(): string {
  return printSchema(lexicographicSortSchema(gatewaySchema())) + '\n';
}
