/**
 * What a token may do: the one table of scopes. The API layer maps every GraphQL root field to one of
 * these (src/api/scopes.ts); a token holds a set of them (api_token.scopes). Pure.
 */
export const SCOPES = {
  'read:events': 'read audit and session events: pages, one event whole, counts over time, the live tail and exports; statements may hold secrets',
  'read:policy': 'read the services with their eligibility, audit policies with their history and drift, the live server\'s audit scopes, and redaction rules',
  'write:policy': 'change audit policies on the customer\'s server (enable, configure, disable, reconcile, adopt, object audit) and redaction rules',
} as const satisfies Record<string, string>;

export type Scope = keyof typeof SCOPES;

/** Every scope, in the table's order: what a token gets when none are named (and what tokens made before scopes have). */
export const ALL_SCOPES: readonly Scope[] = Object.keys(SCOPES) as Scope[];

export const isScope = (s: string): s is Scope => Object.hasOwn(SCOPES, s);

/**
 * `read:events,read:policy` as a set of scopes in the table's order, or the first unknown name.
 * Empty names (`a,,b`, a trailing comma) are ignored; an empty set is refused by the caller.
 */
export function parseScopes(text: string): { scopes: Scope[] } | { unknown: string } {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.find((s) => !isScope(s));
  if (unknown !== undefined) return { unknown };
  return { scopes: ALL_SCOPES.filter((s) => names.includes(s)) };
}

/** Keeps only known scopes, in the table's order (a row written by a newer version may hold one this one does not know). */
export function knownScopes(stored: readonly string[]): Scope[] {
  return ALL_SCOPES.filter((s) => stored.includes(s));
}
