/**
 * `npm start` on a developer machine: the gateway, plus what it needs when nothing is configured.
 * - DATABASE_URL unset: a local PostgreSQL 15 cluster for the gateway's own database, kept between
 *   runs under .local/dev (port DEV_DB_PORT, default 54320).
 * - OPENSEARCH_URL unset: a local single-node OpenSearch for audit events, kept between runs under
 *   .local/dev (port DEV_OPENSEARCH_PORT, default 59200).
 * - DEV_TARGET unset or 1: also a local PostgreSQL 15 + pgaudit cluster to manage (port
 *   DEV_TARGET_PORT, default 54321), so the README's worked example runs as written.
 * - CREDENTIALS_MASTER_KEYS(_FILE) unset: a local master key for service credentials, generated once into
 *   .local/credentials-master-keys (mode 0600) and kept, since the services registered need it.
 * - TARGET_SSLMODE unset: `disable`, for the local demo target, which has no TLS (the product's default is verify-full).
 * - with the demo target: a demo tenant (demo-tenant.ts) for the console at http://localhost:PORT/, its token in a
 *   file (never printed).
 * Everything started here is stopped again on Ctrl-C / SIGTERM.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { newMasterKeyEntry } from '../src/base/crypto/master-keys';
import { closeOnSignal, serve } from '../src/cli/main';
import { projectRoot } from '../src/base/paths';
import { createGateway } from '../src/api/gateway';
import { loadConfig } from '../src/base/config';
import { silentLogger } from '../src/base/logger';
import { DEMO_SERVICE_NAME, ensureDemoTenant } from './demo-tenant';
import { OpenSearchNode } from './local/opensearch-node';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from './local/postgres-cluster';

const DEV_DIR = clusterBaseDir(path.join(projectRoot(), '.local', 'dev'), 'dev');

async function ensureDatabase(cluster: PostgresCluster, name: string): Promise<void> {
  const client = new Client({ connectionString: cluster.url() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`);   // a constant name, not input
  } finally { await client.end(); }
}

/** The local master key file, made on first use (0600, never printed); its path goes to CREDENTIALS_MASTER_KEYS_FILE. */
export const DEV_MASTER_KEYS_FILE = path.join(projectRoot(), '.local', 'credentials-master-keys');

function ensureDevMasterKeys(): void {
  if (process.env.CREDENTIALS_MASTER_KEYS || process.env.CREDENTIALS_MASTER_KEYS_FILE) return;
  fs.mkdirSync(path.dirname(DEV_MASTER_KEYS_FILE), { recursive: true });
  let made = false;
  try {
    fs.writeFileSync(DEV_MASTER_KEYS_FILE, newMasterKeyEntry(1, randomBytes) + '\n', { mode: 0o600, flag: 'wx' });
    made = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  fs.chmodSync(DEV_MASTER_KEYS_FILE, 0o600);
  process.env.CREDENTIALS_MASTER_KEYS_FILE = DEV_MASTER_KEYS_FILE;
  process.stderr.write(`credentials master key: ${made ? 'generated' : 'using'} ${DEV_MASTER_KEYS_FILE} (local only; ` +
    `export CREDENTIALS_MASTER_KEYS_FILE=${path.relative(process.cwd(), DEV_MASTER_KEYS_FILE) || DEV_MASTER_KEYS_FILE} for admin commands)\n`);
}

async function main(): Promise<void> {
  ensureDevMasterKeys();
  if (!process.env.TARGET_SSLMODE) {
    process.env.TARGET_SSLMODE = 'disable';
    process.stderr.write('TARGET_SSLMODE=disable for local servers without TLS (set TARGET_SSLMODE to change it)\n');
  }
  const started: { port: number; stop(): Promise<void> }[] = [];
  const durable = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' };
  if (!process.env.DATABASE_URL) {
    const db = await PostgresCluster.start({ name: 'gateway-db', baseDir: DEV_DIR, binDir: debianPgBinDir(15),
      port: Number(process.env.DEV_DB_PORT ?? 54320), fresh: false, settings: durable });
    started.push(db);
    await ensureDatabase(db, 'gateway');
    process.env.DATABASE_URL = db.url('gateway');
    process.stderr.write(`gateway database: ${process.env.DATABASE_URL}\n`);
  }
  if (!process.env.OPENSEARCH_URL) {
    const search = await OpenSearchNode.start({ name: 'opensearch', baseDir: DEV_DIR, port: Number(process.env.DEV_OPENSEARCH_PORT ?? 59200), fresh: false });
    started.push(search);
    process.env.OPENSEARCH_URL = search.url;
    process.stderr.write(`audit event store (OpenSearch): ${search.url}\n`);
  }
  let target: PostgresCluster | null = null;
  if ((process.env.DEV_TARGET ?? '1') === '1') {
    target = await PostgresCluster.start({ name: 'demo-pg15-pgaudit', baseDir: DEV_DIR, binDir: debianPgBinDir(15),
      port: Number(process.env.DEV_TARGET_PORT ?? 54321), fresh: false, preloadPgaudit: true, settings: durable });
    started.push(target);
    process.stderr.write(`demo PostgreSQL 15 + pgaudit service: ${target.url()}\n  its logs (for ingest --log-dir): ${target.logDir}\n`);
  }
  const server = await serve();
  if (target) {
    const gateway = createGateway(loadConfig(process.env), silentLogger);
    try {
      const demo = await ensureDemoTenant(gateway.tenancy, target.url(), path.join(projectRoot(), '.local'));
      process.stderr.write(`console: http://localhost:${server.port}/ (sign in with the token in ${path.relative(process.cwd(), demo.tokenFile)}); `
        + `demo service ${DEMO_SERVICE_NAME} ${demo.serviceId}, ready to enable\n`);
    } finally { await gateway.close(); }
  }
  closeOnSignal(async () => {
    await server.close();
    for (const c of started) {
      await c.stop();
      process.stderr.write(`stopped local server on port ${c.port}\n`);
    }
  });
}

main().catch((err: Error) => {
  process.stderr.write(`pg-audit-gateway: ${err.message}\n`);
  process.exit(1);
});
