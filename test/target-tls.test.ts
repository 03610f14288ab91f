/**
 * TLS toward managed services (TARGET_SSLMODE, TARGET_SSL_CA_FILE) against a real PostgreSQL 15 with ssl=on,
 * whose CA and server certificate (for IP 127.0.0.1 only) are made here with openssl; the server also listens on
 * 127.0.0.2, which its certificate does not name. What each session really got is read from the server's own
 * pg_stat_ssl. Refusals are SERVICE_TLS_FAILED with a fixed sentence: no URL, password or server text.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TargetSslMode } from '../src/base/config';
import { TargetConnector } from '../src/modules/audit-policy/target/target.connector';
import type { TargetSession } from '../src/modules/audit-policy/target/target.session';
import { clusterBaseDir, debianPgBinDir, PostgresCluster } from '../dev/local/postgres-cluster';
import { ROOT } from './support/cli';
import { createTenant, ELIGIBILITY, ENABLE, sealedTarget, startTestGateway, urls } from './support/harness';
import { historyState, serverState } from './support/unchanged';

const BASE = clusterBaseDir(path.join(ROOT, '.local/test-clusters', `${process.pid}-tls`), `test-tls-${process.pid}`);
const CERTS = path.join(BASE, 'certs');
const PASSWORD = `tls-pw-${randomUUID()}`;
let cluster: PostgresCluster;
let viaIp: string;        // the name in the certificate
let viaOtherIp: string;   // the same server under an address the certificate does not name
const ca = path.join(CERTS, 'ca.crt');
const otherCa = path.join(CERTS, 'other-ca.crt');

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: CERTS, stdio: ['ignore', 'ignore', 'pipe'] });
}

beforeAll(async () => {
  fs.rmSync(BASE, { recursive: true, force: true });
  fs.mkdirSync(CERTS, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pg-audit-gateway test CA']);
  openssl(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/CN=another CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(CERTS, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  fs.chmodSync(path.join(CERTS, 'server.key'), 0o600);
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:', BASE]);
  cluster = await PostgresCluster.start({ name: 'pg15-tls', baseDir: BASE, binDir: debianPgBinDir(15), fresh: true, settings: {
    ssl: 'on', ssl_cert_file: `'${path.join(CERTS, 'server.crt')}'`, ssl_key_file: `'${path.join(CERTS, 'server.key')}'`,
    listen_addresses: `'127.0.0.1,127.0.0.2'`, max_connections: '20' } });
  const url = new URL(cluster.url());
  url.password = PASSWORD;
  viaIp = url.toString();
  url.hostname = '127.0.0.2';
  viaOtherIp = url.toString();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(BASE, { recursive: true, force: true });
});

/** Opens a session in `mode` (with `caFile` trusted) to `url` and returns whether the server sees it as TLS. */
async function tlsOfSession(url: string, mode: TargetSslMode, caFile: string | null = ca): Promise<boolean> {
  const { vault, service } = sealedTarget(randomUUID(), url);
  const connector = new TargetConnector({ targetConnectTimeoutMs: 5000, targetStatementTimeoutMs: 5000, targetLockTimeoutMs: 1000,
    targetMaxConnectionsPerService: 2, targetTls: { sslMode: mode, ca: caFile ? fs.readFileSync(caFile, 'utf8') : null } }, vault);
  return connector.with(service, undefined, async (s: TargetSession) => {
    const client = (s as unknown as { client: { query(q: string): Promise<{ rows: { ssl: boolean }[] }> } }).client;
    return (await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]!.ssl;
  });
}

/** The refusal of a session: SERVICE_TLS_FAILED with a sentence matching `message`, carrying no secret. */
async function refused(url: string, mode: TargetSslMode, message: RegExp, caFile: string | null = ca): Promise<void> {
  let error: unknown;
  try { await tlsOfSession(url, mode, caFile); } catch (err) { error = err; }
  expect(error).toMatchObject({ code: 'SERVICE_TLS_FAILED' });
  const text = JSON.stringify({ message: (error as Error).message, errors: (error as { userErrors?: unknown }).userErrors });
  expect(text).toMatch(message);
  expect(text).toMatch(/nothing was changed/);
  for (const secret of [PASSWORD, 'postgres://', String(cluster.port)]) expect(text).not.toContain(secret);
}

describe('verify-full', () => {
  it('successful: the right CA and a certificate naming the host: a TLS session', async () => {
    expect(await tlsOfSession(viaIp, 'verify-full')).toBe(true);
  });
  it('failing: another CA, or Node\'s public roots only: not trusted', async () => {
    await refused(viaIp, 'verify-full', /TLS certificate is not trusted \(sslmode verify-full: [A-Z_]+\)/, otherCa);
    await refused(viaIp, 'verify-full', /TLS certificate is not trusted/, null);
  });
  it('failing: a certificate that does not name the host of the URL', async () => {
    await refused(viaOtherIp, 'verify-full', /TLS certificate does not name the host of its URL \(sslmode verify-full\)/);
  });
});

describe('verify-ca', () => {
  it('successful: the chain is checked, the name is not', async () => {
    expect(await tlsOfSession(viaOtherIp, 'verify-ca')).toBe(true);
  });
  it('failing: another CA', async () => {
    await refused(viaIp, 'verify-ca', /not trusted \(sslmode verify-ca/, otherCa);
  });
});

describe('require', () => {
  it('successful: TLS without checking the certificate', async () => {
    expect(await tlsOfSession(viaOtherIp, 'require', otherCa)).toBe(true);
  });
  it('failing: a server without TLS is refused', async () => {
    await refused(urls.pgaudit, 'require', /the PostgreSQL service does not accept TLS, which sslmode require requires/);
  });
});

describe('a service URL\'s sslmode raises the minimum and never lowers it', () => {
  const withMode = (url: string, mode: string) => `${url}${url.includes('?') ? '&' : '?'}sslmode=${mode}`;
  it('disable: plain text to a server that has TLS', async () => {
    expect(await tlsOfSession(viaIp, 'disable')).toBe(false);
  });
  it('failing: sslmode=disable (or prefer) in the URL does not weaken require', async () => {
    await refused(withMode(urls.pgaudit, 'disable'), 'require', /does not accept TLS, which sslmode require requires/);
    await refused(withMode(urls.pgaudit, 'prefer'), 'require', /does not accept TLS/);
    await refused(withMode(viaOtherIp, 'require'), 'verify-full', /does not name the host/);
  });
  it('sslmode=verify-full in the URL raises disable', async () => {
    expect(await tlsOfSession(withMode(viaIp, 'verify-full'), 'disable')).toBe(true);
    await refused(withMode(viaOtherIp, 'verify-full'), 'disable', /does not name the host of its URL \(sslmode verify-full\)/);
    await refused(withMode(urls.pgaudit, 'verify-full'), 'disable', /does not accept TLS, which sslmode verify-full requires/);
  });
});

describe('through the gateway (TARGET_SSLMODE and TARGET_SSL_CA_FILE from the environment)', () => {
  it('successful: verify-full with the CA file: eligibility reads the live server', async () => {
    const g = await startTestGateway({ TARGET_SSLMODE: 'verify-full', TARGET_SSL_CA_FILE: ca });
    try {
      const t = await createTenant(g, { serviceUrl: viaIp });
      const r = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
      expect(r.errors).toBeUndefined();
      const version = r.data!.auditEligibility.checks.find((c: { requirement: string }) => c.requirement === 'POSTGRES_VERSION');
      expect(version.satisfied).toBe(true);
    } finally { await g.close(); }
  });

  it('failing: another CA: eligibility is a coded error, a change is refused with SERVICE_TLS_FAILED, nothing changed', async () => {
    const g = await startTestGateway({ TARGET_SSLMODE: 'verify-full', TARGET_SSL_CA_FILE: otherCa });
    try {
      const t = await createTenant(g, { serviceUrl: viaIp });
      const server = await serverState(cluster.url());
      const history = await historyState(g, t.serviceId);
      const e = await g.exec(t.token, ELIGIBILITY, { serviceId: t.serviceId });
      expect(e.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
      expect(e.errors![0]!.message).toMatch(/TLS certificate is not trusted/);
      const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, reason: 'tls' } });
      expect(r.data!.enableAuditLogging.userErrors).toEqual([expect.objectContaining({ code: 'SERVICE_TLS_FAILED', field: ['input', 'serviceId'] })]);
      for (const text of [JSON.stringify(e), JSON.stringify(r)]) for (const secret of [PASSWORD, 'postgres://']) expect(text).not.toContain(secret);
      expect(await serverState(cluster.url())).toEqual(server);
      expect(await historyState(g, t.serviceId)).toEqual(history);
    } finally { await g.close(); }
  });
});
