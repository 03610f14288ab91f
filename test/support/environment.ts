/** A test file's usual world: its target server reset, a test gateway, and one fresh tenant on that server. */
import { createTenant, resetServer, startTestGateway, Tenant, TestGateway } from './harness';
import { urls } from './env';

export interface Environment { g: TestGateway; t: Tenant }

/** Resets `serviceUrl` to no pgaudit configuration, starts a gateway and makes a tenant (entitled, avnadmin) with a service there. */
export async function startEnvironment(serviceUrl: string = urls.pgaudit): Promise<Environment> {
  await resetServer(serviceUrl);
  const g = await startTestGateway();
  const t = await createTenant(g, { serviceUrl });
  return { g, t };
}
