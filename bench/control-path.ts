/**
 * Control-path latency: enable / configure through the gateway's HTTP API (auth, entitlement checks
 * against the live server, validation, row lock, apply, read-back after reload, history write), against
 * the bare `ALTER SYSTEM SET ...; SELECT pg_reload_conf()` over one open connection, in the same run.
 * Calls are sequential: a service's policy changes one at a time (row lock).
 */
import { Client } from 'pg';
import type { BenchEnvironment } from './environment';
import type { Figure } from './report';
import { Percentiles, percentiles, timeCalls } from './stats';

const ENABLE = 'mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { userErrors { code } policy { version } } }';
const DISABLE = 'mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { userErrors { code } } }';
const CONFIGURE = 'mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { userErrors { code } policy { version } } }';

export async function measureControlPath(env: BenchEnvironment, calls: number): Promise<Figure[]> {
  const gql = async (query: string, input: Record<string, unknown>) => {
    const data = await env.graphql<Record<string, { userErrors: unknown[] }>>(query, { input: { serviceId: env.tenant.targetServiceId, ...input } });
    const payload = Object.values(data)[0];
    if (!payload || payload.userErrors.length) throw new Error(`unexpected result: ${JSON.stringify(data).slice(0, 500)}`);
  };

  const direct = new Client({ connectionString: env.target.url() });
  await direct.connect();
  const baseline = await timeCalls(calls, async (i) => {
    await direct.query(`ALTER SYSTEM SET pgaudit.log_rows = '${i % 2 ? 'on' : 'off'}'`);
    await direct.query('SELECT pg_reload_conf()');
  });
  await direct.query('ALTER SYSTEM RESET pgaudit.log_rows');
  await direct.query('SELECT pg_reload_conf()');
  await direct.end();

  // enable is measured alone: each one is followed, outside the timing, by a disable
  const samples: number[] = [];
  for (let i = 0; i < calls + 5; i++) {
    const t0 = performance.now();
    await gql(ENABLE, { settings: { log: ['DDL', 'WRITE'], logRows: true } });
    if (i >= 5) samples.push(performance.now() - t0);
    await gql(DISABLE, {});
  }
  const enable = percentiles(samples);
  await gql(ENABLE, {});
  const configure = await timeCalls(calls, (i) => gql(CONFIGURE, { settings: { logRows: i % 2 === 0 } }));
  await gql(DISABLE, {});

  const figure = (name: string, p: Percentiles): Figure => ({
    section: 'control', name, unit: 'ms', measured: p, baseline,
    baselineName: 'ALTER SYSTEM SET + pg_reload_conf() on 1 connection',
    target: { text: 'p50 <= 50 ms', met: p.p50 <= 50 },
  });
  return [figure(`enableAuditLogging (service level), ${calls} calls`, enable), figure(`configureAuditLogging (one setting), ${calls} calls`, configure)];
}
