/** Builds the GraphQL schema from the resolvers (code-first); `emit-schema` prints it to schema.graphql. */
import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { ValidatorOptions, validateSync } from 'class-validator';
import { ArgumentValidationError, buildSchemaSync, type PubSub } from 'type-graphql';
import { DateTimeISO } from '../base/graphql-date';
import { AuditEventsResolver } from '../modules/audit-events/audit-events.resolver';
import { AuditPolicyResolver } from '../modules/audit-policy/audit-policy.resolver';
import { PolicyInventoryResolver, PolicySummaryDriftResolver } from '../modules/audit-policy/policy.inventory.resolver';
import { SessionEventsResolver } from '../modules/audit-events/session-events.resolver';
import { ObjectAuditResolver, ObjectAuditRevisionResolver } from '../modules/audit-policy/objects/object-audit.resolver';
import { RedactionResolver } from '../modules/redaction/redaction.resolver';
import { ViewerResolver } from '../modules/tenancy/viewer.resolver';

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
  schema ??= buildSchemaSync({ resolvers: [AuditPolicyResolver, PolicyInventoryResolver, PolicySummaryDriftResolver, ObjectAuditResolver, ObjectAuditRevisionResolver, AuditEventsResolver, SessionEventsResolver,
    RedactionResolver, ViewerResolver], validateFn: validateArgument, scalarsMap: [{ type: Date, scalar: DateTimeISO }], pubSub: NO_PUBSUB });
  return schema;
}

const VALIDATOR_OPTIONS: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false };

/**
 * Arguments checked by their class-validator decorators, as type-graphql's `validate: true` does (same
 * options, same ArgumentValidationError), with class-validator imported once: type-graphql's own path
 * resolved `require('class-validator')` again on every object argument of every request (bench/README.md,
 * measured levers). Every validator of this schema is synchronous.
 */
function validateArgument(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const errors = (Array.isArray(value) ? value : [value])
    .filter((v): v is object => v !== null && typeof v === 'object')
    .flatMap((v) => validateSync(v, VALIDATOR_OPTIONS));
  if (errors.length > 0) throw new ArgumentValidationError(errors);
}

/** The published SDL, in a stable order so that diffs show real changes only. */
export function printGatewaySchema(): string {
  return printSchema(lexicographicSortSchema(gatewaySchema())) + '\n';
}
