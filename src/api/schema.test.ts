import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLNamedType, isEnumType, isInputObjectType, isObjectType } from 'graphql';
import { printGatewaySchema } from './schema';

const committed = readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');
const contract = readFileSync(path.join(__dirname, '../../../shared/design/api.graphql'), 'utf8');

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run emit-schema` and commit when this fails)', () => {
    expect(printGatewaySchema()).toBe(committed);
  });

  it('describes every type, field, argument and enum value', () => {
    const schema = buildSchema(committed);
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
      if (type.name.startsWith('__') || ['String', 'Boolean', 'Int', 'Float', 'ID'].includes(type.name)) continue;
      const root = ['Query', 'Mutation'].includes(type.name);   // root types carry no description in type-graphql
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

  it('keeps every STABLE name of the contract in design/api.graphql', () => {
    const schema = buildSchema(committed);
    const stableLines = contract.split('\n').filter((l) => l.includes('# STABLE'));
    for (const line of stableLines) {
      const m = /^(enum|input|type)\s+(\w+)\s*\{([^}]*)\}/.exec(line);
      if (m) {
        const type = schema.getType(m[2]!);
        expect(type).toBeDefined();
        const names = m[1] === 'enum' ? m[3]!.trim().split(/\s+/) : [...m[3]!.matchAll(/(\w+)\s*:/g)].map((x) => x[1]!);
        const have = isEnumType(type) ? type.getValues().map((v) => v.name)
          : (isObjectType(type) || isInputObjectType(type)) ? Object.keys(type.getFields()) : [];
        expect(have).toEqual(expect.arrayContaining(names));
      }
    }
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
    expect(fields('Mutation')).toEqual(['configureAuditLogging', 'disableAuditLogging', 'enableAuditLogging']);
  });
});
