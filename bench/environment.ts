/**
 * What a benchmark run needs, started fresh and stopped at the end, as the tests do: a PostgreSQL 15 for
 * the gateway's own database, a PostgreSQL 15 + pgaudit to manage, one OpenSearch node, and the gateway
 * itself as its own process (`serve`, the same command users run), so that its memory is its own and the
 * load generator does not share its event loop. PostgreSQL runs durable (fsync on), as in production.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { createGateway, Gateway, migrateGatewayDb } from '../src/api/gateway';
import { loadConfig, requireMasterKeys } from '../src/base/config';
import { freePort } from '../dev/local/free-port';
import { OpenSearchNode } from '../dev/local/opensearch-node';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { silentLogger } from '../src/base/logger';
import { projectRoot } from '../src/base/paths';

export const DIST = path.join(projectRoot(), 'dist');
export const CLI = path.join(DIST, 'src', 'cli', 'main.js');
export const PEAK_RSS = path.join(DIST, 'bench', 'peak-rss.js');

const DURABLE = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' };

export function machine(): { cores: number; cpu: string; memoryGiB: number; node: string; os: string } {
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version, os: `${os.type()} ${os.release()}` };
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux the bench runs on). */
const CLOCK_TICKS = 100;

/** A process's CPU time so far, user + system, from /proc/<pid>/stat (fields 14 and 15, after the command name). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // fields[0] is field 3 (state)
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds of this process's children that have exited and been waited for (cutime + cstime of /proc/self/stat):
 * read before and after a child runs, the difference is that child's CPU when no other child exits meanwhile.
 */
export function exitedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');   // fields[0] is field 3 (state)
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** SIGTERM, then wait for the exit. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export interface BenchTenant { organizationId: string; projectId: string; token: string; eventsServiceId: string; targetServiceId: string }

export class BenchEnvironment {
  private constructor(
    readonly dir: string,
    readonly db: PostgresCluster,
    readonly target: PostgresCluster,
    readonly search: OpenSearchNode,
    /** In-process access to the gateway database, for setup only (tenants, tokens). */
    readonly admin: Gateway,
    readonly tenant: BenchTenant,
    readonly gatewayEnv: NodeJS.ProcessEnv,
    private gateway: { child: ChildProcess; port: number; rssFile: string } | null = null,
    private proxy: { child: ChildProcess; url: string } | null = null,
  ) {}

  static async start(opts: { opensearchHeapMb: number }): Promise<BenchEnvironment> {
    const dir = clusterBaseDir(path.join(projectRoot(), '.local', 'bench', String(process.pid)), `bench-${process.pid}`);
    const pg15 = debianPgBinDir(15);
    const [db, target, search] = await Promise.all([
      PostgresCluster.start({ name: 'gateway-db', baseDir: dir, binDir: pg15, settings: DURABLE }),
      // the target serves a page of 50 services' eligibility at once (control-scopes.ts): more than the default 50 backends
      PostgresCluster.start({ name: 'target', baseDir: dir, binDir: pg15, preloadPgaudit: true, settings: { ...DURABLE, max_connections: '150' } }),
      OpenSearchNode.start({ name: 'opensearch', baseDir: dir, heapMb: opts.opensearchHeapMb }),
    ]);
    const c = new Client({ connectionString: db.url() });
    await c.connect();
    await c.query('CREATE DATABASE gateway');
    await c.end();
    // A master key for this run's services; the local target has no TLS. RATE_LIMIT_BUCKET_POINTS=0: the
    // benchmark measures throughput, which the per-token rate limit would cap. The generated logs are dated
    // from a fixed day (reproducible runs): a long retention keeps them inside the ingester's event-time window.
    const env = { DATABASE_URL: db.url('gateway'), OPENSEARCH_URL: search.url, RATE_LIMIT_BUCKET_POINTS: '0', EVENT_RETENTION_DAYS: '3650',
      CREDENTIALS_MASTER_KEYS: `1:${randomBytes(32).toString('base64')}`, TARGET_SSLMODE: 'disable' };
    const config = loadConfig(env);
    await migrateGatewayDb(env.DATABASE_URL, requireMasterKeys(config));
    const admin = createGateway(config, silentLogger);
    await admin.eventStore!.ensureTemplate();
    const t = admin.tenancy;
    const org = await t.createOrganization('bench', true);
    const project = await t.createProject(org.id, 'bench', true);
    const events = await t.registerService(project.id, 'bench-events', 'postgres://avnadmin@127.0.0.1:1/postgres');
    const targetService = await t.registerService(project.id, 'bench-target', target.url());
    const { token } = await t.createToken(project.id, 'bench', 'avnadmin');
    return new BenchEnvironment(dir, db, target, search, admin,
      { organizationId: org.id, projectId: project.id, token, eventsServiceId: events.id, targetServiceId: targetService.id }, env);
  }

  /** The gateway's GraphQL URL; starts `serve` on first use. */
  async gatewayUrl(): Promise<string> {
    if (!this.gateway) this.gateway = await this.spawnGateway('gateway', {});
    return `http://127.0.0.1:${this.gateway.port}/graphql`;
  }

  /**
   * Another `serve` process on the same databases, with `overrides` on top of the bench's environment (e.g. the
   * default rate limits back on): its GraphQL URL, and stop().
   */
  async extraGateway(name: string, overrides: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<void> }> {
    const g = await this.spawnGateway(name, overrides);
    return { url: `http://127.0.0.1:${g.port}/graphql`, stop: async () => { await stopChild(g.child); } };
  }

  private async spawnGateway(name: string, overrides: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; rssFile: string }> {
    const port = await freePort();
    const rssFile = path.join(this.dir, `${name}.peak-rss`);
    const logFile = path.join(this.dir, `${name}.log`);
    const log = openSync(logFile, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.gatewayEnv, ...overrides, PORT: String(port), PEAK_RSS_FILE: rssFile, LOG_LEVEL: 'info', NODE_ENV: 'production' };
    for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete env[k];
    // NODE_ENV=production as the Docker image runs it (graphql-js then skips its development checks)
    // BENCH_GATEWAY_NODE_ARGS: extra Node flags for the gateway process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it
    const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...extra, '--require', PEAK_RSS, CLI, 'serve'], { env, stdio: ['ignore', log, log] });
    const deadline = Date.now() + 90_000;   // a loaded machine (parallel builds, tests) can take over 30 s to migrate and start
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}; see ${logFile}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('gateway did not become ready in 90 s'); }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, port, rssFile };
  }

  /** The base URL of a bare Node HTTP proxy to OpenSearch (bare-proxy.ts), in its own process; started on first use. */
  async bareProxyUrl(): Promise<string> {
    if (!this.proxy) {
      const child = spawn(process.execPath, [path.join(DIST, 'bench', 'bare-proxy.js'), this.search.url], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [line] = await once(child.stdout!, 'data') as [Buffer];
      this.proxy = { child, url: `http://127.0.0.1:${Number(line.toString().trim())}` };
    }
    return this.proxy.url;
  }

  /** CPU seconds (user + system) the gateway process has used so far; starts it on first use. */
  async gatewayCpuSeconds(): Promise<number> {
    await this.gatewayUrl();
    return cpuSecondsOf(this.gateway!.child.pid!);
  }

  /** CPU seconds (user + system) the bare proxy process has used so far; starts it on first use. */
  async proxyCpuSeconds(): Promise<number> {
    await this.bareProxyUrl();
    return cpuSecondsOf(this.proxy!.child.pid!);
  }

  /** CPU seconds (user + system) OpenSearch has used so far. */
  searchCpuSeconds(): number {
    return cpuSecondsOf(this.search.pid!);
  }

  /** One GraphQL request to the gateway as the bench tenant; throws on GraphQL errors. */
  async graphql<T>(query: string, variables: object): Promise<T> {
    const res = await fetch(await this.gatewayUrl(), { method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.tenant.token}` }, body: JSON.stringify({ query, variables }) });
    const body = await res.json() as { data?: T; errors?: unknown };
    if (!body.data || body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body).slice(0, 500)}`);
    return body.data;
  }

  /** Stops the gateway process and returns its peak RSS in bytes (null if it never ran). */
  async stopGateway(): Promise<number | null> {
    const g = this.gateway;
    if (!g) return null;
    this.gateway = null;
    await stopChild(g.child);
    return Number(readFileSync(g.rssFile, 'utf8'));
  }

  async stop(): Promise<void> {
    await this.stopGateway().catch(() => null);
    this.proxy?.child.kill('SIGTERM');
    await this.admin.close();
    await Promise.all([this.db.stop(), this.target.stop(), this.search.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
