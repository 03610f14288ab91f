import 'reflect-metadata';
import { FragmentDefinitionNode, Kind, OperationDefinitionNode, parse } from 'graphql';
import { ALL_SCOPES } from '../modules/tenancy/scope';
import { gatewaySchema } from './schema';
import { ROOT_FIELD_SCOPE, rootFields, scopeCheck } from './scopes';

function fieldsOf(source: string): string[] {
  const doc = parse(source);
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return rootFields(op, fragments);
}

describe('ROOT_FIELD_SCOPE', () => {
  it('has exactly one row for every Query and Mutation field of the built schema (a new field cannot be added unscoped)', () => {
    const schema = gatewaySchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .flatMap((t) => (t ? Object.keys(t.getFields()).map((f) => `${t.name}.${f}`) : []));
    expect(Object.keys(ROOT_FIELD_SCOPE).sort()).toEqual(fields.sort());
  });

  it('uses every scope, and mutations need write:policy only; only viewer needs none', () => {
    expect(new Set(Object.values(ROOT_FIELD_SCOPE).filter((s) => s !== null))).toEqual(new Set(ALL_SCOPES));
    expect(Object.entries(ROOT_FIELD_SCOPE).filter(([, s]) => s === null).map(([f]) => f)).toEqual(['Query.viewer']);
    for (const [field, scope] of Object.entries(ROOT_FIELD_SCOPE)) expect(field.startsWith('Mutation.')).toBe(scope === 'write:policy');
  });
});

describe('rootFields', () => {
  it('flattens fragments and inline fragments, de-duplicates aliases, leaves introspection out', () => {
    expect(fieldsOf(`query { a: auditPolicy(serviceId: "x") { id } b: auditPolicy(serviceId: "y") { id } __typename
      ... on Query { auditEventStats(serviceId: "x") { total } } ...F }
      fragment F on Query { auditEvents(serviceId: "x") { totalCount } ...G }
      fragment G on Query { __schema { queryType { name } } ...F }`))
      .toEqual(['Query.auditEventStats', 'Query.auditEvents', 'Query.auditPolicy']);
    expect(fieldsOf(`mutation M { enableAuditLogging(input: {}) { userErrors { code } } }`)).toEqual(['Mutation.enableAuditLogging']);
    expect(fieldsOf(`{ __typename __schema { types { name } } }`)).toEqual([]);
  });

  it('counts a field under @skip(if: true) too: naming it needs its scope', () => {
    expect(fieldsOf(`query { auditEvent(serviceId: "x", id: "y") @skip(if: true) { id } }`)).toEqual(['Query.auditEvent']);
  });
});

describe('scopeCheck', () => {
  it('names the scopes required and the ones missing, sorted', () => {
    expect(scopeCheck(['Query.auditEvents', 'Query.auditPolicy', 'Query.auditEvent'], ['read:policy']))
      .toEqual({ required: ['read:events', 'read:policy'], missing: ['read:events'] });
    expect(scopeCheck(['Mutation.enableAuditLogging'], ALL_SCOPES)).toEqual({ required: ['write:policy'], missing: [] });
    expect(scopeCheck([], [])).toEqual({ required: [], missing: [] });
  });

  it('a field whose row is null (viewer) needs no scope, beside one that does', () => {
    expect(scopeCheck(['Query.viewer'], [])).toEqual({ required: [], missing: [] });
    expect(scopeCheck(['Query.auditEvents', 'Query.viewer'], [])).toEqual({ required: ['read:events'], missing: ['read:events'] });
  });

  it('a field without a row needs a scope no token holds', () => {
    expect(scopeCheck(['Query.somethingNew'], ALL_SCOPES).missing).toEqual(['unscoped:Query.somethingNew']);
  });
});
