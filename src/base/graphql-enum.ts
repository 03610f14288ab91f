/** A GraphQL enum whose values are the given strings: type-graphql's registerEnumType takes an object of name -> value. */
export function enumOf<K extends string>(keys: readonly K[]): { [P in K]: P } {
  return Object.fromEntries(keys.map((k) => [k, k])) as { [P in K]: P };
}
