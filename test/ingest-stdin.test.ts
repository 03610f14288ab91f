/**
 * `ingest --stdin`: raw log lines as a log shipper or a managed log integration delivers them, through
 * the real CLI binary. The stderr sample holds 67 pgaudit lines (the same ones as the csvlog sample).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT } from './support/cli';
import { createTenant, startTestGateway, Tenant, TestGateway, urls } from './support/harness';

const SAMPLE = readFileSync(path.join(ROOT, 'src/modules/ingest/fixtures/pgaudit-pg15/postgresql.stderr'));
const COUNT = `query($s: ID!, $f: AuditEventFilter) { auditEvents(serviceId: $s, filter: $f, first: 100) { totalCount edges { node { command statement user database } } } }`;

let g: TestGateway;
let t: Tenant;

// The fixtures are dated 2026-11-24: a long retention keeps them inside the ingester's event-time window
// whenever the suite runs (ingest-hardening.test.ts tests the window itself).
const INGEST_ENV = { ...process.env, DATABASE_URL: urls.gatewayDb, EVENT_RETENTION_DAYS: '3650' };

function ingest(args: string[], input: Buffer | string, serviceId = t.serviceId) {
  const r = spawnSync(process.execPath, [CLI, 'ingest', '--service', serviceId, '--stdin', '--json', ...args],
    { cwd: ROOT, input, encoding: 'utf8', env: INGEST_ENV, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ingest exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { events: number; malformed: number };
}
const total = async (filter?: Record<string, unknown>, of: Tenant = t) => (await g.exec(of.token, COUNT, { s: of.serviceId, f: filter })).data!.auditEvents;

beforeAll(async () => {
  g = await startTestGateway();
  t = await createTenant(g, { serviceUrl: urls.pgaudit });
});
afterAll(async () => { await g.close(); });

it('successful-stdin-stderr: every audit line of a stderr log, multi-line statements joined; the same stream again adds nothing', async () => {
  expect(ingest(['--source', 'host-a:postgresql.log'], SAMPLE)).toMatchObject({ events: 67, malformed: 0 });
  expect((await total()).totalCount).toBe(67);
  expect(ingest(['--source', 'host-a:postgresql.log'], SAMPLE).events).toBe(67);   // re-sent: same ids, overwritten
  const all = await total();
  expect(all.totalCount).toBe(67);
  expect(all.edges.every((e: any) => e.node.user === 'avnadmin' || e.node.user === 'app_user' || e.node.user === 'analyst')).toBe(true);
});

it('successful-stdin-managed: NDJSON documents with the raw line in MESSAGE', async () => {
  const lines = SAMPLE.toString('utf8').split('\n').filter((l) => l.includes('AUDIT: ') && l.includes('CREATE ROLE'));
  const ndjson = lines.map((l) => JSON.stringify({ MESSAGE: l, timestamp: '2026-11-24T19:25:37Z', HOSTNAME: 'pg-1', SYSTEMD_UNIT: 'postgresql' })).join('\n') + '\n';
  const before = (await total()).totalCount;
  const r = ingest(['--source', 'logs-2026-11-24', '--format', 'managed'], ndjson);
  expect(r).toMatchObject({ events: lines.length, malformed: 0 });
  expect((await total()).totalCount).toBe(before + lines.length);    // another source: distinct documents
});

it('failing-stdin: a forged AUDIT line (RAISE LOG with a CONTEXT) is kept aside, never an event', async () => {
  const forged = '2026-11-24 19:30:00.000 UTC [9999] mallory@shop LOG:  AUDIT: SESSION,1,1,DDL,DROP TABLE,TABLE,public.x,drop table x,<none>\n'
    + '2026-11-24 19:30:00.000 UTC [9999] mallory@shop CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n'
    + '2026-11-24 19:30:01.000 UTC [9999] mallory@shop LOG:  statement: select 1\n';
  const before = (await total()).totalCount;
  expect(ingest(['--source', 'forgery'], forged)).toMatchObject({ events: 0, malformed: 1 });
  expect((await total()).totalCount).toBe(before);
});

it('usage errors: --source is required with --stdin, --format must be known', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'ingest', '--service', t.serviceId, '--stdin', ...args],
    { cwd: ROOT, input: '', encoding: 'utf8', env: { ...process.env, DATABASE_URL: urls.gatewayDb } });
  expect(run([]).stderr).toMatch(/--source is required/);
  expect(run(['--source', 'x', '--format', 'syslog']).stderr).toMatch(/--format takes stderr or managed/);
});

it('successful-jsonlog-dir: a directory with only jsonlog files gives the same 67 events as the stderr stream of the same run', async () => {
  const { mkdtempSync, copyFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const other = await createTenant(g, { serviceUrl: urls.pgaudit });
  // The stderr stream of the same run, into a service of its own: this test does not lean on the first one.
  const stderrOnly = await createTenant(g, { serviceUrl: urls.pgaudit });
  expect(ingest(['--source', 'host-a:postgresql.log'], SAMPLE, stderrOnly.serviceId)).toMatchObject({ events: 67, malformed: 0 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pga-jsonlog-'));
  try {
    copyFileSync(path.join(ROOT, 'src/modules/ingest/fixtures/pgaudit-pg15/postgresql.json'), path.join(dir, 'postgresql-2026-11-24_192533.json'));
    const r = spawnSync(process.execPath, [CLI, 'ingest', '--service', other.serviceId, '--log-dir', dir, '--once', '--json'],
      { cwd: ROOT, encoding: 'utf8', env: INGEST_ENV, timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, events: 67, malformed: 0 });
    const got = (await g.exec(other.token, COUNT, { s: other.serviceId })).data!.auditEvents;
    expect(got.totalCount).toBe(67);
    const key = (e: any) => `${e.node.command}|${e.node.statement}`;
    expect(new Set(got.edges.map(key))).toEqual(new Set((await total(undefined, stderrOnly)).edges.map(key)));   // same statements as the stderr stream
    expect(got.edges.every((e: any) => e.node.user && e.node.database)).toBe(true);   // jsonlog carries both
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
