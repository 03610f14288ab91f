/**
 * Per-request context: who is calling (already authenticated) and the services resolvers may use. It is
 * every module's resolver context at once; modules declare what they need and never import this file.
 */
import type { Logger } from '../base/logger';
import type { AuditEventsContext } from '../modules/audit-events/audit-events.resolver';
import type { AuditPolicyContext } from '../modules/audit-policy/audit-policy.resolver';

export interface GatewayContext extends AuditPolicyContext, AuditEventsContext {
  requestId: string;
  logger: Logger;
}
