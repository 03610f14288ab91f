/**
 * The dev launcher's demo tenant, so that the console at http://localhost:4000/ has something to show on a fresh
 * machine: an organization with Pro Platform, a project with Pro Features, the demo PostgreSQL 15 + pgaudit server
 * registered as its service `demo-pg15`, and a token acting as avnadmin. Made once and kept (`demo.json` in the
 * given folder, the launcher's `.local/`, holds the ids); the token is written to `console-token` there (mode 0600) and never printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TenancyError, TenancyErrorCode } from '../src/modules/tenancy/tenancy.errors';
import type { TenancyService } from '../src/modules/tenancy/tenancy.service';

export interface DemoTenant { organizationId: string; projectId: string; serviceId: string; tokenFile: string; made: boolean }

export const DEMO_SERVICE_NAME = 'demo-pg15';

/** The demo tenant recorded in `dir`, or a new one when there is none (or its project is gone from the gateway database). */
export async function ensureDemoTenant(tenancy: TenancyService, targetUrl: string, dir: string): Promise<DemoTenant> {
  const record = path.join(dir, 'demo.json');
  const tokenFile = path.join(dir, 'console-token');
  try {
    const ids = JSON.parse(fs.readFileSync(record, 'utf8')) as Omit<DemoTenant, 'tokenFile' | 'made'>;
    await tenancy.listTokens(ids.projectId);   // throws when the project is not in this database
    if (fs.existsSync(tokenFile)) return { ...ids, tokenFile, made: false };
    const { token } = await tenancy.createToken(ids.projectId, 'console', 'avnadmin');
    writeSecret(tokenFile, token);
    return { ...ids, tokenFile, made: false };
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const org = await tenancy.createOrganization('demo', true);
  const project = await tenancy.createProject(org.id, 'demo', true);
  const service = await tenancy.registerService(project.id, DEMO_SERVICE_NAME, targetUrl);
  const { token } = await tenancy.createToken(project.id, 'console', 'avnadmin');
  fs.mkdirSync(dir, { recursive: true });
  writeSecret(tokenFile, token);
  fs.writeFileSync(record, JSON.stringify({ organizationId: org.id, projectId: project.id, serviceId: service.id }, null, 2) + '\n');
  return { organizationId: org.id, projectId: project.id, serviceId: service.id, tokenFile, made: true };
}

/** No record yet, or one whose project this database does not have. */
function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof TenancyError && err.code === TenancyErrorCode.PROJECT_NOT_FOUND);
}

function writeSecret(file: string, secret: string): void {
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}
