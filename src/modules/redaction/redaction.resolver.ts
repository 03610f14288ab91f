/** Translates between GraphQL and RedactionService; no logic of its own. */
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { decodeCursor, encodeCursor, PageArgs } from '../../base/relay';
import type { Principal } from '../tenancy/principal';
import type { RedactionService } from './redaction.service';
import {
  RedactionRuleSet, RedactionRulesRevisionConnection, SetRedactionRulesInput, SetRedactionRulesPayload,
} from './redaction.types';

const CURSOR = 'redaction';

/** What this module's resolvers need from the request context (the API layer's context provides it). */
export interface RedactionContext { principal: Principal; redaction: RedactionService }

@Resolver(() => RedactionRuleSet)
export class RedactionResolver {
  @Query(() => RedactionRuleSet, { description: 'The redaction rules the ingester applies to a service\'s events and dead letters, with their history.' })
  redactionRules(@Arg('serviceId', () => ID, { description: 'The PostgreSQL service.' }) serviceId: string, @Ctx() ctx: RedactionContext): Promise<RedactionRuleSet> {
    return ctx.redaction.ruleSet(ctx.principal, serviceId);
  }

  @FieldResolver(() => RedactionRulesRevisionConnection, { description: 'The revisions of these rules, newest first.' })
  async history(@Root() ruleSet: RedactionRuleSet, @Args() { first, after }: PageArgs, @Ctx() ctx: RedactionContext)
    : Promise<RedactionRulesRevisionConnection> {
    const before = after ? decodeCursor(CURSOR, after) : null;
    const page = await ctx.redaction.history(ruleSet.serviceId, first, before);
    const edges = page.rows.map((node) => ({ cursor: encodeCursor(CURSOR, node.version), node }));
    return { edges, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  @Mutation(() => SetRedactionRulesPayload, { description: 'Replace a service\'s redaction rules (a revision in their history). Applied by the ingester to what it reads from then on; events already indexed are not rewritten.' })
  setRedactionRules(@Arg('input', () => SetRedactionRulesInput, { description: 'The service, its new rules, and why.' }) input: SetRedactionRulesInput,
    @Ctx() ctx: RedactionContext): Promise<SetRedactionRulesPayload> {
    return ctx.redaction.set({ principal: ctx.principal, serviceId: input.serviceId, rules: input.rules, reason: input.reason,
      expectedVersion: input.expectedVersion });
  }
}
