/** Builds the GraphQL schema from the resolvers (code-first); `emit-schema` prints it to schema.graphql. */
import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync, type PubSub } from 'type-graphql';
import { AuditEventsResolver } from '../modules/audit-events/audit-events.resolver';
import { AuditPolicyResolver } from '../modules/audit-policy/audit-policy.resolver';
import { PolicyInventoryResolver } from '../modules/audit-policy/policy.inventory.resolver';
import { ObjectAuditResolver, ObjectAuditRevisionResolver } from '../modules/audit-policy/objects/object-audit.resolver';

let schema: GraphQLSchema | undefined;

/**
 * type-graphql asks for a PubSub once a schema has subscriptions, even when each one brings its own `subscribe`
 * (auditEventTail polls the store: tail.service.ts). None is used; one that would be is a programming error.
 */
const NO_PUBSUB: PubSub = {
  publish() { throw new Error('no PubSub: subscriptions bring their own subscribe'); },
  subscribe() { throw new Error('no PubSub: subscriptions bring their own subscribe'); },
};

export function gatewaySchema(): GraphQLSchema {
  schema ??= buildSchemaSync({ resolvers: [AuditPolicyResolver, PolicyInventoryResolver, ObjectAuditResolver, ObjectAuditRevisionResolver, AuditEventsResolver], validate: true,
    pubSub: NO_PUBSUB });
  return schema;
}

/** The published SDL, in a stable order so that diffs show real changes only. */
export function printGatewaySchema(): string {
  return printSchema(lexicographicSortSchema(gatewaySchema())) + '\n';
}
