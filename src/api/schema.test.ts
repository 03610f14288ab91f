import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLNamedType, isEnumType, isInputObjectType, isObjectType } from 'graphql';
import { stableContractProblems } from '../../test/support/stable-contract';
import { printGatewaySchema } from './schema';

const ROOT = path.join(__dirname, '../..');
const committed = readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8');
const contract = readFileSync(path.join(ROOT, 'contract/api.graphql'), 'utf8');

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run emit-schema` and commit when this fails)', () => {
    expect(printGatewaySchema()).toBe(committed);
  });

  it('describes every type, field, argument and enum value', () => {
    const schema = buildSchema(committed);
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
      if (type.name.startsWith('__') || ['String', 'Boolean', 'Int', 'Float', 'ID'].includes(type.name)) continue;
      const root = ['Query', 'Mutation', 'Subscription'].includes(type.name);   // root types carry no description in type-graphql
      if (!type.description && !root) missing.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const f of Object.values(type.getFields())) {
          if (!f.description) missing.push(`${type.name}.${f.name}`);
          for (const a of 'args' in f ? f.args : []) if (!a.description) missing.push(`${type.name}.${f.name}(${a.name})`);
        }
      }
      if (isEnumType(type) && type.name === 'AuditErrorCode') {
        for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('keeps every STABLE declaration of contract/api.graphql (types, fields, arguments, input fields, enum values)', () => {
    expect(stableContractProblems(contract, buildSchema(committed))).toEqual([]);
  });

  it('keeps the names the first version of this test listed by hand', () => {
    const schema = buildSchema(committed);
    const fields = (t: string) => Object.keys((schema.getType(t) as any).getFields());
    expect(fields('EnableAuditLoggingInput')).toEqual(expect.arrayContaining(['serviceId', 'database', 'settings', 'reason', 'idempotencyKey', 'dryRun']));
    expect(fields('ConfigureAuditLoggingInput')).toEqual(expect.arrayContaining(['serviceId', 'database', 'settings', 'expectedVersion', 'reason', 'idempotencyKey', 'dryRun']));
    expect(fields('AuditSettingsInput')).toEqual(expect.arrayContaining(['log', 'logExclude', 'logCatalog', 'logClient', 'logLevel', 'logParameter',
      'logParameterMaxSize', 'logRelation', 'logRows', 'logStatement', 'logStatementOnce', 'role']));
    expect(fields('AuditPolicy')).toEqual(expect.arrayContaining(['id', 'serviceId', 'database', 'enabled', 'version', 'settings', 'updatedAt', 'updatedBy', 'history']));
    expect(fields('AuditPolicyPayload')).toEqual(expect.arrayContaining(['policy', 'revision', 'statements', 'userErrors']));
    expect(fields('AuditPolicyRevision')).toEqual(expect.arrayContaining(['id', 'version', 'action', 'settings', 'actor', 'reason', 'createdAt', 'changes']));
    expect(fields('AuditSettings')).toEqual(expect.arrayContaining(fields('AuditSettingsInput')));
    expect(fields('Query')).toEqual(expect.arrayContaining(['auditEligibility', 'auditPolicy', 'auditEvents', 'auditEventStats']));
    expect(fields('AuditEvent')).toEqual(expect.arrayContaining(['id', 'timestamp', 'auditType', 'statementId', 'substatementId', 'class',
      'command', 'objectType', 'objectName', 'statement', 'parameters', 'rows', 'user', 'database', 'sessionId', 'sessionLineNum',
      'applicationName', 'remoteHost']));
    expect(fields('AuditEventFilter')).toEqual(expect.arrayContaining(['from', 'to', 'databases', 'users', 'classes', 'commands',
      'objectNames', 'auditTypes', 'sessionId', 'text']));
    expect(fields('AuditEventConnection')).toEqual(expect.arrayContaining(['edges', 'pageInfo', 'totalCount']));
    expect(fields('Mutation')).toEqual(['adoptAuditPolicy', 'configureAuditLogging', 'disableAuditLogging', 'enableAuditLogging', 'reconcileAuditPolicy', 'setObjectAudit', 'setRedactionRules']);
  });

  it('keeps the STABLE Relay shape of every connection: edges { cursor node } pageInfo { hasNextPage endCursor } totalCount', () => {
    const schema = buildSchema(committed);
    const fields = (t: string) => Object.keys((schema.getType(t) as any).getFields());
    for (const connection of ['AuditEventConnection', 'AuditPolicyRevisionConnection']) {
      expect(fields(connection)).toEqual(expect.arrayContaining(['edges', 'pageInfo', 'totalCount']));
    }
    expect(fields('AuditEventEdge')).toEqual(expect.arrayContaining(['cursor', 'node']));
    expect(fields('PageInfo')).toEqual(expect.arrayContaining(['hasNextPage', 'endCursor']));
  });
});

describe('stableContractProblems', () => {
  const contract = [
    'scalar DateTime',
    'enum Color {   # STABLE',
    '  RED GREEN',
    '  BLUE',
    '}',
    '# STABLE field names',
    'input Paint { color: Color!  coats: Int  note: String }',
    'type Can { id: ID!  color: Color  at: DateTime!  mix(first: Int, after: String): [Color!]! }   # STABLE',
    'type Loose { anything: String }',
    'type Query {',
    '  can(id: ID!): Can   # STABLE',
    '  open(x: String): String',
    '}',
  ].join('\n');
  const schemaOf = (sdl: string) => buildSchema(`scalar DateTimeISO\n${sdl}`);
  const good = `enum Color { RED GREEN BLUE PINK }
    input Paint { color: Color  coats: Int! = 1  note: String  extra: Int }
    type Can { id: ID!  color: Color!  at: DateTimeISO!  mix(first: Int! = 20, after: String, more: Boolean): [Color!]!  added: Int }
    type Query { can(id: ID!): Can  open(y: Int): Int }`;

  it('accepts a schema that keeps every STABLE declaration and only grows (values, optional fields, defaults, stricter outputs)', () => {
    expect(stableContractProblems(contract, schemaOf(good))).toEqual([]);
  });

  it.each([
    ['an enum value on a later line of a multi-line enum', good.replace('BLUE ', ''), 'Color.BLUE is missing'],
    ['a field of a type marked by the comment line before it', good.replace('  note: String', ''), 'Paint.note is missing'],
    ['an input field whose type changed', good.replace('coats: Int! = 1', 'coats: String'), 'Paint.coats is String, the contract says Int'],
    ['an input field made required without a default', good.replace('coats: Int! = 1', 'coats: Int!'), 'Paint.coats is Int!, the contract says Int'],
    ['a new required input field', good.replace('extra: Int', 'extra: Int!'), 'Paint.extra is new and required: existing callers do not send it'],
    ['an output field made nullable', good.replace('id: ID!', 'id: ID'), 'Can.id is ID, the contract says ID!'],
    ['an argument removed', good.replace('after: String, ', ''), 'Can.mix().after is missing'],
    ['a new required argument', good.replace('more: Boolean', 'more: Boolean!'), 'Can.mix().more is new and required: existing callers do not send it'],
    ['a list turned into a scalar', good.replace('[Color!]!  added', 'Color!  added'), 'Can.mix is Color!, the contract says [Color!]!'],
    ['a STABLE root field removed', good.replace('can(id: ID!): Can  ', ''), 'Query.can is missing'],
  ])('reports %s', (_what, schema, problem) => {
    expect(stableContractProblems(contract, schemaOf(schema))).toEqual([problem]);
  });

  it('ignores declarations that are not STABLE', () => {
    expect(stableContractProblems(contract, schemaOf(good.replace('open(y: Int): Int', 'other: Int')))).toEqual([]);
  });
});
