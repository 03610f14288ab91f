/**
 * The Apollo plugin that observes every GraphQL request: metrics (operations by root field and outcome,
 * latency, errors by code) and the log line of an unexpected error, written with the request's own logger
 * (it carries the request id). Label values come from fixed sets only: a root field of the schema or
 * "other", an operation type, an outcome, a known error code or "other"; never the client's text.
 */
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { GatewayMetrics } from '../base/metrics';
import type { GatewayContext } from './context';
import { ApiErrorCode, logRequestError, PASS_THROUGH } from './error-map';

export type Outcome = 'ok' | 'user_error' | 'error';

const KNOWN_CODES: ReadonlySet<string> = new Set([...Object.values(ApiErrorCode), ...PASS_THROUGH]);
/** Codes that mean the gateway (or what it depends on) failed, not the caller. */
const SERVER_CODES: ReadonlySet<string> = new Set([ApiErrorCode.INTERNAL_SERVER_ERROR, ApiErrorCode.SERVICE_UNAVAILABLE]);

export const codeLabel = (code: unknown): string => (typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'other');

/** The names of the schema's query and mutation fields: the only operation label values besides "other". */
export function rootFieldNames(schema: GraphQLSchema): ReadonlySet<string> {
  const names = new Set<string>();
  for (const type of [schema.getQueryType(), schema.getMutationType()]) for (const name of Object.keys(type?.getFields() ?? {})) names.add(name);
  return names;
}

/** The operation's label: its one root field when the schema has it, else "other" (several fields, introspection, unparsed). */
export function operationLabel(operation: OperationDefinitionNode | undefined, known: ReadonlySet<string>): string {
  const selections = operation?.selectionSet.selections ?? [];
  const only = selections.length === 1 ? selections[0] : undefined;
  return only?.kind === 'Field' && known.has(only.name.value) ? only.name.value : 'other';
}

/**
 * ok; user_error: errors the caller caused (a refused token, bad input, not found), or a mutation payload with
 * userErrors; error: the gateway or a dependency failed (INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE).
 */
export function outcomeOf(errorCodes: readonly unknown[], data: Record<string, unknown> | null | undefined): Outcome {
  if (errorCodes.some((c) => typeof c === 'string' && SERVER_CODES.has(c))) return 'error';
  if (errorCodes.length > 0) return 'user_error';
  for (const value of Object.values(data ?? {})) {
    const userErrors = (value as { userErrors?: unknown } | null)?.userErrors;
    if (Array.isArray(userErrors) && userErrors.length > 0) return 'user_error';
  }
  return 'ok';
}

export function observabilityPlugin(metrics: GatewayMetrics | undefined): ApolloServerPlugin<GatewayContext> {
  let known: ReadonlySet<string> = new Set();
  const record = (operation: string, type: string, codes: unknown[], data: Record<string, unknown> | null | undefined, seconds: number | null) => {
    if (!metrics) return;
    metrics.graphqlOperations.labels(operation, type, outcomeOf(codes, data)).inc();
    if (seconds !== null) metrics.graphqlDuration.labels(operation, type).observe(seconds);
    for (const code of codes) metrics.graphqlErrors.labels(codeLabel(code)).inc();
  };
  return {
    async serverWillStart({ schema }) { known = rootFieldNames(schema); },
    // authentication happens while the context is built: a refused token never reaches requestDidStart
    async contextCreationDidFail({ error }) {
      record('other', 'unknown', [(error as { extensions?: { code?: unknown } }).extensions?.code ?? ApiErrorCode.INTERNAL_SERVER_ERROR], null, null);
    },
    async requestDidStart() {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) logRequestError(contextValue.logger, error);
        },
        async willSendResponse(rc: GraphQLRequestContextWillSendResponse<GatewayContext>) {
          const body = rc.response.body;
          const result = body.kind === 'single' ? body.singleResult : body.initialResult;
          const codes = (result.errors ?? []).map((e) => e.extensions?.code);
          record(operationLabel(rc.operation, known), rc.operation?.operation ?? 'unknown', codes,
            result.data as Record<string, unknown> | null | undefined, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
