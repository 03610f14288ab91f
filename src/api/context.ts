/**
 * Per-request context: who is calling (already authenticated) and the services resolvers may use. It is
 * every module's resolver context at once; modules declare what they need and never import this file.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../base/logger';
import type { AuditEventsContext } from '../modules/audit-events/audit-events.resolver';
import type { AuditPolicyContext } from '../modules/audit-policy/audit-policy.resolver';
import type { RedactionContext } from '../modules/redaction/redaction.resolver';
import type { TenancyContext } from '../modules/tenancy/viewer.resolver';

export interface GatewayContext extends AuditPolicyContext, AuditEventsContext, RedactionContext, TenancyContext {
  requestId: string;
  logger: Logger;
}

/**
 * Ends the request's hold on customers' servers (its connection and slot per service) once the answer is ready:
 * Apollo calls willSendResponse after success, errors and refusals alike; a context is only built (and a lease
 * only taken) after authentication, and nothing connects before execution starts.
 */
export const releaseTargets: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return { async willSendResponse({ contextValue }) { await contextValue.targets.close(); } };
  },
};
