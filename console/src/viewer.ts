/**
 * Who is signed in: the token's `viewer` (its name, the role it acts as, its scopes and expiry), asked once per
 * sign-in. The screens use `holds` to offer only what the token may do; the gateway still checks every operation.
 */
import { graphql } from './gql';
import type { ViewerQuery } from './gql/graphql';

export const VIEWER = graphql(`
  query Viewer { viewer { tokenId tokenName databaseRole expiresAt scopes { name description } } }
`);

export type Viewer = ViewerQuery['viewer'];

/** The scopes of the gateway's scope table (src/modules/tenancy/scope.ts). */
export type ScopeName = 'read:events' | 'read:policy' | 'write:policy';

export const holds = (viewer: Viewer | null, scope: ScopeName): boolean => viewer?.scopes.some((s) => s.name === scope) ?? false;
