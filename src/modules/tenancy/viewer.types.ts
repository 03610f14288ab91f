/** GraphQL output types of `viewer`: who the caller is and what its token may do (from the principal, no I/O). */
import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A scope a token holds: a name of the scope table and what it allows.' })
export class TokenScopeGrant {
  @Field({ description: 'read:events, read:policy or write:policy (more may be added).' })
  name!: string;
  @Field({ description: 'What the scope allows, in words.' })
  description!: string;
}

@ObjectType({ description: 'The caller: the API token of the request, what it acts as and what it may do.' })
export class Viewer {
  @Field(() => ID, { description: 'The token\'s id (what `admin revoke-token` takes); never the token itself.' })
  tokenId!: string;
  @Field({ description: 'The token\'s name, as the policy history names its changes.' })
  tokenName!: string;
  @Field(() => ID, { description: 'The project whose services the token sees (no other project\'s).' })
  projectId!: string;
  @Field(() => ID, { description: 'The project\'s organization.' })
  organizationId!: string;
  @Field({ description: 'The database role the token acts as on the project\'s servers; audit logging is managed only as avnadmin.' })
  databaseRole!: string;
  @Field(() => [TokenScopeGrant], { description: 'The scopes the token holds, in the scope table\'s order: each operation needs one of them.' })
  scopes!: TokenScopeGrant[];
  @Field(() => Date, { nullable: true, description: 'When the token stops working; null: never.' })
  expiresAt!: Date | null;
}
