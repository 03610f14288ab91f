/** Per-request context: who is calling (already authenticated) and the services resolvers may use. */
import type { Logger } from '../base/logger';
import type { AuditEventsService } from '../modules/audit-events/audit-events.service';
import type { PolicyService } from '../modules/audit-policy/policy.service';
import type { Principal } from '../modules/tenancy/principal';

export interface GatewayContext {
  requestId: string;
  principal: Principal;
  policies: PolicyService;
  events: AuditEventsService;
  logger: Logger;
}
