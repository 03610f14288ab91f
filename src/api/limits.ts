/**
 * What one GraphQL request may ask for, checked before any resolver runs, so that no caller can make the
 * gateway open fifty connections to a customer's server or page a million events in one request:
 * - tokens: graphql-js's parser stops past `maxTokens` (GRAPHQL_PARSE_FAILED);
 * - depth, aliases and directives: graphql-armor's validation rules;
 * - fields at the root of an operation: `maxRootFields` below;
 * - cost: graphql-query-complexity over FIELD_COST, the one cost model. Every request reports its cost in
 *   `extensions.cost` as Shopify does; one over budget is refused with QUERY_TOO_COMPLEX and its cost;
 * - cost over time: with a TokenThrottle (rate-limit.ts), the cost is taken from the token's bucket, or the
 *   request is refused with RATE_LIMITED; `extensions.cost.throttleStatus` reports the bucket.
 * The limits come from configuration (GRAPHQL_MAX_*; README, Configuration).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  ASTVisitor, DocumentNode, FragmentDefinitionNode, getNamedType, GraphQLError, GraphQLSchema, isCompositeType, Kind, SelectionSetNode,
  getVariableValues, OperationDefinitionNode, ValidationContext, ValidationRule, visit,
} from 'graphql';
import { ComplexityEstimator, ComplexityEstimatorArgs, getComplexity } from 'graphql-query-complexity';
import type { GraphQLLimits } from '../base/config';
import { MAX_PAGE } from '../modules/audit-events/event.query';
import type { GatewayContext } from './context';
import { ApiError, ApiErrorCode } from './error-map';
import type { ThrottleStatus, TokenThrottle } from './rate-limit';

type Args = Record<string, unknown>;
/**
 * The page a field will return: `first`, bounded by the largest page any paged field serves (a larger `first`
 * is refused by the field's own argument check, which names the argument: the cost must not pre-empt it).
 */
const pageSize = (args: Args, fallback: number) =>
  (typeof args.first === 'number' && args.first > 0 ? Math.min(args.first, MAX_PAGE) : fallback);

/**
 * The only arguments a cost row is given (the others are left out): an operation's cost depends on its
 * document, these arguments' values and @skip/@include, so it is computed once per document and values
 * (costOf below), not per request. A row that needs another argument adds its name here.
 */
export const COST_ARGUMENTS: readonly string[] = ['first'];

/**
 * The cost model, one row per field that costs more than its shape: what reaches a customer's server, a
 * page of events (by its size) and a histogram. Every other field costs 1 if it is an object and 0 if it is a
 * scalar, plus what it selects; a list's children count once (its page size is in the row of the field that
 * pages). A row's cost includes what the field selects (`children`). `args` holds COST_ARGUMENTS only.
 */
export const FIELD_COST: Readonly<Record<string, (args: Args, children: number) => number>> = {
  // one connection to the customer's server each
  'Query.auditEligibility': (_a, children) => 25 + children,
  'Query.auditPolicy': (_a, children) => 25 + children,
  'Query.auditScopes': (_a, children) => 25 + children,
  'AuditService.eligibility': (_a, children) => 25 + children,
  'Mutation.enableAuditLogging': (_a, children) => 100 + children,
  'Mutation.configureAuditLogging': (_a, children) => 100 + children,
  'Mutation.disableAuditLogging': (_a, children) => 100 + children,
  'Mutation.reconcileAuditPolicy': (_a, children) => 100 + children,
  'Mutation.adoptAuditPolicy': (_a, children) => 100 + children,
  // a live read of the policy's scope (the request's connection to the service; drift and driftChecked share it)
  'AuditPolicy.drift': (_a, children) => 25 + children,
  'AuditPolicy.driftChecked': () => 25,
  'AuditPolicySummary.drift': (_a, children) => 25 + children,
  'AuditPolicySummary.driftChecked': () => 25,
  'Mutation.setObjectAudit': (_a, children) => 100 + children,
  // a connection to the policy's database: the auditor role's grants read from its catalogs
  'AuditPolicy.objectAudit': (_a, children) => 25 + children,
  // OpenSearch: a page and its count; each event of the page costs what it selects
  'Query.auditEvents': (args, children) => 10 + pageSize(args, 20) * Math.max(1, children),
  // OpenSearch: one event by id, whole
  'Query.auditEvent': (_a, children) => 5 + children,
  // OpenSearch: terms and a date histogram over the filter
  'Query.auditEventStats': (_a, children) => 50 + children,
  // OpenSearch: a page of session events and its count, as auditEvents
  'Query.sessionEvents': (args, children) => 10 + pageSize(args, 20) * Math.max(1, children),
  // OpenSearch: terms and a date histogram over the session events, as auditEventStats
  'Query.sessionEventStats': (_a, children) => 50 + children,
  // OpenSearch: a live tail polls for as long as it is open (its own bounds: TAIL_*); charged once, when it opens
  'Subscription.auditEventTail': (_a, children) => 50 + children,
  // the gateway database: a page of services with their policies (one query); each service costs what it selects
  // (its eligibility: a connection to that service, 25 above)
  'Query.services': (args, children) => 2 + pageSize(args, 20) * Math.max(1, children),
  // the gateway database: a page of revisions
  'AuditPolicy.history': (args, children) => 2 + pageSize(args, 20) * Math.max(1, children),
  // the gateway database: a service's redaction rules (one row), a change of them (one transaction), a page of their revisions
  'Query.redactionRules': (_a, children) => 2 + children,
  'Mutation.setRedactionRules': (_a, children) => 10 + children,
  'RedactionRuleSet.history': (args, children) => 2 + pageSize(args, 20) * Math.max(1, children),
  // the gateway database: every revision of the policy, hashed
  'AuditPolicy.historyIntegrity': (_a, children) => 10 + children,
};

/**
 * The cost of an export (POST /export, export-route.ts) in the same points as FIELD_COST, taken from the same
 * token bucket. An export's size is known only as it streams, so it pays as it reads: `start` when it is
 * accepted (taken before the answer starts, or RATE_LIMITED: it opens a point in time and reads a page, like a
 * stats query), then `perHundredEvents` for each 100 events of every page it writes (rounded up per page), owed
 * whatever the bucket holds: a stream is not cut for its cost (its own bounds are EXPORT_*), the debt refuses the
 * token's next requests until the bucket has restored it. Far below a page of auditEvents per event: a page of an
 * export is one search through a point in time with nothing resolved per field, and an export of 1,000,000
 * events (10,050 points) must stay possible at the default restore rate (about 100 s of it).
 */
export const EXPORT_COST = { start: 50, perHundredEvents: 1 } as const;

/** What one written page of `events` events of an export costs (EXPORT_COST). */
export const exportPageCost = (events: number): number => Math.ceil(events / 100) * EXPORT_COST.perHundredEvents;

export const costEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }: ComplexityEstimatorArgs) => {
  const row = FIELD_COST[`${type.name}.${field.name}`];
  if (row) {
    const costArgs: Args = {};
    for (const name of COST_ARGUMENTS) if (name in args) costArgs[name] = args[name];
    return row(costArgs, childComplexity);
  }
  return (isCompositeType(getNamedType(field.type)) ? 1 : 0) + childComplexity;
};

/** The cost of one operation of `document` (before anything runs). */
export function operationCost(schema: GraphQLSchema, document: Parameters<typeof getComplexity>[0]['query'],
  variables: Record<string, unknown> | undefined, operationName: string | undefined): number {
  return getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: [costEstimator] });
}

/** Fields at the root of each operation, fragments flattened: `{ a b ...F }` with `fragment F on Query { c d }` is 4. */
export function maxRootFields(limit: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const count = (set: SelectionSetNode, seen: Set<string>): number => set.selections.reduce((n, s) => {
      if (s.kind === Kind.FIELD) return n + (s.name.value.startsWith('__') ? 0 : 1);
      if (s.kind === Kind.INLINE_FRAGMENT) return n + count(s.selectionSet, seen);
      const f = fragments.get(s.name.value);
      if (!f || seen.has(f.name.value)) return n;   // unknown or cyclic: other rules report those
      return n + count(f.selectionSet, new Set([...seen, f.name.value]));
    }, 0);
    return {
      OperationDefinition(node) {
        const n = count(node.selectionSet, new Set());
        if (n > limit) context.reportError(new GraphQLError(`Too many root fields: ${n} in one operation, at most ${limit}`, { nodes: [node] }));
      },
    };
  };
}

/** The variables a document's cost can depend on: those inside a COST_ARGUMENTS argument or a directive's arguments. */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  let depth = 0;   // > 0 inside an argument that counts
  visit(document, {
    Argument: {
      enter(node, _k, parent) { if (depth > 0 || COST_ARGUMENTS.includes(node.name.value) || (parent as { kind?: string } | undefined)?.kind === Kind.DIRECTIVE) depth += 1; else return false; return undefined; },
      leave() { if (depth > 0) depth -= 1; },
    },
    Variable(node) { if (depth > 0) names.add(node.name.value); },
  });
  return [...names].sort();
}

/** Per parsed document (Apollo keeps one object per query text): its cost variables and the costs computed so far. */
const costCache = new WeakMap<DocumentNode, { variables: string[]; costs: Map<string, number> }>();
/** Distinct (operation, cost variable values) kept per document; past it the document's costs start over. */
const COSTS_PER_DOCUMENT = 100;

/**
 * operationCost, computed once per document, operation and values of its cost variables: the variables are
 * coerced on every request (undefined when they do not, as operationCost throws then), the cost is looked up.
 */
export function costOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined, operationName: string | undefined): number | undefined {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (coerced.errors) return undefined;
  let entry = costCache.get(document);
  if (!entry) { entry = { variables: costVariables(document), costs: new Map() }; costCache.set(document, entry); }
  const key = JSON.stringify([operationName ?? null, entry.variables.map((v) => coerced.coerced[v] ?? null)]);
  let cost = entry.costs.get(key);
  if (cost === undefined) {
    try { cost = operationCost(schema, document, variables, operationName); } catch { return undefined; }
    if (entry.costs.size >= COSTS_PER_DOCUMENT) entry.costs.clear();
    entry.costs.set(key, cost);
  }
  return cost;
}

export interface CostReport { requestedQueryCost: number; maximumAvailable: number }

/**
 * Computes each operation's cost once it is resolved; refuses it over budget; with a `throttle`, takes the cost
 * from the caller's token bucket or refuses it (RATE_LIMITED, rate-limit.ts). Reports it in extensions.cost:
 * `{ requestedQueryCost, maximumAvailable }` and, with a throttle, `throttleStatus` (on every answer, also when
 * no cost could be computed: a request that did not parse or validate takes nothing from the bucket).
 */
export function costPlugin(schema: GraphQLSchema, maxCost: number, throttle: TokenThrottle | null = null,
  admit: Admission = () => undefined): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      let cost: CostReport | undefined;
      let throttleStatus: ThrottleStatus | undefined;
      const tokenId = (contextValue as Partial<GatewayContext>).principal?.tokenId;
      return {
        async didResolveOperation({ request, document, operation, contextValue: context }) {
          admit({ operation, document, context });   // e.g. the token's scopes: refused before any cost is taken
          // undefined for variables that do not coerce: execution refuses them (BAD_USER_INPUT) before any resolver runs
          const requestedQueryCost = operation ? costOf(schema, document, operation, request.variables, request.operationName) : undefined;
          if (requestedQueryCost !== undefined) {
            cost = { requestedQueryCost, maximumAvailable: maxCost };
            if (requestedQueryCost > maxCost) {
              throw new ApiError(ApiErrorCode.QUERY_TOO_COMPLEX,
                `query cost ${requestedQueryCost} is over the limit of ${maxCost}: ask for fewer or smaller pages, or split the request`, { cost });
            }
          }
          if (throttle && tokenId !== undefined) {
            const requested = requestedQueryCost ?? 1;
            throttleStatus = throttle.charge(tokenId, requested, (status) => ({ cost: { ...cost, throttleStatus: status } }));
          }
        },
        async willSendResponse({ response }) {
          if (throttle && tokenId !== undefined) throttleStatus ??= throttle.status(tokenId);
          if ((cost || throttleStatus) && response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: { ...cost, ...(throttleStatus ? { throttleStatus } : {}) } };
          }
        },
      };
    },
  };
}

/**
 * A check of a resolved operation that may refuse it (by throwing) before its cost is computed or charged;
 * the scopes of src/api/scopes.ts. One hook, so that the order (admission, then cost, then the charge) is
 * the code's, not the order in which Apollo happens to call plugins.
 */
export type Admission = (op: { operation: OperationDefinitionNode | null | undefined; document: DocumentNode; context: GatewayContext }) => void;

/** The validation rules and plugins that enforce `limits` on an Apollo server over `schema`; `admit` runs first. */
export function graphqlLimits(schema: GraphQLSchema, limits: GraphQLLimits, throttle: TokenThrottle | null = null, admit?: Admission)
  : { validationRules: ValidationRule[]; plugins: ApolloServerPlugin<GatewayContext>[]; parseOptions: { maxTokens: number } } {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { enabled: false },             // graphql-js's own parser limit instead (parseOptions below)
    maxDirectives: { n: limits.maxDirectives },
    costLimit: { enabled: false },             // the cost model above replaces armor's generic one
    blockFieldSuggestion: { enabled: false },  // "Did you mean ...?" names only this public schema's own fields
  }).protect();
  return {
    validationRules: [...armor.validationRules, maxRootFields(limits.maxRootFields)],
    plugins: [...armor.plugins, costPlugin(schema, limits.maxCost, throttle, admit)],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}
