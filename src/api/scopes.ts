/**
 * Scopes, enforced on every operation before any resolver runs: the one table of which scope each GraphQL
 * root field needs, and the Apollo plugin that refuses an operation whose token lacks one of them
 * (INSUFFICIENT_SCOPE, HTTP 403, `extensions.requiredScopes` / `missingScopes`). A root field missing from
 * the table is refused to every token (and a unit test fails), so no field can be added unscoped.
 * Introspection (`__schema`, `__type`, `__typename`) needs no scope: the schema is public (schema.graphql).
 * What a field returns below the root is covered by the root's scope: a mutation's payload shows the policy
 * it changed, history included.
 */
import { DocumentNode, FragmentDefinitionNode, Kind, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import type { Scope } from '../modules/tenancy/scope';
import { ApiError, ApiErrorCode } from './error-map';

export const ROOT_FIELD_SCOPE = {
  // who the caller is: any valid token may ask (null: authentication only)
  'Query.viewer': null,
  'Query.auditEvents': 'read:events',
  'Query.auditEvent': 'read:events',
  'Query.auditEventStats': 'read:events',
  'Query.sessionEvents': 'read:events',
  'Query.sessionEventStats': 'read:events',
  'Subscription.auditEventTail': 'read:events',
  'Query.auditPolicy': 'read:policy',
  'Query.auditEligibility': 'read:policy',
  'Query.services': 'read:policy',
  'Query.auditScopes': 'read:policy',
  'Mutation.enableAuditLogging': 'write:policy',
  'Mutation.configureAuditLogging': 'write:policy',
  'Mutation.disableAuditLogging': 'write:policy',
  'Mutation.reconcileAuditPolicy': 'write:policy',
  'Mutation.adoptAuditPolicy': 'write:policy',
  'Mutation.setObjectAudit': 'write:policy',
  'Query.redactionRules': 'read:policy',
  'Mutation.setRedactionRules': 'write:policy',
} as const satisfies Record<string, Scope | null>;

/** Which scope each HTTP route outside GraphQL needs (checked by the route before anything runs). */
export const HTTP_ROUTE_SCOPE = {
  'POST /export': 'read:events',
} as const satisfies Record<string, Scope>;

/** Sorted, distinct root field names of an operation, fragments flattened (`Query.auditEvents`), introspection left out. */
export function rootFields(operation: OperationDefinitionNode, fragments: Readonly<Record<string, FragmentDefinitionNode>>): string[] {
  const type = operation.operation === 'query' ? 'Query' : operation.operation === 'mutation' ? 'Mutation' : 'Subscription';
  const names = new Set<string>();
  const walk = (set: SelectionSetNode, seen: ReadonlySet<string>) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) { if (!s.name.value.startsWith('__')) names.add(`${type}.${s.name.value}`); }
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, seen);
      else if (!seen.has(s.name.value) && fragments[s.name.value]) walk(fragments[s.name.value]!.selectionSet, new Set([...seen, s.name.value]));
    }
  };
  walk(operation.selectionSet, new Set());
  return [...names].sort();
}

/** The scopes an operation's root fields need and which of them `held` lacks; a field without a row needs an impossible scope, one whose row is null none. */
export function scopeCheck(fields: readonly string[], held: readonly Scope[]): { required: string[]; missing: string[] } {
  const needs = fields.map((f) => (Object.hasOwn(ROOT_FIELD_SCOPE, f) ? ROOT_FIELD_SCOPE[f as keyof typeof ROOT_FIELD_SCOPE] : `unscoped:${f}`));
  const required = [...new Set(needs.filter((s): s is string => s !== null))].sort();
  return { required, missing: required.filter((s) => !(held as readonly string[]).includes(s)) };
}

/**
 * Refuses an operation that needs a scope `held` lacks (INSUFFICIENT_SCOPE). Called by the cost plugin
 * (limits.ts) once the operation is resolved, before its cost is computed or charged and before it executes,
 * so a refused operation takes nothing from the token's bucket. @skip/@include are not looked at: a field
 * named in the operation needs its scope.
 */
export function checkOperationScopes(operation: OperationDefinitionNode | null | undefined, document: DocumentNode, held: readonly Scope[]): void {
  if (!operation) return;   // Apollo has refused it already (no such operation)
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const { required, missing } = scopeCheck(rootFields(operation, fragments), held);
  if (missing.length > 0) {
    throw new ApiError(ApiErrorCode.INSUFFICIENT_SCOPE,
      `this token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that this operation needs`,
      { requiredScopes: required, missingScopes: missing });
  }
}
