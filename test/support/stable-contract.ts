/**
 * Checks a schema against the STABLE declarations of an SDL contract (contract/api.graphql). Both documents are
 * parsed with graphql-js, so a declaration's layout (one line or many) does not matter. A declaration is STABLE
 * when its first line carries `# STABLE`, or the line before it is a comment starting `# STABLE`; in other types
 * (Query, Mutation) a field is STABLE when its own line carries `# STABLE`. For each STABLE declaration:
 * - enum: every value is still there (new values may be added);
 * - input: every field is there with a type a caller's existing input still fits (may become optional; may become
 *   required only with a default), and no new required field without a default was added;
 * - object: every field is there with a type a caller's existing reading still fits (may become non-null, not
 *   nullable), and every argument as for input fields.
 * Test code: src/api/schema.test.ts runs it on the committed schema.graphql.
 */
import {
  DefinitionNode, FieldDefinitionNode, GraphQLArgument, GraphQLField, GraphQLInputField, GraphQLSchema, GraphQLType,
  InputValueDefinitionNode, isEnumType, isInputObjectType, isInterfaceType, isListType, isNamedType, isNonNullType, isObjectType,
  Kind, parse, TypeNode,
} from 'graphql';

/** Contract type names that the implementation may spell differently. */
const ALIASES: Readonly<Record<string, string>> = { DateTime: 'DateTimeISO' };

type Direction = 'input' | 'output';

function printTypeNode(t: TypeNode): string {
  if (t.kind === Kind.NON_NULL_TYPE) return `${printTypeNode(t.type)}!`;
  if (t.kind === Kind.LIST_TYPE) return `[${printTypeNode(t.type)}]`;
  return t.name.value;
}

/** Whether `actual` serves every caller written against `contract`. */
function fits(contract: TypeNode, actual: GraphQLType, direction: Direction, hasDefault: boolean): boolean {
  if (contract.kind === Kind.NON_NULL_TYPE) {
    if (isNonNullType(actual)) return fits(contract.type, actual.ofType, direction, false);
    return direction === 'input' && fits(contract.type, actual, direction, false);   // an input may loosen
  }
  if (isNonNullType(actual)) {
    return (direction === 'output' || hasDefault) && fits(contract, actual.ofType, direction, false);   // an output may tighten
  }
  if (contract.kind === Kind.LIST_TYPE) return isListType(actual) && fits(contract.type, actual.ofType, direction, false);
  return isNamedType(actual) && actual.name === (ALIASES[contract.name.value] ?? contract.name.value);
}

function typeProblem(where: string, contract: TypeNode, actual: GraphQLType, direction: Direction, hasDefault: boolean): string[] {
  return fits(contract, actual, direction, hasDefault) ? [] : [`${where} is ${String(actual)}, the contract says ${printTypeNode(contract)}`];
}

function lineOf(node: { loc?: { startToken: { line: number } } }): number {
  return node.loc?.startToken.line ?? 0;
}

function stableDefinitions(source: string): { definitions: readonly DefinitionNode[]; isStable: (node: DefinitionNode | FieldDefinitionNode, ownLineOnly?: boolean) => boolean } {
  const lines = source.split('\n');
  const isStable = (node: DefinitionNode | FieldDefinitionNode, ownLineOnly = false): boolean => {
    const line = lineOf(node);
    if ((lines[line - 1] ?? '').includes('# STABLE')) return true;
    return !ownLineOnly && /^\s*# STABLE/.test(lines[line - 2] ?? '');
  };
  return { definitions: parse(source).definitions, isStable };
}

function checkArguments(where: string, contractArgs: readonly InputValueDefinitionNode[], actual: readonly GraphQLArgument[] | readonly GraphQLInputField[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, GraphQLArgument | GraphQLInputField>(actual.map((a) => [a.name, a]));
  for (const arg of contractArgs) {
    const have = byName.get(arg.name.value);
    if (!have) { problems.push(`${where}.${arg.name.value} is missing`); continue; }
    problems.push(...typeProblem(`${where}.${arg.name.value}`, arg.type, have.type, 'input', have.defaultValue !== undefined));
  }
  const known = new Set(contractArgs.map((a) => a.name.value));
  for (const a of actual) {
    if (!known.has(a.name) && isNonNullType(a.type) && a.defaultValue === undefined) {
      problems.push(`${where}.${a.name} is new and required: existing callers do not send it`);
    }
  }
  return problems;
}

function checkField(where: string, node: FieldDefinitionNode, field: GraphQLField<unknown, unknown> | undefined): string[] {
  if (!field) return [`${where} is missing`];
  return [...typeProblem(where, node.type, field.type, 'output', false), ...checkArguments(`${where}()`, node.arguments ?? [], field.args)];
}

/** Every way `schema` breaks a STABLE declaration of `contractSource`; empty when it keeps them all. */
export function stableContractProblems(contractSource: string, schema: GraphQLSchema): string[] {
  const { definitions, isStable } = stableDefinitions(contractSource);
  const problems: string[] = [];
  for (const def of definitions) {
    if (!('name' in def) || !def.name) continue;
    const name = def.name.value;
    const actual = schema.getType(name);
    const whole = isStable(def);
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && whole) {
      if (!isEnumType(actual)) { problems.push(`enum ${name} is missing`); continue; }
      const have = new Set(actual.getValues().map((v) => v.name));
      for (const v of def.values ?? []) if (!have.has(v.name.value)) problems.push(`${name}.${v.name.value} is missing`);
    } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && whole) {
      if (!isInputObjectType(actual)) { problems.push(`input ${name} is missing`); continue; }
      problems.push(...checkArguments(name, def.fields ?? [], Object.values(actual.getFields())));
    } else if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
      const stableFields = (def.fields ?? []).filter((f) => whole || isStable(f, true));
      if (stableFields.length === 0) continue;
      if (!isObjectType(actual) && !isInterfaceType(actual)) { problems.push(`type ${name} is missing`); continue; }
      const fields = actual.getFields();
      for (const f of stableFields) problems.push(...checkField(`${name}.${f.name.value}`, f, fields[f.name.value]));
    }
  }
  return problems;
}

