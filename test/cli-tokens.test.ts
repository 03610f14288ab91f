/**
 * The token commands of the built CLI (admin create-token with scopes and expiry, list-tokens, revoke-token),
 * spawned as operators run them against the test gateway database, and their effect through the gateway
 * (a test gateway with AUTH_CACHE_TTL_MS=0, so a revocation is seen at once). list-tokens never prints a
 * secret or its hash; failures exit non-zero with one line and change nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliFails, cliJson, runCli } from './support/cli';
import { ELIGIBILITY, sql, startTestGateway, TestGateway, urls } from './support/harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let g: TestGateway;
let projectId: string;
let serviceId: string;
const n = `cli-tokens-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  g = await startTestGateway({ AUTH_CACHE_TTL_MS: '0' });
  const org = cliJson(['admin', 'create-organization', '--name', `org ${n}`, '--pro-platform']);
  projectId = cliJson(['admin', 'create-project', '--organization', org.id, '--name', `project ${n}`, '--pro-features']).id;
  // the URL from a file (mode 0600), as operators pass it: never on the command line
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-cli-tokens-'));
  const file = path.join(dir, 'url');
  fs.writeFileSync(file, urls.pgaudit, { mode: 0o600 });
  try { serviceId = cliJson(['admin', 'register-service', '--project', projectId, '--name', `service ${n}`, '--url-file', file]).id; }
  finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
afterAll(async () => { await g?.close(); });

const create = (...extra: string[]) => cliJson(['admin', 'create-token', '--project', projectId, '--name', `token ${randomUUID()}`, '--database-role', 'avnadmin', ...extra]);
const tokenCount = async () => (await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM api_token WHERE project_id = $1`, [projectId]))[0]!.c;

describe('create-token', () => {
  it('without --scopes or an expiry: every scope, never expires (as before)', async () => {
    const out = create();
    expect(out).toEqual({ token: expect.stringMatching(/^pga_[A-Za-z0-9_-]{43}$/), id: expect.stringMatching(UUID),
      scopes: ['read:events', 'read:policy', 'write:policy'], expiresAt: null });
    const [row] = await sql(urls.gatewayDb, `SELECT scopes, expires_at FROM api_token WHERE id = $1`, [out.id]);
    expect(row).toEqual({ scopes: ['read:events', 'read:policy', 'write:policy'], expires_at: null });
  });

  it('--scopes and --expires-in are stored and shown', async () => {
    const before = Date.now();
    const out = create('--scopes', 'read:policy,read:events', '--expires-in', '90d');
    expect(out.scopes).toEqual(['read:events', 'read:policy']);
    const expires = Date.parse(out.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 90 * 86_400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * 86_400_000);
    const [row] = await sql(urls.gatewayDb, `SELECT scopes, expires_at FROM api_token WHERE id = $1`, [out.id]);
    expect(row!.scopes).toEqual(['read:events', 'read:policy']);
    expect((row!.expires_at as Date).toISOString()).toBe(out.expiresAt);
  });

  it('--expires-at takes an ISO date-time with a time zone', () => {
    expect(create('--expires-at', '2099-01-31T02:00:00+02:00').expiresAt).toBe('2099-01-31T00:00:00.000Z');
  });

  it('the human output says the token is shown once, and its scopes and expiry', () => {
    const r = runCli(['admin', 'create-token', '--project', projectId, '--name', 'human', '--database-role', 'avnadmin', '--scopes', 'read:events'],
      { ...process.env });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^token pga_\S+\n\(shown once: only its hash is stored; id [0-9a-f-]{36}; scopes read:events; expires never\)\n$/);
  });

  it.each([
    [['--scopes', 'read:everything'], /unknown scope "read:everything": the scopes are read:events, read:policy, write:policy/],
    [['--scopes', ','], /at least one scope/],
    [['--expires-in', '0d'], /--expires-in takes a positive duration/],
    [['--expires-in', '1y'], /--expires-in takes a positive duration/],
    [['--expires-at', '2020-01-01T00:00:00Z'], /--expires-at must be in the future/],
    [['--expires-at', '2099-01-01T00:00:00'], /--expires-at takes an ISO 8601 date-time with a time zone/],
    [['--expires-in', '1d', '--expires-at', '2099-01-01'], /not both/],
  ])('%j is refused and no token is made', async (extra, message) => {
    const before = await tokenCount();
    expect(cliFails(['admin', 'create-token', '--project', projectId, '--name', 'x', '--database-role', 'avnadmin', ...extra])).toMatch(message);
    expect(await tokenCount()).toBe(before);
  });
});

describe('list-tokens', () => {
  it('lists every token of the project with its state, never a secret or a hash', async () => {
    const readOnly = create('--scopes', 'read:events,read:policy', '--expires-in', '30m');
    const expired = create();
    await sql(urls.gatewayDb, `UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    const revoked = create();
    cliJson(['admin', 'revoke-token', '--token-id', revoked.id]);

    const r = runCli(['admin', 'list-tokens', '--project', projectId, '--json']);
    expect(r.status).toBe(0);
    const { tokens } = JSON.parse(r.stdout);
    expect(tokens.length).toBe(await tokenCount());
    const byId = new Map<string, any>(tokens.map((t: any) => [t.id, t]));
    expect(byId.get(readOnly.id)).toEqual({ id: readOnly.id, name: expect.any(String), databaseRole: 'avnadmin', scopes: ['read:events', 'read:policy'],
      createdAt: expect.stringMatching(ISO), expiresAt: readOnly.expiresAt, revokedAt: null, status: 'active' });
    expect(byId.get(expired.id)).toMatchObject({ status: 'expired', revokedAt: null });
    expect(byId.get(revoked.id)).toMatchObject({ status: 'revoked', revokedAt: expect.stringMatching(ISO) });

    const human = runCli(['admin', 'list-tokens', '--project', projectId]);
    expect(human.status).toBe(0);
    expect(human.stdout.trim().split('\n')).toHaveLength(tokens.length);
    const hashes = await sql<{ token_hash: string }>(urls.gatewayDb, `SELECT token_hash FROM api_token WHERE project_id = $1`, [projectId]);
    for (const text of [r.stdout, human.stdout]) {
      for (const secret of [readOnly.token, expired.token, revoked.token]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice('pga_'.length));
        expect(text).not.toContain(createHash('sha256').update(secret).digest('hex'));
      }
      for (const { token_hash } of hashes) expect(text).not.toContain(token_hash);
    }
  });

  it('an unknown or malformed project is refused', () => {
    const missing = randomUUID();
    expect(cliFails(['admin', 'list-tokens', '--project', missing])).toBe(`pg-audit-gateway: project ${missing} does not exist`);
    expect(cliFails(['admin', 'list-tokens', '--project', 'nope'])).toMatch(/project id must be a UUID/);
    expect(cliFails(['admin', 'list-tokens'])).toMatch(/--project is required/);
  });
});

describe('revoke-token', () => {
  it('revokes: the gateway refuses the token at once (cache at 0); a second revocation changes nothing', async () => {
    const t = create();
    const ok = await g.exec(t.token, ELIGIBILITY, { serviceId });
    expect(ok.data!.auditEligibility.eligible).toBe(true);

    const first = cliJson(['admin', 'revoke-token', '--token-id', t.id]);
    expect(first).toEqual({ id: t.id, revokedAt: expect.stringMatching(ISO), alreadyRevoked: false });
    await expect(g.exec(t.token, ELIGIBILITY, { serviceId })).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });

    const second = cliJson(['admin', 'revoke-token', '--token-id', t.id]);
    expect(second).toEqual({ id: t.id, revokedAt: first.revokedAt, alreadyRevoked: true });
    const human = runCli(['admin', 'revoke-token', '--token-id', t.id]);
    expect(human.stdout).toBe(`token ${t.id} was already revoked at ${first.revokedAt}\n`);
    const [row] = await sql(urls.gatewayDb, `SELECT revoked_at FROM api_token WHERE id = $1`, [t.id]);
    expect((row!.revoked_at as Date).toISOString()).toBe(first.revokedAt);
  });

  it('an unknown or malformed id is refused clearly, and nothing is revoked', async () => {
    const active = async () => (await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM api_token WHERE revoked_at IS NULL`))[0]!.c;
    const before = await active();
    const missing = randomUUID();
    expect(cliFails(['admin', 'revoke-token', '--token-id', missing, '--json'])).toBe(`pg-audit-gateway: token ${missing} does not exist`);
    expect(cliFails(['admin', 'revoke-token', '--token-id', "x' OR 1=1 --"])).toMatch(/token id must be a UUID/);
    expect(cliFails(['admin', 'revoke-token'])).toMatch(/--token-id is required/);
    expect(await active()).toBe(before);
  });
});

describe('help', () => {
  it('names the new commands and options', () => {
    const r = runCli(['--help']);
    for (const s of ['list-tokens', 'revoke-token', '--token-id', '--scopes', '--expires-in', '--expires-at']) expect(r.stdout).toContain(s);
  });
});
