/**
 * The dev launcher's demo tenant (dev/demo-tenant.ts), on the real gateway database and PostgreSQL + pgaudit: made
 * once, found again on the next start, its token in a 0600 file and working, its service eligible for audit logging.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_SERVICE_NAME, ensureDemoTenant } from '../dev/demo-tenant';
import { startTestGateway, TestGateway, urls } from './support/harness';

let g: TestGateway;
beforeAll(async () => { g = await startTestGateway(); });
afterAll(async () => { await g.close(); });

const ELIGIBILITY = `query($s: ID!) { auditEligibility(serviceId: $s) { eligible } services(first: 5) { edges { node { id name } } } }`;

it('made once, then found again; the token (file 0600) signs in to a project whose demo service is eligible', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-demo-'));
  const first = await ensureDemoTenant(g.gateway.tenancy, urls.pgaudit, dir);
  expect(first.made).toBe(true);
  expect(statSync(first.tokenFile).mode & 0o777).toBe(0o600);
  const token = readFileSync(first.tokenFile, 'utf8').trim();
  const r = await g.exec(token, ELIGIBILITY, { s: first.serviceId });
  expect(r.errors).toBeUndefined();
  expect(r.data!.auditEligibility.eligible).toBe(true);
  expect(r.data!.services.edges).toEqual([{ node: { id: first.serviceId, name: DEMO_SERVICE_NAME } }]);

  const again = await ensureDemoTenant(g.gateway.tenancy, urls.pgaudit, dir);
  expect(again).toEqual({ ...first, made: false });
  expect(readFileSync(again.tokenFile, 'utf8').trim()).toBe(token);

  // the token file removed: a new token for the same project, the tenant kept
  rmSync(first.tokenFile);
  const renewed = await ensureDemoTenant(g.gateway.tenancy, urls.pgaudit, dir);
  expect(renewed.serviceId).toBe(first.serviceId);
  const newToken = readFileSync(renewed.tokenFile, 'utf8').trim();
  expect(newToken).not.toBe(token);
  expect((await g.exec(newToken, ELIGIBILITY, { s: first.serviceId })).data!.auditEligibility.eligible).toBe(true);
});
