/**
 * `npm start` on a developer machine: the gateway, plus what it needs when nothing is configured.
 * - DATABASE_URL unset: a local PostgreSQL 15 cluster for the gateway's own database, kept between
 *   runs under .local/dev (port DEV_DB_PORT, default 54320).
 * - OPENSEARCH_URL unset: a local single-node OpenSearch for audit events, kept between runs under
 *   .local/dev (port DEV_OPENSEARCH_PORT, default 59200).
 * - DEV_TARGET unset or 1: also a local PostgreSQL 15 + pgaudit cluster to manage (port
 *   DEV_TARGET_PORT, default 54321), so the README's worked example runs as written.
 * Everything started here is stopped again on Ctrl-C / SIGTERM.
 */
import 'reflect-metadata';
import path from 'node:path';
import { Client } from 'pg';
import { closeOnSignal, serve } from '../src/cli/main';
import { projectRoot } from '../src/base/paths';
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

async function main(): Promise<void> {
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
  if ((process.env.DEV_TARGET ?? '1') === '1') {
    const target = await PostgresCluster.start({ name: 'demo-pg15-pgaudit', baseDir: DEV_DIR, binDir: debianPgBinDir(15),
      port: Number(process.env.DEV_TARGET_PORT ?? 54321), fresh: false, preloadPgaudit: true, settings: durable });
    started.push(target);
    process.stderr.write(`demo PostgreSQL 15 + pgaudit service: ${target.url()}\n  its logs (for ingest --log-dir): ${target.logDir}\n`);
  }
  const server = await serve();
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
