/** `viewer`: the request's principal as GraphQL (what a console shows after sign-in); no logic of its own. */
import { Ctx, Query, Resolver } from 'type-graphql';
import type { Principal } from './principal';
import { SCOPES } from './scope';
import { Viewer } from './viewer.types';

export interface TenancyContext {
  principal: Principal;
}

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer, { description: 'The caller: the API token of this request, its project, the database role it acts as, its scopes and expiry. Any valid token may ask: it needs no scope.' })
  viewer(@Ctx() { principal: p }: TenancyContext): Viewer {
    return { tokenId: p.tokenId, tokenName: p.tokenName, projectId: p.projectId, organizationId: p.organizationId, databaseRole: p.databaseRole,
      scopes: p.scopes.map((name) => ({ name, description: SCOPES[name] })), expiresAt: p.expiresAt };
  }
}
