import 'reflect-metadata';
import { OperationDefinitionNode, parse } from 'graphql';
import { costOf, FIELD_COST, operationCost } from './limits';
import { gatewaySchema } from './schema';

describe('the cost model', () => {
  const schema = gatewaySchema();

  it('names only fields the schema has (a renamed field cannot silently lose its cost)', () => {
    for (const key of Object.keys(FIELD_COST)) {
      const [type, field] = key.split('.') as [string, string];
      const t = schema.getType(type) as { getFields?: () => Record<string, unknown> } | undefined;
      expect(t?.getFields?.()[field]).toBeDefined();
    }
  });

  it('prices a page of events by its size, bounded by the largest page', () => {
    const cost = (first: number) => operationCost(schema, parse(`query($s: ID!, $n: Int!) { auditEvents(serviceId: $s, first: $n) { edges { node { id } } } }`),
      { s: 'x', n: first }, undefined);
    expect(cost(1)).toBe(12);
    expect(cost(50)).toBe(110);
    expect(cost(100)).toBe(210);
    expect(cost(100_000)).toBe(210);   // first over 100 is refused by the field itself, naming the argument
  });

  it('prices what reaches a customer\'s server above what does not', () => {
    const cost = (q: string) => operationCost(schema, parse(q), {}, undefined);
    expect(cost('{ auditEligibility(serviceId: "x") { eligible } }')).toBe(25);
    expect(cost('mutation { disableAuditLogging(input: {serviceId: "x"}) { statements } }')).toBe(100);
    expect(cost('{ a: auditEligibility(serviceId: "x") { eligible } b: auditEligibility(serviceId: "y") { eligible } }')).toBe(50);
    expect(cost('{ auditScopes(serviceId: "x") { managed } }')).toBe(25);
  });

  it('prices a page of services by its size, and each service\'s eligibility as a connection to it', () => {
    const cost = (q: string) => operationCost(schema, parse(q), {}, undefined);
    expect(cost('{ services(first: 10) { edges { node { id } } } }')).toBe(2 + 10 * 2);
    expect(cost('{ services(first: 10) { edges { node { id eligibility { eligible } } } } }')).toBe(2 + 10 * (2 + 25));
    expect(cost('{ services { totalCount } }')).toBe(2 + 20);
  });

  it('computes a document\'s cost once per value of what it depends on (first, @skip/@include), with the same result', () => {
    const doc = parse(`query($s: ID!, $n: Int, $f: AuditEventFilter, $after: String, $more: Boolean!) {
      auditEvents(serviceId: $s, filter: $f, first: $n, after: $after) { totalCount edges { node { id statement @include(if: $more) user } } } }`);
    const op = doc.definitions[0] as OperationDefinitionNode;
    const cases = [
      { s: 'x', n: 20, f: null, after: null, more: true }, { s: 'y', n: 20, f: { users: ['a'] }, after: 'c1', more: true },
      { s: 'x', n: 5, after: 'c2', more: true }, { s: 'x', n: 5, more: false }, { s: 'x', more: false }, { s: 'x', n: 100_000, more: true },
    ];
    for (const v of cases) {
      expect(costOf(schema, doc, op, v, undefined)).toBe(operationCost(schema, doc, v, undefined));
      expect(costOf(schema, doc, op, v, undefined)).toBe(operationCost(schema, doc, v, undefined));   // cached
    }
    expect(costOf(schema, doc, op, { s: 'x', n: 5, more: false, after: 'other' }, undefined)).toBe(operationCost(schema, doc, { s: 'x', n: 5, more: false }, undefined));
    // variables that do not coerce: no cost (execution refuses them), also for a document whose cost is cached
    expect(costOf(schema, doc, op, { s: 'x', n: 'twenty', more: true }, undefined)).toBeUndefined();
    expect(costOf(schema, doc, op, { s: 'x', n: 20, f: { users: 7 }, more: true }, undefined)).toBeUndefined();
    expect(costOf(schema, doc, op, { n: 20, more: true }, undefined)).toBeUndefined();
  });
});
