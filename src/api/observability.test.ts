import { buildSchema, parse, OperationDefinitionNode } from 'graphql';
import { codeLabel, operationLabel, outcomeOf, rootFieldNames } from './observability';
import { within } from './gateway';

const schema = buildSchema('type Query { a: Int b: Int } type Mutation { m: Int }');
const op = (q: string) => parse(q).definitions[0] as OperationDefinitionNode;

describe('operation labels come from the schema only', () => {
  const known = rootFieldNames(schema);
  it.each([
    ['{ a }', 'a'], ['query Anything { b }', 'b'], ['mutation { m }', 'm'], ['{ a b }', 'other'],
    ['{ __typename }', 'other'], ['{ x_user_text_123 }', 'other'], ['{ ...F } fragment F on Query { a }', 'other'],
  ])('%s -> %s', (q, label) => { expect(operationLabel(op(q), known)).toBe(label); });
  it('no operation (parse or validation failed) is "other"', () => { expect(operationLabel(undefined, known)).toBe('other'); });
});

describe('outcomes', () => {
  it.each([
    [[], { a: 1 }, 'ok'],
    [[], { m: { userErrors: [] } }, 'ok'],
    [[], { m: { userErrors: [{ code: 'AVNADMIN_REQUIRED' }] } }, 'user_error'],
    [['BAD_USER_INPUT'], null, 'user_error'],
    [['UNAUTHENTICATED'], null, 'user_error'],
    [['NOT_FOUND', 'INTERNAL_SERVER_ERROR'], { a: null }, 'error'],
    [['SERVICE_UNAVAILABLE'], null, 'error'],
  ])('%j %j -> %s', (codes, data, outcome) => { expect(outcomeOf(codes, data as Record<string, unknown> | null)).toBe(outcome); });
});

it('error code labels are a fixed set', () => {
  expect(codeLabel('UNAUTHENTICATED')).toBe('UNAUTHENTICATED');
  expect(codeLabel('GRAPHQL_VALIDATION_FAILED')).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(codeLabel('made-up by a client')).toBe('other');
  expect(codeLabel(undefined)).toBe('other');
});

describe('within', () => {
  it('true when the check succeeds in time, false when it fails or is late', async () => {
    expect(await within(async () => 1, 200)).toBe(true);
    expect(await within(async () => { throw new Error('down'); }, 200)).toBe(false);
    const t0 = Date.now();
    expect(await within(() => new Promise((r) => setTimeout(r, 400)), 50)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 400));   // the late check ends before the test does
  });
});
