/**
 * Ingest and query figures, each with a baseline measured in the same run:
 *   parser lines/s on one core          vs reading + splitting the same file into lines
 *   ingest events/s into OpenSearch     vs the same documents pre-built and sent through the same bulk path
 *   auditEvents first page p50/p95      vs the identical OpenSearch request sent directly
 * Starts its own PostgreSQL (gateway DB) and OpenSearch. Prints a Markdown table; JSON in bench/results/.
 *   npm run bench:ingest -- [--events N]      (default 100000)
 */
import 'reflect-metadata';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createGateway } from '../src/app';
import { loadConfig } from '../src/config/config';
import { migrate } from '../src/db/migrate';
import { startHttpServer } from '../src/graphql/http-server';
import { buildEventSearch } from '../src/modules/audit-events/event.query';
import { auditEventOf } from '../src/modules/ingest/audit-event';
import { CheckpointRepository } from '../src/modules/ingest/checkpoint.repository';
import { Ingester } from '../src/modules/ingest/ingester';
import { CsvlogSplitter } from '../src/modules/ingest/log-records';
import { OpenSearchNode } from '../src/local/opensearch-node';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../src/local/postgres-cluster';
import { silentLogger } from '../src/logging/logger';
import { projectRoot } from '../src/paths';
import { writeCsvlog } from './csvlog-generator';

const arg = (name: string, fallback: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const EVENTS = arg('events', 100_000);
const QUERIES = arg('queries', 200);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
async function latency(n: number, fn: () => Promise<void>) {
  for (let i = 0; i < 10; i++) await fn();
  const s: number[] = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await fn(); s.push(performance.now() - t0); }
  s.sort((a, b) => a - b);
  return { p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99) };
}

async function main(): Promise<void> {
  const base = clusterBaseDir(path.join(projectRoot(), '.local', 'bench', `ingest-${process.pid}`), `bench-ingest-${process.pid}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'pga-bench-'));
  const logDir = path.join(work, 'log');
  mkdirSync(logDir);
  const file = path.join(logDir, 'postgresql-2026-11-24_080000.csv');
  const gen = await writeCsvlog(file, EVENTS, 1);
  const [db, search] = await Promise.all([
    PostgresCluster.start({ name: 'gateway-db', baseDir: base, binDir: debianPgBinDir(15) }),
    OpenSearchNode.start({ name: 'opensearch', baseDir: base, heapMb: 1024 }),
  ]);
  const admin = new Client({ connectionString: db.url() });
  await admin.connect(); await admin.query('CREATE DATABASE gateway'); await admin.end();
  const config = loadConfig({ DATABASE_URL: db.url('gateway'), OPENSEARCH_URL: search.url });
  await migrate(config.databaseUrl);
  const gateway = createGateway(config, silentLogger);
  const http = await startHttpServer({ ...gateway, logger: silentLogger, maxBodyBytes: config.maxBodyBytes }, 0, '127.0.0.1');
  const rows: [string, string, string, string][] = [];
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  try {
    // 1. parser vs read + split
    const readSplit = async () => { let n = 0; let rest = ''; for await (const c of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) { const parts = (rest + c).split('\n'); rest = parts.pop()!; n += parts.length; } return n; };
    const parse = async () => { let n = 0; const sp = new CsvlogSplitter(); for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) { for (const it of sp.push(c as Buffer)) { if (it.ok) auditEventOf('bench', it.record); n += 1; } } return n; };
    let t0 = performance.now(); const lines = await readSplit(); const tRead = (performance.now() - t0) / 1000;
    t0 = performance.now(); await parse(); const tParse = (performance.now() - t0) / 1000;
    rows.push(['parser (csvlog split + pgaudit parse + event build), lines/s, 1 core', (lines / tParse).toFixed(0), `${(lines / tRead).toFixed(0)} (read + split lines)`, `${(tRead / tParse * 100).toFixed(0)}% of baseline speed`]);

    // 2. ingest vs pre-built bulk
    const t = gateway.tenancy;
    const org = await t.createOrganization('bench', true);
    const project = await t.createProject(org.id, 'bench', true);
    const svc = await t.registerService(project.id, 'bench', 'postgres://avnadmin@127.0.0.1:1/postgres');
    const { token } = await t.createToken(project.id, 'bench', 'avnadmin');
    const service = (await t.serviceById(svc.id))!;
    const store = gateway.eventStore!;
    await store.ensureTemplate();
    const ingester = new Ingester(service, logDir, store, new CheckpointRepository(gateway.db.prisma), silentLogger, { batchSize: 2000 });
    t0 = performance.now(); const stats = await ingester.runOnce(); const tIngest = (performance.now() - t0) / 1000;
    await store.refresh();
    // baseline: the first up to 200k documents, pre-built in memory, sent through the same bulk path to another service id
    const docs: Parameters<typeof store.bulkIndex>[0][number][] = [];
    const sp = new CsvlogSplitter();
    for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) {
      for (const it of sp.push(c as Buffer)) {
        if (!it.ok || docs.length >= 200_000) continue;
        const x = auditEventOf('baseline', it.record);
        if (x.kind === 'event') docs.push({ ...x.event, projectId: 'p', organizationId: 'o' });
      }
    }
    t0 = performance.now();
    for (let i = 0; i < docs.length; i += 2000) await store.bulkIndex(docs.slice(i, i + 2000));
    const tBulk = (performance.now() - t0) / 1000;
    rows.push(['ingest into OpenSearch, events/s (batches of 2000)', (stats.events / tIngest).toFixed(0), `${(docs.length / tBulk).toFixed(0)} (pre-built docs, same bulk path)`, `${((stats.events / tIngest) / (docs.length / tBulk) * 100).toFixed(0)}% of baseline`]);
    await store.refresh();

    // 3. first page through the gateway vs the same request straight to OpenSearch
    const gql = (query: string, variables: Record<string, unknown>) => fetch(`http://127.0.0.1:${http.port}/graphql`, { method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) }).then((r) => r.json());
    const FIRST = 'query($s: ID!, $f: AuditEventFilter) { auditEvents(serviceId: $s, filter: $f, first: 20) { totalCount edges { cursor node { id timestamp class command statement user database } } } }';
    const check = (await gql(FIRST, { s: svc.id })) as { data: { auditEvents: { totalCount: number } } };
    if (check.data.auditEvents.totalCount !== stats.events) throw new Error(`expected ${stats.events} events, the API counts ${check.data.auditEvents.totalCount}`);
    const direct = (filter: object) => { const { index, body } = buildEventSearch(svc.id, filter, 20, null);
      return () => fetch(`${search.url}/${index}/_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json()).then(() => undefined); };
    for (const [name, filter] of [['first page', {}], ['filtered page (user + class)', { users: ['analyst'], classes: ['WRITE'] }], ['text search', { text: 'owner note accounts' }]] as const) {
      const viaGateway = await latency(QUERIES, async () => { await gql(FIRST, { s: svc.id, f: filter }); });
      const viaDirect = await latency(QUERIES, direct(filter));
      rows.push([`auditEvents ${name}, p50 / p95 ms, ${stats.events} events`, `${viaGateway.p50.toFixed(2)} / ${viaGateway.p95.toFixed(2)}`,
        `${viaDirect.p50.toFixed(2)} / ${viaDirect.p95.toFixed(2)} (same request to OpenSearch)`, `+${(viaGateway.p50 - viaDirect.p50).toFixed(2)} ms at p50`]);
    }
    const out = [`Ingest and query, ${stats.events} audit events (${(gen.bytes / 2 ** 20).toFixed(0)} MiB csvlog, ${gen.lines} lines), ${machine}`, '',
      '| figure | measured | baseline (same run) | ratio |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
    console.log(out.join('\n'));
    const dir = path.join(projectRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `ingest-query-${stats.events}.json`), JSON.stringify({ date: new Date().toISOString(), machine, events: stats.events,
      fileBytes: statSync(file).size, rows }, null, 2) + '\n');
  } finally {
    await http.close();
    await gateway.close();
    await Promise.all([db.stop(), search.stop()]);
    rmSync(work, { recursive: true, force: true });
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err: Error) => { console.error(err); process.exit(1); });
