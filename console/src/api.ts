/**
 * The token and the GraphQL client. The token is typed in by the person, kept in sessionStorage (gone when the
 * tab closes) and sent as `Authorization: Bearer` to /graphql: never in a URL, never in localStorage.
 */
import { Client, fetchExchange } from '@urql/core';

const KEY = 'pga.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (token: string): void => sessionStorage.setItem(KEY, token),
  clear: (): void => sessionStorage.removeItem(KEY),
};

/** A client that sends `token` (every request to the gateway's own /graphql, POST, never cached). */
export function apiClient(token: string): Client {
  return new Client({
    url: '/graphql',
    exchanges: [fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
  });
}

/** What a failed operation says to a person: the gateway's message and its code (extensions.code). */
export function describeError(error: { graphQLErrors: { message: string; extensions?: Record<string, unknown> }[]; networkError?: Error; message: string }): string {
  const first = error.graphQLErrors[0];
  if (first) return `${first.message}${typeof first.extensions?.code === 'string' ? ` (${first.extensions.code})` : ''}`;
  return error.networkError ? `the gateway did not answer: ${error.networkError.message}` : error.message;
}
