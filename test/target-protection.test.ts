/**
 * A customer's server is protected from this gateway: at most TARGET_MAX_CONNECTIONS_PER_SERVICE requests hold
 * connections to one service at once (counted on the server itself, in pg_stat_activity), while another
 * tenant's service is served in the meantime; every target session carries lock_timeout and statement_timeout.
 */
import { TargetConnector } from '../src/modules/audit-policy/target/target.connector';
import { createTenant, ELIGIBILITY, ENABLE, resetServer, sealedTarget, sql, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

const CAP = 2;
let g: TestGateway;
let t: Tenant;
let other: Tenant;

beforeAll(async () => {
  await resetServer(urls.pgaudit);
  g = await startTestGateway({ TARGET_MAX_CONNECTIONS_PER_SERVICE: String(CAP), TARGET_LOCK_TIMEOUT_MS: '1234' });
  t = await createTenant(g, { serviceUrl: urls.pgaudit });
  other = await createTenant(g, { serviceUrl: urls.pgaudit });
});
afterAll(async () => {
  await g?.close();
  await resetServer(urls.pgaudit);
});

const gatewaySessions = async () => Number((await sql<{ n: string }>(urls.pgaudit,
  `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pg-audit-gateway'`))[0]!.n);

it('successful-cap: forty concurrent requests for one service never hold more than the cap of connections on it', async () => {
  let peak = 0;
  let polling = true;
  const poller = (async () => { while (polling) { peak = Math.max(peak, await gatewaySessions()); } })();
  try {
    const results = await Promise.all(Array.from({ length: 40 }, () => g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId })));
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));
    expect(results.every((r) => r.data!.auditEligibility.eligible)).toBe(true);
  } finally { polling = false; await poller; }
  expect(peak).toBeGreaterThan(0);
  expect(peak).toBeLessThanOrEqual(CAP);
  expect(await gatewaySessions()).toBe(0);
});

it('successful-cap-change: changes under the cap (each polls its read-back on its own connection) are not starved by their own slot', async () => {
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => g.exec(t.token, ENABLE,
    { input: { serviceId: t.serviceId, settings: { log: ['DDL'], logRows: i % 2 === 0 }, reason: `cap ${i}` } })));
  for (const r of results) expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
});

it('successful-isolation: another tenant\'s service is served while one service is at its cap', async () => {
  const flood = Promise.all(Array.from({ length: 20 }, () => g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId })));
  const theirs = await g.exec(other.token, ELIGIBILITY, { serviceId: other.serviceId });
  expect(theirs.data!.auditEligibility.eligible).toBe(true);
  await flood;
});

it('failing-busy: a request that cannot get a slot within the connect timeout is SERVICE_BUSY, and opens nothing', async () => {
  const { vault, service } = sealedTarget('svc-busy', urls.pgaudit);
  const connector = new TargetConnector({ targetConnectTimeoutMs: 200, targetStatementTimeoutMs: 5000, targetLockTimeoutMs: 1000, targetMaxConnectionsPerService: 1,
    targetTls: { sslMode: 'disable', ca: null } }, vault);
  let release!: () => void;
  const held = connector.with(service, undefined, () => new Promise<void>((r) => { release = r; }));
  await new Promise((r) => setTimeout(r, 100));
  await expect(connector.with(service, undefined, async () => 'ran')).rejects.toMatchObject({ code: 'SERVICE_BUSY' });
  release();
  await held;
  await expect(connector.with(service, undefined, async () => 'ran')).resolves.toBe('ran');
});

it('every target session carries lock_timeout and statement_timeout', async () => {
  const { vault, service } = sealedTarget('svc-timeouts', urls.pgaudit);
  const connector = new TargetConnector({ targetConnectTimeoutMs: 5000, targetStatementTimeoutMs: 4321, targetLockTimeoutMs: 1234, targetMaxConnectionsPerService: 1,
    targetTls: { sslMode: 'disable', ca: null } }, vault);
  const values = await connector.with(service, undefined, async (s) => {
    const client = (s as unknown as { client: { query(q: string): Promise<{ rows: { lock_timeout: string; statement_timeout: string }[] }> } }).client;
    const { rows } = await client.query(`SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout`);
    return rows[0]!;
  });
  expect(values).toEqual({ lock_timeout: '1234ms', statement_timeout: '4321ms' });
});
