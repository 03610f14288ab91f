/**
 * Control-path latency: enable / configure through the real HTTP API (auth, entitlement checks against
 * the live server, validation, row lock, apply, read-back after reload, history write), against a
 * baseline measured in the same run: the bare `ALTER SYSTEM SET ...; SELECT pg_reload_conf()` over
 * one open connection. Starts its own PostgreSQL clusters; prints a Markdown table and writes JSON
 * to bench/results/.
 *   npm run bench -- [--calls N]     (default 100 calls per figure)
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createGateway } from '../src/app';
import { loadConfig } from '../src/config/config';
import { migrate } from '../src/db/migrate';
import { startHttpServer } from '../src/graphql/http-server';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../src/local/postgres-cluster';
import { silentLogger } from '../src/logging/logger';
import { projectRoot } from '../src/paths';

const calls = Number(process.argv[process.argv.indexOf('--calls') + 1] || 100) || 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function time(n: number, fn: (i: number) => Promise<void>): Promise<{ p50: number; p95: number; p99: number }> {
  for (let i = 0; i < 5; i++) await fn(i);            // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
}

async function main(): Promise<void> {
  const base = clusterBaseDir(path.join(projectRoot(), '.local', 'bench', String(process.pid)), `bench-${process.pid}`);
  const pg15 = debianPgBinDir(15);
  const [db, target] = await Promise.all([
    PostgresCluster.start({ name: 'gateway-db', baseDir: base, binDir: pg15 }),
    PostgresCluster.start({ name: 'target', baseDir: base, binDir: pg15, preloadPgaudit: true }),
  ]);
  const admin = new Client({ connectionString: db.url() });
  await admin.connect();
  await admin.query('CREATE DATABASE gateway');
  await admin.end();
  const config = loadConfig({ DATABASE_URL: db.url('gateway') });
  await migrate(config.databaseUrl);
  const gateway = createGateway(config, silentLogger);
  const http = await startHttpServer({ ...gateway, logger: silentLogger, maxBodyBytes: config.maxBodyBytes }, 0, '127.0.0.1');
  try {
    const t = gateway.tenancy;
    const org = await t.createOrganization('bench', true);
    const project = await t.createProject(org.id, 'bench', true);
    const service = await t.registerService(project.id, 'bench', target.url());
    const { token } = await t.createToken(project.id, 'bench', 'avnadmin');
    const gql = async (query: string, input: Record<string, unknown>) => {
      const res = await fetch(`http://127.0.0.1:${http.port}/graphql`, { method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { input: { serviceId: service.id, ...input } } }) });
      const body = await res.json() as { data?: Record<string, { userErrors: unknown[] }>; errors?: unknown };
      const payload = body.data && Object.values(body.data)[0];
      if (!payload || payload.userErrors.length) throw new Error(`unexpected result: ${JSON.stringify(body)}`);
    };
    const ENABLE = 'mutation($input: EnableAuditLoggingInput!) { enableAuditLogging(input: $input) { userErrors { code } policy { version } } }';
    const DISABLE = 'mutation($input: DisableAuditLoggingInput!) { disableAuditLogging(input: $input) { userErrors { code } } }';
    const CONFIGURE = 'mutation($input: ConfigureAuditLoggingInput!) { configureAuditLogging(input: $input) { userErrors { code } policy { version } } }';

    const direct = new Client({ connectionString: target.url() });
    await direct.connect();
    const baseline = await time(calls, async (i) => {
      await direct.query(`ALTER SYSTEM SET pgaudit.log_rows = '${i % 2 ? 'on' : 'off'}'`);
      await direct.query('SELECT pg_reload_conf()');
    });
    await direct.query('ALTER SYSTEM RESET pgaudit.log_rows');
    await direct.query('SELECT pg_reload_conf()');
    await direct.end();

    // enable, measured alone: each enable is followed (outside the timing) by a disable
    const enableSamples: number[] = [];
    for (let i = 0; i < calls + 5; i++) {
      const t0 = performance.now();
      await gql(ENABLE, { settings: { log: ['DDL', 'WRITE'], logRows: true } });
      if (i >= 5) enableSamples.push(performance.now() - t0);
      await gql(DISABLE, {});
    }
    enableSamples.sort((a, b) => a - b);
    const enable = { p50: percentile(enableSamples, 50), p95: percentile(enableSamples, 95), p99: percentile(enableSamples, 99) };
    await gql(ENABLE, {});
    const configure = await time(calls, (i) => gql(CONFIGURE, { settings: { logRows: i % 2 === 0 } }));

    const rows = [
      ['baseline: ALTER SYSTEM SET + pg_reload_conf() (1 connection)', baseline],
      ['enableAuditLogging (service level, HTTP)', enable],
      ['configureAuditLogging (one setting, HTTP)', configure],
    ] as const;
    const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const lines = [`Control path, ${calls} calls each, ${machine}`, '',
      '| operation | p50 ms | p95 ms | p99 ms | p50 vs baseline |', '|---|---|---|---|---|',
      ...rows.map(([name, r]) => `| ${name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p50 / baseline.p50).toFixed(1)}x (+${(r.p50 - baseline.p50).toFixed(2)} ms) |`)];
    console.log(lines.join('\n'));
    const out = path.join(projectRoot(), 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'control-path.json'), JSON.stringify({ date: new Date().toISOString(), machine, calls,
      results: Object.fromEntries(rows.map(([name, r]) => [name, r])) }, null, 2) + '\n');
  } finally {
    await http.close();
    await gateway.close();
    await Promise.all([db.stop(), target.stop()]);
  }
}

main().catch((err: Error) => { console.error(err); process.exit(1); });
