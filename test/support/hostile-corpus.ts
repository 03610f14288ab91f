/**
 * The hostile-input corpus (issue 10, Tests): a deterministic list of requests a hostile client might send,
 * generated from a seed, as the bytes that go on the wire (raw sockets: fetch refuses to send most of them).
 *
 * Built from tables, so what the schema grows is covered without editing this file:
 * - GraphQL: every root field of the built schema (Query and Mutation, read by introspection of the
 *   GraphQLSchema object) with a well-formed argument set, then one MUTATION from MUTATIONS applied to one
 *   argument path (found by walking the input types): injection strings in every string/ID argument, wrong
 *   types, unknown enum values, huge lists, cross-tenant ids and cursors, missing and unknown arguments,
 *   variables of the wrong type, values inline or as variables;
 * - documents: alias, fragment, directive, depth and root-field floods, broken syntax, many operations;
 * - envelopes: malformed JSON, invalid UTF-8, batches (array bodies), wrong field types, persisted queries;
 * - transport: methods, request targets, GET with query strings, content types, authorization headers,
 *   chunked and pipelined bodies, and a few slow and aborted bodies;
 * - POST /export: its body's fields spoiled one at a time (the filter by the same MUTATIONS, walked from the schema's
 *   AuditEventFilter), resume tokens forged, cut, of the other tenant or another filter, `after` ids, limits, formats,
 *   envelopes, tokens, content types, aborted and slow bodies, a client that never reads;
 * - /graphql/stream: every Subscription field (auditEventTail) spoiled like the others, envelopes, accept headers,
 *   content types, tokens, GET with query strings, clients that subscribe and leave.
 * Pure: no I/O; the same seed and inputs give the same requests.
 */
import { createHash } from 'node:crypto';
import {
  getNamedType, GraphQLArgument, GraphQLField, GraphQLInputType, GraphQLNamedType, GraphQLObjectType, GraphQLSchema,
  isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType, isLeafType,
} from 'graphql';
import { prng } from '../../bench/prng';

/** One request: the chunks written on a fresh connection (a pause of `gapMs` between them). */
export interface HostileRequest {
  /** Family (for the report) and a short description. */
  family: string;
  label: string;
  chunks: Buffer[];
  gapMs?: number;
  /** The client leaves after writing (an aborted body): no answer is expected. */
  abort?: boolean;
}

/** What the corpus aims at: the caller's own tenant (A) and another tenant's ids (B), never B's token. */
export interface CorpusTargets {
  token: string;
  serviceId: string;
  eventId: string;
  foreignServiceId: string;
  foreignEventId: string;
  /** Cursors that belong to the other tenant's pages (events, policy history). */
  foreignCursors: string[];
  maxBodyBytes: number;
  /** A resume token of an export of the caller's service (filter `exportFilter`), and one of the other tenant's. */
  exportResume: string;
  foreignExportResume: string;
  exportFilter: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Value tables

/** Strings a hostile client puts in every string argument. None holds a token, a connection URL or a stack frame. */
export const INJECTIONS: readonly string[] = [
  // SQL
  `' OR '1'='1`, `'; DROP TABLE audit_policy; --`, `"; DROP DATABASE postgres; --`, `x'); SELECT pg_sleep(30); --`,
  `$$; ALTER SYSTEM SET pgaudit.log = 'none'; SELECT pg_reload_conf(); $$`, `\\'; RESET ALL; --`, `E'\\x00'`,
  `1; COPY (SELECT 1) TO PROGRAM 'id'`, `pgaudit.log = 'all'`, `postgres" WITH OWNER "avnadmin`, `"quoted""ident"`,
  `U&'\\0041'`, `'||(SELECT current_setting('data_directory'))||'`, `template1`, `ALL, -MISC`, `none`,
  // GraphQL
  `{ __schema { types { name fields { name } } } }`, `") { id } } mutation { disableAuditLogging(input: {serviceId: "x"}) { statements } } #`,
  `$input`, `@skip(if: true)`, `... on Query { __typename }`, `"""block"""`, `\\u0000`, `__typename`,
  // OpenSearch query_string / Lucene / DSL
  `*`, `*:*`, `serviceId:*`, `_id:* OR projectId:*`, `statement:/.*/`, `/.*(a+)+$/`, `a~10 AND b^100`, `((((((((((((`,
  `\\`, `[* TO *]`, `{"match_all":{}}`, `"}},"query":{"match_all":{}},"x":{"`, `_source`, `doc['serviceId'].value`,
  `+serviceId:* -serviceId:none`, `a AND NOT b OR c || d && e`, `?*?*?*?*`, `_all`, `*,-*`, `pgaudit-*/_search`,
  // JSON and prototype names
  `{"$gt": ""}`, `{"__proto__": {"polluted": true}}`, `__proto__`, `constructor`, `prototype`, `toString`, `hasOwnProperty`,
  `]}`, `"},{"`, `null`, `true`, `[]`,
  // paths
  `../../../../etc/passwd`, `..%2f..%2f..%2fetc%2fpasswd`, `....//....//etc/hosts`, `/proc/self/environ`, `C:\\Windows\\win.ini`,
  `file:///etc/passwd`, `\\\\evil.example\\share`, `%2e%2e%2f`,
  // CRLF and header injection
  `x\r\nx-injected: 1`, `x\r\n\r\nHTTP/1.1 200 OK\r\nx-injected: 1`, `%0d%0ax-injected:%201`, `\n`, `\r`,
  // NUL bytes and control characters
  `a\u0000b`, `\u0000`, `\u0000'; DROP TABLE x; --`, `\u0001\u0002\u0003\u001b[31m`, `\u007f`,
  // unicode oddities
  `\u202Eevil`, `a\u200Db`, `\uFEFFbom`, `\uD800`, `\uDFFF\uD800`, `😀`, `e\u0301`, `раyload`, `\u0085`, `\u2028\u2029`,
  `\uFFFF`, `＇ＯＲ １＝１`, `Ã©`, `ǅ`, `ß`, `İ`,
  // format strings and templates
  `%s%s%s%n`, `{{7*7}}`, `\${7*7}`, `#{7*7}`, `<script>alert(1)</script>`,
  // numbers and edges
  `NaN`, `Infinity`, `-0`, `1e309`, `0x10`, ``, `   `, `-1`, `9999999999999999999999`,
];

/** Very long strings (each a separate value: 1 KiB to 400 KiB in UTF-8). */
const LONG_STRINGS: readonly (() => string)[] = [
  () => 'A'.repeat(1024), () => 'B'.repeat(70_000), () => 'é'.repeat(30_000), () => '日'.repeat(100_000),
  () => '😀'.repeat(50_000), () => `'`.repeat(20_000), () => '\\'.repeat(20_000), () => '*'.repeat(40_000),
];

/** Values of the wrong type for anything. */
const WRONG_TYPES: readonly unknown[] = [
  true, false, 1.5, -1, 0, 2 ** 31, -(2 ** 31) - 1, 1e308, 'string', '', [], [1, 2], [[[]]], {}, { a: 1 }, null,
  { serviceId: 'x' }, ['a', 'b'], Number.MAX_SAFE_INTEGER + 2,
];

/** Not enum values of any enum (or of the wrong case). */
const UNKNOWN_ENUMS: readonly string[] = ['EVERYTHING', 'read', 'All', '', 'ALL ', 'DDL,WRITE', '__proto__', 'NULL', '-MISC', 'MISC_SET\u0000'];

/** Date-times: invalid, edge and huge ranges. */
const DATES: readonly unknown[] = [
  'not a date', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z', '2026-11-30', '2026-11-30T25:61:61Z', '-000001-01-01T00:00:00Z', 1e15, -1, '2026-11-30T00:00:00+99:99',
];

/** Histogram intervals, good and bad. */
const INTERVALS: readonly string[] = ['1ms', '0m', '-1h', '1y', '1000000d', '1.5h', '1h; drop', '1 h', '1M', '1q', '99999999999999999999s', '1s', '1m', '1d'];

// ---------------------------------------------------------------------------------------------------------
// Wire format

/** One HTTP/1.1 request as bytes; `content-length` added for a body unless a header names a length or chunking. */
export function httpWire(method: string, target: string, headers: [string, string][], body?: string | Buffer): Buffer {
  const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const names = new Set(headers.map(([k]) => k.toLowerCase()));
  const all: [string, string][] = [['host', 'localhost'], ...headers];
  if (b && !names.has('content-length') && !names.has('transfer-encoding')) all.push(['content-length', String(b.length)]);
  if (!names.has('connection')) all.push(['connection', 'close']);
  const head = `${method} ${target} HTTP/1.1\r\n${all.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return b ? Buffer.concat([Buffer.from(head, 'latin1'), b]) : Buffer.from(head, 'latin1');
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL documents from the schema

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A marker that a string is an enum value (printed bare in literals, as a string in variables). */
class EnumValue { constructor(readonly name: string) {} }

/** A GraphQL literal of any JS value (enum values bare); wrong types are printed as they are, on purpose. */
export function literal(v: unknown): string {
  if (v instanceof EnumValue) return v.name;
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')}}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  return String(v);
}

/** The JSON value of a variable (enum markers as their names). */
const toJson = (v: unknown): unknown =>
  v instanceof EnumValue ? v.name : Array.isArray(v) ? v.map(toJson)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)])) : v;

/** A selection set of every field without required arguments, `depth` levels deep (cycles stop at the depth). */
export function selectionOf(type: GraphQLNamedType, depth: number): string {
  if (!isObjectType(type)) return '';
  const parts: string[] = [];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const named = getNamedType(f.type);
    if (isLeafType(named)) parts.push(f.name);
    else if (depth > 1) { const inner = selectionOf(named, depth - 1); if (inner) parts.push(`${f.name} { ${inner} }`); }
  }
  return parts.join(' ');
}

/** The ids a well-formed call uses. */
interface Ids { serviceId: string; eventId: string }

/** A well-formed value for an input type (required input fields always, optional ones sometimes). */
function validValue(type: GraphQLInputType, name: string, ids: Ids, r: Rand, depth = 0): unknown {
  if (isNonNullType(type)) return validValue(type.ofType, name, ids, r, depth);
  if (isListType(type)) return [validValue(type.ofType, name, ids, r, depth)];
  if (isEnumType(type)) return new EnumValue(pick(r, type.getValues()).name);
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      const required = isNonNullType(f.type) && f.defaultValue === undefined;
      if (required || (depth < 2 && r() < 0.35)) out[f.name] = validValue(f.type, f.name, ids, r, depth + 1);
    }
    // mutations run as dry runs unless a mutation of the argument says otherwise
    if ('dryRun' in type.getFields() && out.dryRun === undefined) out.dryRun = r() < 0.8;
    return out;
  }
  switch (type.name) {
    case 'ID': return /^id$/i.test(name) ? ids.eventId : ids.serviceId;
    case 'Int': return /first/i.test(name) ? 1 + Math.floor(r() * 5) : Math.floor(r() * 3);
    case 'Float': return 1;
    case 'Boolean': return r() < 0.5;
    case 'DateTimeISO': return new Date(Date.UTC(2026, 10, 1 + Math.floor(r() * 28))).toISOString();
    default: return /interval/i.test(name) ? pick(r, ['1h', '1d', '5m']) : /reason/i.test(name) ? 'hostile suite' : `v${Math.floor(r() * 1000)}`;
  }
}

/** A path into an argument value: [argName, field, field, ...] with the input type found there. */
interface ArgPath { path: string[]; type: GraphQLInputType }

function argPaths(args: readonly GraphQLArgument[]): ArgPath[] {
  const out: ArgPath[] = [];
  const walk = (path: string[], type: GraphQLInputType, depth: number) => {
    out.push({ path, type });
    const named = getNamedType(type);
    if (isInputObjectType(named) && depth < 3) for (const f of Object.values(named.getFields())) walk([...path, f.name], f.type, depth + 1);
  };
  for (const a of args) walk([a.name], a.type, 0);
  return out;
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown, remove = false): void {
  let o = root;
  for (const k of path.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object' || Array.isArray(o[k]) || o[k] instanceof EnumValue) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  if (remove) delete o[path[path.length - 1]!];
  else o[path[path.length - 1]!] = value;
}

/** How one argument path is spoiled; each returns the new value, or `undefined` when it does not apply. */
type Mutation = (p: ArgPath, r: Rand, t: CorpusTargets) => unknown;
const named = (p: ArgPath) => getNamedType(p.type);
const isStringy = (p: ArgPath) => isScalarType(named(p)) && ['String', 'ID', 'DateTimeISO'].includes(named(p).name);
const isList = (p: ArgPath) => isListType(isNonNullType(p.type) ? p.type.ofType : p.type);

const MUTATIONS: Readonly<Record<string, Mutation>> = {
  injection: (p, r) => (isStringy(p) ? (isList(p) ? [pick(r, INJECTIONS), pick(r, INJECTIONS)] : pick(r, INJECTIONS)) : undefined),
  long: (p, r) => (isStringy(p) ? pick(r, LONG_STRINGS)() : undefined),
  wrongType: (_p, r) => pick(r, WRONG_TYPES),
  unknownEnum: (p, r) => (isEnumType(named(p)) ? (isList(p) ? [pick(r, UNKNOWN_ENUMS)] : pick(r, UNKNOWN_ENUMS)) : undefined),
  hugeList: (p, r, t) => {
    if (!isList(p)) return undefined;
    const n = pick(r, [1000, 10_000, 60_000]);
    const n0 = named(p);
    const item = isEnumType(n0) ? new EnumValue(pick(r, n0.getValues()).name) : isStringy(p) ? pick(r, INJECTIONS) : 1;
    return Array.from({ length: Math.min(n, Math.floor(t.maxBodyBytes / 40)) }, () => item);
  },
  crossTenant: (p, r, t) => {
    const n = named(p).name;
    if (n === 'ID') return /^id$/i.test(p.path[p.path.length - 1]!) ? t.foreignEventId : t.foreignServiceId;
    if (/after/i.test(p.path[p.path.length - 1]!)) return pick(r, t.foreignCursors);
    return undefined;
  },
  foreignCursor: (p, r, t) => (/after|cursor/i.test(p.path[p.path.length - 1]!) ? pick(r, t.foreignCursors) + pick(r, ['', 'x', '==', '%00']) : undefined),
  date: (p, r) => (named(p).name === 'DateTimeISO' ? pick(r, DATES) : undefined),
  interval: (p, r) => (/interval/i.test(p.path[p.path.length - 1]!) ? pick(r, INTERVALS) : undefined),
  idVariant: (p, r, t) => (named(p).name === 'ID' ? pick(r, [
    t.serviceId.toUpperCase(), ` ${t.serviceId} `, `${t.serviceId}x`, t.serviceId.slice(0, 35), '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff', t.serviceId.replace(/-/g, ''), `{${t.serviceId}}`, `${t.serviceId}\u0000`, '1', '-1', 'null']) : undefined),
  extremeInt: (p, r) => (named(p).name === 'Int' ? pick(r, [0, -1, 101, 2147483647, -2147483648, 1000000]) : undefined),
  nullValue: () => null,
  remove: () => REMOVE,
  unknownField: (p) => (isInputObjectType(named(p)) ? UNKNOWN_FIELD : undefined),
};
const REMOVE = Symbol('remove');
const UNKNOWN_FIELD = Symbol('unknown field');

/** A root field called with one spoiled argument; as variables (most) or inline literals. */
function fieldRequest(r: Rand, t: CorpusTargets, opType: 'query' | 'mutation' | 'subscription', field: GraphQLField<unknown, unknown>, spoil = true): { label: string; body: unknown } {
  const ids = { serviceId: t.serviceId, eventId: t.eventId };
  const args: Record<string, unknown> = {};
  for (const a of field.args) {
    if ((isNonNullType(a.type) && a.defaultValue === undefined) || r() < 0.5) args[a.name] = validValue(a.type, a.name, ids, r);
  }
  let label = 'well-formed';
  const paths = argPaths(field.args);
  if (spoil && paths.length > 0) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const name = pick(r, Object.keys(MUTATIONS));
      const p = pick(r, paths);
      const v = MUTATIONS[name]!(p, r, t);
      if (v === undefined) continue;
      if (v === REMOVE) setPath(args, p.path, undefined, true);
      else if (v === UNKNOWN_FIELD) setPath(args, [...p.path, pick(r, ['everything', '__proto__', 'serviceId_', 'constructor'])], true);
      else setPath(args, p.path, v);
      label = `${name} ${p.path.join('.')}`;
      break;
    }
  }
  const selection = selectionOf(getNamedType(field.type), 1 + Math.floor(r() * 3));
  const sel = selection ? ` { ${selection} }` : '';
  const style = spoil ? r() : r() * 0.9;
  if (style < 0.3) {   // inline literals
    const argText = Object.entries(args).map(([k, v]) => `${k}: ${literal(v)}`).join(', ');
    return { label: `${field.name} ${label} (inline)`, body: { query: `${opType} { ${field.name}${argText ? `(${argText})` : ''}${sel} }` } };
  }
  // variables; sometimes declared with a wrong type or left undeclared
  const decls: string[] = [];
  const uses: string[] = [];
  const vars: Record<string, unknown> = {};
  for (const a of field.args) {
    if (!(a.name in args)) continue;
    let type = String(a.type);
    if (style > 0.93) type = pick(r, ['Int', 'String!', '[ID!]!', 'Boolean', 'AuditSettingsInput', 'NoSuchType', 'ID']);
    if (!(style > 0.97 && a === field.args[0])) decls.push(`$${a.name}: ${type}`);
    uses.push(`${a.name}: $${a.name}`);
    vars[a.name] = toJson(args[a.name]);
  }
  const query = `${opType} Hostile${decls.length ? `(${decls.join(', ')})` : ''} { ${field.name}${uses.length ? `(${uses.join(', ')})` : ''}${sel} }`;
  const suffix = style > 0.97 ? ' (undeclared variable)' : style > 0.93 ? ' (variable of a wrong type)' : '';
  return { label: `${field.name} ${label}${suffix}`, body: { query, variables: vars, ...(r() < 0.1 ? { operationName: 'Hostile' } : {}) } };
}

/** Documents that flood or break the parser and validator. */
function documentRequest(r: Rand, t: CorpusTargets, fields: { op: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> }[]): { label: string; body: unknown } {
  const { op, field } = pick(r, fields);
  const call = `${field.name}(${field.args.some((a) => a.name === 'serviceId') ? `serviceId: ${JSON.stringify(t.serviceId)}` : ''})`.replace('()', '');
  const sel = selectionOf(getNamedType(field.type), 1) || '';
  const leaf = sel ? `{ ${sel} }` : '';
  const n = pick(r, [11, 50, 500, 5000]);
  const kinds: Record<string, () => string> = {
    aliases: () => `${op} { ${Array.from({ length: n }, (_, i) => `a${i}: ${call} ${leaf}`).join(' ')} }`,
    rootFields: () => `${op} { ${Array.from({ length: n }, () => `__typename`).join(' ')} }`,
    fragments: () => `query { ...F0 } ${Array.from({ length: Math.min(n, 2000) }, (_, i) => `fragment F${i} on Query { __typename ...F${i + 1} }`).join(' ')} fragment F${Math.min(n, 2000)} on Query { __typename }`,
    fragmentCycle: () => `query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
    fragmentFanout: () => `query { ${Array.from({ length: n }, () => '...F').join(' ')} } fragment F on Query { __typename }`,
    directives: () => `${op} { ${call} ${'@include(if: true) '.repeat(n)}${leaf} }`,
    unknownDirectives: () => `${op} { ${call} ${'@hostile '.repeat(Math.min(n, 500))}${leaf} }`,
    depth: () => `query { auditPolicy(serviceId: ${JSON.stringify(t.serviceId)}) { ${'history { edges { node { '.repeat(Math.min(n, 300))}version${' } } }'.repeat(Math.min(n, 300))} } }`,
    nesting: () => `query { ${'{'.repeat(n)}${'}'.repeat(n)} }`,
    introspection: () => `query { __schema { types { name fields { name args { name type { name ofType { name ofType { name } } } } } } } }`,
    typenameFlood: () => `query { ${'__typename '.repeat(n * 2)} }`,
    longName: () => `query { ${'x'.repeat(n * 100)} }`,
    manyOperations: () => Array.from({ length: Math.min(n, 200) }, (_, i) => `query Q${i} { __typename }`).join(' '),
    anonymousTwice: () => `query { __typename } query { __typename }`,
    subscription: () => `subscription { ${call} ${leaf} }`,
    truncated: () => { const q = `${op} { ${call} ${leaf} }`; return q.slice(0, Math.floor(r() * q.length)); },
    garbage: () => pick(r, ['', ' ', '}', '{', '{{{', 'query', 'mutation {', '"unterminated', '# only a comment', '\u0000', 'query { a(b: $) }', `query { ${call} @ }`, 'query($x: ) { __typename }', '@', '...', 'fragment F on Nothing { x } query { ...F }']),
    unknownField: () => `${op} { noSuchField${Math.floor(r() * 1000)} }`,
    blockStrings: () => `query { auditPolicy(serviceId: """${pick(r, INJECTIONS).replace(/"""/g, '')}""") { id } }`,
  };
  const kind = pick(r, Object.keys(kinds));
  return { label: `document ${kind}${['aliases', 'rootFields', 'fragments', 'fragmentFanout', 'directives', 'typenameFlood', 'depth', 'nesting'].includes(kind) ? ` x${n}` : ''} (${field.name})`, body: { query: kinds[kind]!() } };
}

// ---------------------------------------------------------------------------------------------------------
// The whole corpus

const AUTH_VARIANTS = (t: CorpusTargets): [string, string][][] => [
  [], [['authorization', '']], [['authorization', 'Bearer']], [['authorization', 'Bearer ']], [['authorization', `Basic ${Buffer.from('a:b').toString('base64')}`]],
  [['authorization', `bearer ${t.token}`]], [['authorization', `BEARER ${t.token}`]], [['authorization', `Bearer  ${t.token}`]],
  [['authorization', `Bearer ${t.token}x`]], [['authorization', `Bearer ${t.token.slice(0, -1)}`]], [['authorization', `Bearer pga_${'0'.repeat(43)}`]],
  [['authorization', `Bearer pga_${'z'.repeat(4000)}`]], [['authorization', `Bearer ${t.token}, Bearer ${t.token}`]], [['authorization', `Bearer ${t.token}\t`]],
  [['authorization', `Bearer ' OR '1'='1`]], [['authorization', 'Bearer pga_\u00ff\u00fe']], [['authorization', `Bearer ${t.token}`], ['authorization', 'Bearer other']],
  [['authorization', `Token ${t.token}`]], [['authorization', t.token]],
];

const CONTENT_TYPES: readonly (string | null)[] = [
  null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/json, text/plain', 'application/graphql-response+json', 'application/jsonx',
  'application/json; boundary=\u00ff', '', 'application/json;;;', 'application/json; charset="utf-8"',
];

const TARGETS: readonly string[] = [
  '/graphql/', '/GRAPHQL', '/graphql/..', '/graphql/../healthz', '/graphql;x=1', '/graphql%00', '/graphql%2f', '/%2e%2e/%2e%2e/etc/passwd',
  '/graphql?%ZZ', '/graphql?query=%FF%FE', '/graphql#fragment', '/graphql?', '/graphql??', '/graphql?query', '/graphql?query=&query=',
  '/..%2f..%2fetc/passwd', '/graphql/../../../etc/passwd', '/healthz/..', '/readyz?x=\u00ff', '/metrics', '/metrics/../graphql', '/nothing',
  '/graphql?a=' + 'b'.repeat(8000), '/' + 'a'.repeat(4000), '/\u00c3\u00a9', '/graphql\t', '/graphql%0d%0ax-injected:%201', '/%u0000',
];

/** Request lines and heads Node's parser (or the router) must refuse with a 4xx. */
const RAW_HEADS: readonly string[] = [
  'GET // HTTP/1.1', 'GET //graphql HTTP/1.1', 'GET /\\\\evil.example/graphql HTTP/1.1', 'GET http://evil.example/graphql HTTP/1.1',
  'OPTIONS * HTTP/1.1', 'GET graphql HTTP/1.1', 'FOO /graphql HTTP/1.1', 'GE T /graphql HTTP/1.1', 'GET /graphql HTTP/9.9',
  '\u0000\u0001garbage', 'GET /graphql HTTP/1.1 extra', 'GET  /graphql HTTP/1.1', 'GET /graphql', 'GET /gra\u0000phql HTTP/1.1',
  'GET /graphql HTTP/1.1\r\nx-broken header', 'GET /graphql HTTP/1.1\r\nx bad: 1', 'GET /graphql HTTP/1.1\r\nx-bad: a\u0001b',
  'POST /graphql HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2', 'POST /graphql HTTP/1.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked',
  'POST /graphql HTTP/1.1\r\ncontent-length: -1', 'POST /graphql HTTP/1.1\r\ncontent-length: 1e3', 'POST /graphql HTTP/1.1\r\ntransfer-encoding: gzip',
  'GET /graphql HTTP/1.1\r\nx-request-id: a\rb', 'GET /healthz HTTP/1.1\r\n x-folded: 1', 'CONNECT localhost:1 HTTP/1.1', 'TRACE /graphql HTTP/1.1',
  'GET /\u00ff\u00fe HTTP/1.1', 'GET /graphql HTTP/1.1\r\nconnection: upgrade\r\nupgrade: websocket', 'GET /healthz HTTP/1.1\r\nupgrade: h2c',
  'CONNECT 127.0.0.1:80 HTTP/1.1', 'CONNECT /graphql HTTP/1.1', 'PRI * HTTP/2.0\r\n\r\nSM', 'GET /graphql HTTP/1.0', 'GET /healthz HTTP/1.1\r\nx-big: ' + 'a'.repeat(20_000),
];

function envelopeRequest(r: Rand, t: CorpusTargets, goodQuery: () => unknown): { label: string; body: Buffer | string } {
  const good = JSON.stringify(goodQuery());
  const kinds: Record<string, () => Buffer | string> = {
    truncatedJson: () => good.slice(0, Math.floor(r() * good.length)),
    invalidUtf8InString: () => Buffer.concat([Buffer.from(good.slice(0, good.indexOf('{', 1) + 1) || '{"query":"', 'utf8'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(good.slice((good.indexOf('{', 1) + 1) || 10), 'utf8')]),
    invalidUtf8Query: () => Buffer.concat([Buffer.from('{"query":"{ __typename ', 'utf8'), Buffer.from([0xe6, 0x97]), Buffer.from('}"}', 'utf8')]),
    bom: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]),
    utf16: () => Buffer.from(good, 'utf16le'),
    batch: () => JSON.stringify(Array.from({ length: pick(r, [1, 2, 100]) }, goodQuery)),
    emptyBatch: () => '[]',
    queryNumber: () => JSON.stringify({ query: 42 }), queryArray: () => JSON.stringify({ query: ['{ __typename }'] }),
    queryObject: () => JSON.stringify({ query: { kind: 'Document', definitions: [] } }), queryNull: () => JSON.stringify({ query: null }),
    variablesString: () => JSON.stringify({ ...JSON.parse(good), variables: '{"serviceId":"x"}' }),
    variablesArray: () => JSON.stringify({ ...JSON.parse(good), variables: [1, 2] }),
    operationNameWrong: () => JSON.stringify({ ...JSON.parse(good), operationName: pick(r, ['Nope', '', 42, null, ['a']]) }),
    extensionsWeird: () => JSON.stringify({ ...JSON.parse(good), extensions: pick(r, ['x', [1], { persistedQuery: { version: 1, sha256Hash: 'x'.repeat(64) } }, { persistedQuery: 'x' }, { persistedQuery: { version: 2 } }, { cost: 0 }]) }),
    persistedOnly: () => JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(String(r())).digest('hex') } } }),
    persistedWrongHash: () => JSON.stringify({ ...JSON.parse(good), extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }),
    protoPollution: () => `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, "query": "{ __typename }"}`,
    duplicateKeys: () => `{"query": "{ __typename }", "query": ${JSON.stringify((JSON.parse(good) as { query: string }).query)}}`,
    deepJson: () => '['.repeat(pick(r, [1000, 100_000])) + ']'.repeat(pick(r, [0, 1000])),
    deepVariables: () => JSON.stringify({ ...JSON.parse(good), variables: JSON.parse(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`) }),
    hugeNumber: () => `{"query": "{ __typename }", "variables": {"x": 1${'0'.repeat(5000)}}}`,
    notJson: () => pick(r, ['query={__typename}', 'null', 'true', '"string"', '42', '{', '}', '\u0000', ' ', 'undefined', 'NaN']),
    nulBytes: () => good.replace('{', '{\u0000'),
    tooLarge: () => JSON.stringify({ query: '{ __typename }', variables: { x: 'x'.repeat(t.maxBodyBytes + 10) } }),
    trailingGarbage: () => `${good}garbage`,
    twoDocuments: () => `${good}${good}`,
  };
  const kind = pick(r, Object.keys(kinds));
  return { label: `envelope ${kind}`, body: kinds[kind]!() };
}

/**
 * The corpus: `count` distinct requests from `seed` (distinct by their bytes). The transport-level tables
 * (RAW_HEADS, a few slow and aborted bodies) come first, whole; the rest are drawn from the families below.
 */
export function hostileCorpus(schema: GraphQLSchema, t: CorpusTargets, seed: number, count: number): HostileRequest[] {
  const r = prng(seed);
  const fields: { op: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> }[] = [];
  for (const [op, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const f of Object.values((type as GraphQLObjectType | null | undefined)?.getFields() ?? {})) fields.push({ op, field: f });
  }
  const out: HostileRequest[] = [];
  const seen = new Set<string>();
  const add = (req: HostileRequest) => {
    const key = createHash('sha256').update(Buffer.concat(req.chunks)).update(String(req.gapMs ?? '')).update(String(req.abort ?? '')).digest('hex');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(req);
  };
  const auth: [string, string] = ['authorization', `Bearer ${t.token}`];
  const json: [string, string] = ['content-type', 'application/json'];
  const post = (family: string, label: string, body: string | Buffer, headers: [string, string][] = [json, auth]) =>
    add({ family, label, chunks: [httpWire('POST', '/graphql', headers, body)] });

  // transport: fixed tables, whole
  for (const line of RAW_HEADS) add({ family: 'request-line', label: JSON.stringify(line.slice(0, 60)), chunks: [Buffer.from(`${line}\r\nhost: localhost\r\nconnection: close\r\n\r\n`, 'latin1')] });
  const eligibility = JSON.stringify({ query: `{ auditEligibility(serviceId: ${JSON.stringify(t.serviceId)}) { eligible } }` });
  for (const [i, cut] of [10, 40, eligibility.length - 1].entries()) {   // aborted bodies: the client leaves mid-body
    add({ family: 'aborted', label: `aborted after ${cut} bytes`, abort: true,
      chunks: [httpWire('POST', '/graphql', [json, auth, ['content-length', String(eligibility.length + i * 1000)]], eligibility.slice(0, cut))] });
  }
  const slowHead = httpWire('POST', '/graphql', [json, auth, ['content-length', String(eligibility.length)]]);
  add({ family: 'slow', label: 'a body dribbled in 4 pieces, then whole', gapMs: 150,
    chunks: [slowHead, ...[0, 1, 2, 3].map((i) => Buffer.from(eligibility.slice(i * Math.ceil(eligibility.length / 4), (i + 1) * Math.ceil(eligibility.length / 4))))] });
  add({ family: 'slow', label: 'a body that never ends', chunks: [slowHead, Buffer.from(eligibility.slice(0, 20))], gapMs: 0 });
  add({ family: 'slow', label: 'a head that never ends', chunks: [Buffer.from('POST /graphql HTTP/1.1\r\nhost: localhost\r\n')] });
  add({ family: 'chunked', label: 'a valid chunked body',
    chunks: [httpWire('POST', '/graphql', [json, auth, ['transfer-encoding', 'chunked']], `${eligibility.length.toString(16)}\r\n${eligibility}\r\n0\r\n\r\n`)] });
  for (const bad of ['zz\r\n{}\r\n0\r\n\r\n', 'ffffffffffffffff\r\n{}\r\n0\r\n\r\n', '2;ext=1\r\n{}\r\n0\r\n\r\n', '1\r\n{}\r\n0\r\n\r\n', '-1\r\n\r\n']) {
    add({ family: 'chunked', label: `chunked ${JSON.stringify(bad.slice(0, 20))}`, chunks: [httpWire('POST', '/graphql', [json, auth, ['transfer-encoding', 'chunked']], bad)] });
  }
  add({ family: 'pipelined', label: 'two requests in one write', chunks: [Buffer.concat([
    httpWire('POST', '/graphql', [json, auth, ['connection', 'keep-alive']], eligibility), httpWire('GET', '/healthz', [])])] });
  add({ family: 'expect', label: 'expect: 100-continue', chunks: [httpWire('POST', '/graphql', [json, auth, ['expect', '100-continue']], eligibility)] });
  add({ family: 'expect', label: 'expect: something else', chunks: [httpWire('POST', '/graphql', [json, auth, ['expect', 'x-hostile']], eligibility)] });

  const goodQuery = () => fieldRequest(r, t, 'query', pick(r, fields.filter((f) => f.op === 'query')).field, false).body;
  const families: [number, () => void][] = [
    [50, () => { const { op, field } = pick(r, fields); const q = fieldRequest(r, t, op, field); post(`field:${field.name}`, q.label, JSON.stringify(q.body)); }],
    [12, () => { const q = documentRequest(r, t, fields); post('document', q.label, JSON.stringify(q.body)); }],
    [12, () => { const e = envelopeRequest(r, t, goodQuery); post('envelope', e.label, e.body); }],
    [6, () => {   // GET with query strings (queries may run with a preflight header; mutations must not)
      const { op, field } = pick(r, fields);
      const q = fieldRequest(r, t, op, field).body as { query: string; variables?: unknown };
      const params = new URLSearchParams({ query: q.query, ...(q.variables ? { variables: JSON.stringify(q.variables) } : {}) });
      if (r() < 0.2) params.append('extensions', pick(r, ['{', '[]', '{"persistedQuery":{"version":1,"sha256Hash":"x"}}']));
      const headers: [string, string][] = [auth, ...(r() < 0.7 ? [['apollo-require-preflight', 'true'] as [string, string]] : [])];
      add({ family: 'get', label: `GET ${field.name}`, chunks: [httpWire('GET', `/graphql?${params.toString()}`.slice(0, 12_000), headers)] });
    }],
    [6, () => { const ct = pick(r, CONTENT_TYPES); const body = JSON.stringify(goodQuery()); post('content-type', `content-type ${JSON.stringify(ct)}`, body, [...(ct === null ? [] : [['content-type', ct] as [string, string]]), auth]); }],
    [6, () => { const a = pick(r, AUTH_VARIANTS(t)); post('authorization', `authorization ${a.map(([, v]) => v.slice(0, 12).replace(t.token.slice(0, 12), 'TOKEN')).join('|') || '(none)'}`, JSON.stringify(goodQuery()), [json, ...a]); }],
    [5, () => {   // methods and request targets
      const method = pick(r, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
      const target = pick(r, TARGETS);
      add({ family: 'target', label: `${method} ${target.slice(0, 60)}`, chunks: [httpWire(method, target, [json, auth], method === 'GET' || method === 'HEAD' ? undefined : JSON.stringify(goodQuery()))] });
    }],
    [3, () => {   // headers a client controls
      const h = pick(r, [['x-request-id', 'x'.repeat(500)], ['x-request-id', '../../etc/passwd'], ['x-request-id', '\u00ff\u00fe'], ['x-request-id', ''],
        ['apollographql-client-name', pick(r, INJECTIONS.filter((s) => !/[\r\n\u0000-\u001f\u007f]/.test(s) && /^[\u0020-\u00ff]*$/.test(s)))], ['accept', 'text/event-stream'],
        ['accept', 'multipart/mixed; deferSpec=20220824'], ['accept', 'application/graphql-response+json'], ['content-encoding', 'gzip'],
        ['x-forwarded-for', '127.0.0.1'], ['cookie', 'a=b'], ['accept-charset', 'utf-16']] as [string, string][]);
      post('header', `header ${h[0]}: ${h[1].slice(0, 20)}`, JSON.stringify(goodQuery()), [json, auth, h]);
    }],
  ];
  families.push(...routeFamilies(r, t, schema, add, goodQuery));
  const total = families.reduce((s, [w]) => s + w, 0);
  for (let guard = 0; out.length < count && guard < count * 20; guard++) {
    let x = r() * total;
    for (const [w, make] of families) { if ((x -= w) < 0) { make(); break; } }
  }
  return out.slice(0, Math.max(count, 0));
}

// ---------------------------------------------------------------------------------------------------------
// The routes outside Apollo: POST /export and /graphql/stream

/** The families of requests to POST /export and /graphql/stream, with their weights (beside the /graphql ones above). */
function routeFamilies(r: Rand, t: CorpusTargets, schema: GraphQLSchema, add: (req: HostileRequest) => void, goodQuery: () => unknown): [number, () => void][] {
  const auth: [string, string] = ['authorization', `Bearer ${t.token}`];
  const json: [string, string] = ['content-type', 'application/json'];
  const sse: [string, string] = ['accept', 'text/event-stream'];
  const filterType = schema.getType('AuditEventFilter') as GraphQLInputType;
  const ids = { serviceId: t.serviceId, eventId: t.eventId };
  const exportBody = (): Record<string, unknown> => {
    const body: Record<string, unknown> = { serviceId: t.serviceId };
    if (r() < 0.5) body.format = pick(r, ['ndjson', 'csv']);
    if (r() < 0.5) body.filter = toJson(validValue(filterType, 'filter', ids, r));
    if (r() < 0.3) body.limit = 1 + Math.floor(r() * 3);
    return body;
  };
  const exportPost = (label: string, body: string | Buffer, headers: [string, string][] = [json, auth]) =>
    add({ family: 'export', label, chunks: [httpWire('POST', '/export', headers, body)] });

  /** One field of an export's body spoiled: the filter through MUTATIONS (a path of AuditEventFilter), the others from tables. */
  const spoiledExport = (): { label: string; body: unknown } => {
    const body = exportBody();
    const field = pick(r, ['filter', 'filter', 'filter', 'serviceId', 'format', 'limit', 'resume', 'after', 'unknown']);
    switch (field) {
      case 'filter': {
        const filter = (body.filter ?? {}) as Record<string, unknown>;
        const paths = argPaths([{ name: 'filter', type: filterType } as GraphQLArgument]).filter((p) => p.path.length > 1 || r() < 0.2);
        for (let attempt = 0; attempt < 20; attempt++) {
          const name = pick(r, Object.keys(MUTATIONS));
          const p = pick(r, paths);
          const v = MUTATIONS[name]!(p, r, t);
          if (v === undefined) continue;
          const root = { filter } as Record<string, unknown>;
          if (v === REMOVE) setPath(root, p.path, undefined, true);
          else if (v === UNKNOWN_FIELD) setPath(root, [...p.path, pick(r, ['everything', '__proto__', 'constructor'])], true);
          else setPath(root, p.path, v);
          return { label: `${name} ${p.path.join('.')}`, body: { ...body, filter: toJson(root.filter) } };
        }
        return { label: 'filter well-formed', body };
      }
      case 'serviceId': return { label: 'serviceId', body: { ...body, serviceId: pick(r, [t.foreignServiceId, pick(r, INJECTIONS), pick(r, WRONG_TYPES), pick(r, LONG_STRINGS)(), null]) } };
      case 'format': return { label: 'format', body: { ...body, format: pick(r, ['xml', 'CSV', 'json', '', 'ndjson\u0000', pick(r, INJECTIONS), pick(r, WRONG_TYPES)]) } };
      case 'limit': return { label: 'limit', body: { ...body, limit: pick(r, [0, -1, 1.5, 1e12, 2 ** 53, '10', [1], {}, null, true]) } };
      case 'resume': {
        const good = t.exportResume;
        const resume = pick(r, [good, t.foreignExportResume, good.slice(0, -1), `${good}x`, good.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
          good.split('.').reverse().join('.'), Buffer.from('{"v":1}').toString('base64url') + '.' + 'A'.repeat(43), 'x'.repeat(5000), pick(r, INJECTIONS), pick(r, WRONG_TYPES)]);
        // the right token goes with its own filter (else it is refused for the filter), sometimes with another one
        return { label: 'resume', body: { ...body, filter: r() < 0.7 ? t.exportFilter : body.filter, resume } };
      }
      case 'after': return { label: 'after', body: { ...body, filter: t.exportFilter, resume: r() < 0.8 ? t.exportResume : undefined,
        after: pick(r, [t.eventId, t.foreignEventId, pick(r, INJECTIONS), pick(r, LONG_STRINGS)(), pick(r, WRONG_TYPES), '*', `${t.eventId}*`]) } };
      default: return { label: 'unknown field', body: { ...body, [pick(r, ['everything', '__proto__', 'constructor', 'serviceId ', 'Filter'])]: pick(r, WRONG_TYPES) } };
    }
  };

  const tailField = schema.getSubscriptionType()?.getFields().auditEventTail;
  const streamPost = (label: string, body: string | Buffer, headers: [string, string][] = [json, sse, auth]) =>
    add({ family: 'stream', label, chunks: [httpWire('POST', '/graphql/stream', headers, body)] });
  const goodTail = () => (tailField ? fieldRequest(r, t, 'subscription', tailField, false).body : { query: 'subscription { __typename }' });

  const envelopes = (good: string): Record<string, () => string | Buffer> => ({
    truncated: () => good.slice(0, Math.floor(r() * good.length)),
    invalidUtf8: () => Buffer.concat([Buffer.from(good.slice(0, 5)), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(good.slice(5))]),
    bom: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]),
    utf16: () => Buffer.from(good, 'utf16le'),
    array: () => `[${good},${good}]`,
    notJson: () => pick(r, ['', 'null', 'true', '"x"', '42', '{', '}', '\u0000', 'serviceId=x', 'undefined']),
    deepJson: () => '['.repeat(pick(r, [1000, 100_000])),
    deepObject: () => `${'{"filter":'.repeat(3000)}1${'}'.repeat(3000)}`,
    hugeNumber: () => good.replace(/^\{/, `{"limit":1${'0'.repeat(5000)},`),
    protoPollution: () => good.replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},'),
    duplicateKeys: () => good.replace(/^\{/, `{"serviceId":${JSON.stringify(t.foreignServiceId)},`),
    trailingGarbage: () => `${good}garbage`,
    tooLarge: () => good.replace(/^\{/, `{"pad":"${'x'.repeat(t.maxBodyBytes)}",`),
  });

  const exportFamilies: [number, () => void][] = [
    [5, () => { const q = spoiledExport(); exportPost(q.label, JSON.stringify(q.body)); }],
    [2, () => { const kinds = envelopes(JSON.stringify(exportBody())); const k = pick(r, Object.keys(kinds)); exportPost(`envelope ${k}`, kinds[k]!()); }],
    [1, () => { const a = pick(r, AUTH_VARIANTS(t)); exportPost('authorization', JSON.stringify(exportBody()), [json, ...a]); }],
    [1, () => { const ct = pick(r, CONTENT_TYPES); exportPost(`content-type ${JSON.stringify(ct)}`, JSON.stringify(exportBody()), [...(ct === null ? [] : [['content-type', ct] as [string, string]]), auth]); }],
    [1, () => {   // methods, targets, the GraphQL body sent here, and the export body sent to /graphql
      const which = pick(r, ['method', 'target', 'graphql body', 'to /graphql']);
      const body = JSON.stringify(exportBody());
      if (which === 'method') { const m = pick(r, ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']); add({ family: 'export', label: `${m} /export`, chunks: [httpWire(m, '/export', [json, auth], m === 'GET' || m === 'HEAD' ? undefined : body)] }); }
      else if (which === 'target') { const target = pick(r, ['/export/', '/EXPORT', '/export?x=1', '/export/../graphql', '/export%00', '/export;a', '/export#x']); add({ family: 'export', label: `POST ${target}`, chunks: [httpWire('POST', target, [json, auth], body)] }); }
      else if (which === 'graphql body') exportPost('a GraphQL body', JSON.stringify(goodQuery()));
      else add({ family: 'export', label: 'an export body to /graphql', chunks: [httpWire('POST', '/graphql', [json, auth], body)] });
    }],
    [1, () => {   // transport: aborted, slow, chunked, a client that never reads (the answer still ends: it is small)
      const body = JSON.stringify(exportBody());
      const head = httpWire('POST', '/export', [json, auth, ['content-length', String(body.length)]]);
      const kind = pick(r, ['aborted', 'slow', 'chunked', 'no read', 'never ends']);
      if (kind === 'aborted') add({ family: 'export', label: `aborted after ${Math.floor(body.length / 2)} bytes`, abort: true, chunks: [head, Buffer.from(body.slice(0, Math.floor(body.length / 2)))] });
      else if (kind === 'slow') add({ family: 'export', label: 'a body dribbled in 3 pieces', gapMs: 100, chunks: [head, ...[0, 1, 2].map((i) => Buffer.from(body.slice(Math.ceil(body.length / 3) * i, Math.ceil(body.length / 3) * (i + 1))))] });
      else if (kind === 'chunked') add({ family: 'export', label: 'a chunked body', chunks: [httpWire('POST', '/export', [json, auth, ['transfer-encoding', 'chunked']], `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`)] });
      else if (kind === 'no read') add({ family: 'export', label: 'the export asked for, then the client leaves', abort: true, chunks: [httpWire('POST', '/export', [json, auth], body)] });
      else add({ family: 'slow', label: 'an export body that never ends', chunks: [head, Buffer.from(body.slice(0, 5))] });
    }],
  ];

  const streamFamilies: [number, () => void][] = [
    [5, () => {
      if (!tailField) return;
      const q = fieldRequest(r, t, 'subscription', tailField);
      streamPost(`${q.label}`, JSON.stringify(q.body));
    }],
    [2, () => {   // documents: queries and mutations sent here, floods, broken syntax
      const body = pick(r, [goodQuery(), { query: pick(r, ['subscription {', '{ __typename }', 'subscription { noSuch }', `subscription { ${'a: auditEventTail(serviceId: "x") { cursor } '.repeat(50)} }`,
        `subscription { ${'{'.repeat(5000)} }`, 'subscription A { __typename } subscription B { __typename }', 'mutation { setRedactionRules }']) }]);
      streamPost('document', JSON.stringify(body));
    }],
    [2, () => { const kinds = envelopes(JSON.stringify(goodTail())); const k = pick(r, Object.keys(kinds)); streamPost(`envelope ${k}`, kinds[k]!()); }],
    [1, () => { const a = pick(r, AUTH_VARIANTS(t)); streamPost('authorization', JSON.stringify(goodTail()), [json, sse, ...a]); }],
    [1, () => {   // content types and accept headers
      const ct = pick(r, CONTENT_TYPES);
      const accept = pick(r, [null, 'text/event-stream', 'text/event-stream, application/json', 'application/json', '*/*', 'text/event-stream; q=1', '']);
      streamPost(`content-type ${JSON.stringify(ct)} accept ${JSON.stringify(accept)}`, JSON.stringify(goodTail()),
        [...(ct === null ? [] : [['content-type', ct] as [string, string]]), ...(accept === null ? [] : [['accept', accept] as [string, string]]), auth]);
    }],
    [1, () => {   // GET with query strings, other methods; subscribing and leaving at once
      const q = goodTail() as { query: string; variables?: unknown };
      const kind = pick(r, ['get', 'method', 'leave']);
      if (kind === 'get') {
        const params = new URLSearchParams({ query: r() < 0.8 ? q.query : pick(r, INJECTIONS), ...(q.variables ? { variables: r() < 0.8 ? JSON.stringify(q.variables) : '{' } : {}) });
        add({ family: 'stream', label: 'GET with a query string', chunks: [httpWire('GET', `/graphql/stream?${params.toString()}`.slice(0, 12_000), [sse, auth])] });
      } else if (kind === 'method') {
        const m = pick(r, ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
        add({ family: 'stream', label: `${m} /graphql/stream`, chunks: [httpWire(m, '/graphql/stream', [json, sse, auth], m === 'HEAD' ? undefined : JSON.stringify(q))] });
      } else add({ family: 'stream', label: 'subscribes, then leaves at once', abort: true, chunks: [httpWire('POST', '/graphql/stream', [json, sse, auth], JSON.stringify(q))] });
    }],
  ];
  return [...exportFamilies, ...streamFamilies];
}
