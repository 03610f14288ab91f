/**
 * The command line as operators and automation use it (see shared/design/cli.md): the BUILT executable
 * (dist/src/cli/main.js, made current once per jest run by the integration globalSetup) spawned as a child
 * process against the test gateway database. --json prints exactly one JSON object; a failure exits
 * non-zero with one line on stderr that never repeats a secret it was given.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT } from './support/cli';
import { ELIGIBILITY, sql, startTestGateway, TestGateway, urls } from './support/harness';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Run { status: number | null; stdout: string; stderr: string }

function cli(args: string[], env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: urls.gatewayDb }, input?: string): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000, input });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed with --json and returns its one JSON object. */
function json(args: string[]): Record<string, any> {
  return jsonOf(args, cli([...args, '--json']));
}

/** Checks the run of `args --json` that must have succeeded and returns its one JSON object. */
function jsonOf(args: string[], r: Run): Record<string, any> {
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  const out = JSON.parse(lines[0]!);
  expect(typeof out).toBe('object');
  expect(Array.isArray(out)).toBe(false);
  return out;
}

/** Runs a command that must fail: non-zero exit, nothing on stdout, exactly one line on stderr. Returns that line. */
function fails(args: string[], env?: NodeJS.ProcessEnv, input?: string): string {
  const r = cli(args, env, input);
  expect(r.status).not.toBe(0);
  expect(r.status).not.toBeNull();
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^pg-audit-gateway: /);
  expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+|stack/i);
  return lines[0]!;
}

let g: TestGateway;

beforeAll(async () => {
  g = await startTestGateway();
});
afterAll(async () => { await g?.close(); });

describe('migrate', () => {
  it('is idempotent: a second run applies nothing', () => {
    json(['migrate']);   // whatever was pending (the harness may already have migrated)
    const again = json(['migrate']);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toBeGreaterThan(0);
    const third = json(['migrate']);
    expect(third).toEqual(again);
  });
});

describe('bootstrapping a tenant', () => {
  const n = `cli-${process.pid}-${Date.now()}`;
  const steps = {
    organization: ['admin', 'create-organization', '--name', `org ${n}`, '--pro-platform'],
    project: (orgId: string) => ['admin', 'create-project', '--organization', orgId, '--name', `project ${n}`, '--pro-features'],
    service: (projectId: string) => ['admin', 'register-service', '--project', projectId, '--name', `service ${n}`, '--url-file', '-', '--json'],
    token: (projectId: string) => ['admin', 'create-token', '--project', projectId, '--name', `token ${n}`, '--database-role', 'avnadmin'],
    humanToken: (projectId: string) => ['admin', 'create-token', '--project', projectId, '--name', `token2 ${n}`, '--database-role', 'avnadmin'],
  };
  /** Each bootstrap command's run, made once (beforeAll) and checked by its own test below, so any test runs alone. */
  const runs = {} as Record<'organization' | 'project' | 'service' | 'token' | 'humanToken', Run>;
  let orgId: string;
  let projectId: string;
  let serviceId: string;
  let token: string;
  let tokenId: string;

  beforeAll(() => {
    const step = (name: keyof typeof runs, args: string[]) => {
      runs[name] = cli(args, undefined, name === 'service' ? `${urls.pgaudit}\n` : undefined);
      if (runs[name].status !== 0) throw new Error(`${args.join(' ')} exited ${runs[name].status}: ${runs[name].stderr}`);
      return args.includes('--json') ? JSON.parse(runs[name].stdout) : undefined;
    };
    orgId = step('organization', [...steps.organization, '--json']).id;
    projectId = step('project', [...steps.project(orgId), '--json']).id;
    serviceId = step('service', steps.service(projectId)).id;
    ({ token, id: tokenId } = step('token', [...steps.token(projectId), '--json']));
    step('humanToken', steps.humanToken(projectId));
  });

  it('create-organization --pro-platform prints {"id": uuid}', async () => {
    const out = jsonOf(steps.organization, runs.organization);
    expect(Object.keys(out)).toEqual(['id']);
    expect(out.id).toMatch(UUID);
    expect(out.id).toBe(orgId);
    const [row] = await sql(urls.gatewayDb, `SELECT name, pro_platform FROM organization WHERE id = $1`, [orgId]);
    expect(row).toEqual({ name: `org ${n}`, pro_platform: true });
  });

  it('create-project --pro-features prints {"id": uuid}', async () => {
    const out = jsonOf(steps.project(orgId), runs.project);
    expect(Object.keys(out)).toEqual(['id']);
    expect(out.id).toMatch(UUID);
    expect(out.id).toBe(projectId);
    const [row] = await sql(urls.gatewayDb, `SELECT organization_id, pro_features FROM project WHERE id = $1`, [projectId]);
    expect(row).toEqual({ organization_id: orgId, pro_features: true });
  });

  it('register-service prints {"id": uuid} and never the URL', () => {
    const r = runs.service;
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain(urls.pgaudit);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['id']);
    expect(out.id).toMatch(UUID);
    expect(out.id).toBe(serviceId);
  });

  it('create-token prints {"token": ...} once', () => {
    const out = jsonOf(steps.token(projectId), runs.token);
    expect(out.token).toMatch(/^pga_[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(out)).toContain('token');
    expect(out.token).toBe(token);
    // human output (no --json) says it is shown once
    const human = runs.humanToken;
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^token pga_\S+\n/);
  });

  it('only the SHA-256 of the token is stored, the token itself nowhere', async () => {
    const rows = await sql(urls.gatewayDb, `SELECT * FROM api_token WHERE project_id = $1`, [projectId]);
    expect(rows).toHaveLength(2);
    const mine = rows.find((r) => r.name === `token ${n}`)!;
    expect(tokenId).toMatch(UUID);
    expect(mine.id).toBe(tokenId);
    expect(mine.token_hash).toBe(createHash('sha256').update(token, 'utf8').digest('hex'));
    expect(mine.database_role).toBe('avnadmin');
    const [{ hits }] = await sql<{ hits: number }>(urls.gatewayDb,
      `SELECT count(*)::int AS hits FROM api_token t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0`,
      [token, token.slice('pga_'.length)]);
    expect(hits).toBe(0);
  });

  it('the token works through the gateway: eligible on PG15 + pgaudit as avnadmin', async () => {
    const r = await g.exec(token, ELIGIBILITY, { serviceId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.auditEligibility.eligible).toBe(true);
  });

  const check = async (requirement: string) => {
    const r = await g.exec(token, ELIGIBILITY, { serviceId });
    expect(r.errors).toBeUndefined();
    return r.data!.auditEligibility.checks.find((c: any) => c.requirement === requirement).satisfied as boolean;
  };

  it('set-plan --organization <id> --pro-platform false: eligibility fails on PRO_PLATFORM (and true restores it)', async () => {
    const off = json(['admin', 'set-plan', '--organization', orgId, '--pro-platform', 'false']);
    expect(off).toMatchObject({ id: orgId, proPlatform: false });
    const r = await g.exec(token, ELIGIBILITY, { serviceId });
    expect(r.data!.auditEligibility.eligible).toBe(false);
    expect(r.data!.auditEligibility.checks.filter((c: any) => !c.satisfied).map((c: any) => c.requirement)).toEqual(['PRO_PLATFORM']);
    json(['admin', 'set-plan', '--organization', orgId, '--pro-platform', 'true']);
    expect(await check('PRO_PLATFORM')).toBe(true);
  });

  it('set-plan --project <id> --pro-features false: eligibility fails on PRO_FEATURES (and true restores it)', async () => {
    const off = json(['admin', 'set-plan', '--project', projectId, '--pro-features', 'false']);
    expect(off).toMatchObject({ id: projectId, proFeatures: false });
    const r = await g.exec(token, ELIGIBILITY, { serviceId });
    expect(r.data!.auditEligibility.eligible).toBe(false);
    expect(r.data!.auditEligibility.checks.filter((c: any) => !c.satisfied).map((c: any) => c.requirement)).toEqual(['PRO_FEATURES']);
    json(['admin', 'set-plan', '--project', projectId, '--pro-features', 'true']);
    expect((await g.exec(token, ELIGIBILITY, { serviceId })).data!.auditEligibility.eligible).toBe(true);
  });

  it('a project created without --pro-features is not entitled', async () => {
    const p = json(['admin', 'create-project', '--organization', orgId, '--name', `basic ${n}`]);
    const [row] = await sql(urls.gatewayDb, `SELECT pro_features FROM project WHERE id = $1`, [p.id]);
    expect(row!.pro_features).toBe(false);
  });

  describe('register-service: the URL from a file or stdin, never argv', () => {
    const count = async () => (await sql<{ c: number }>(urls.gatewayDb, `SELECT count(*)::int AS c FROM service WHERE project_id = $1`, [projectId]))[0]!.c;
    let dir: string;
    beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-url-')); });
    afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

    it('--url-file PATH: the file\'s one line (surrounding blank lines and spaces ignored); the service connects with it', async () => {
      const file = path.join(dir, 'url');
      fs.writeFileSync(file, `\n  ${urls.pgaudit}  \r\n\n`, { mode: 0o600 });
      const out = json(['admin', 'register-service', '--project', projectId, '--name', `from file ${randomUUID()}`, '--url-file', file]);
      expect(out.id).toMatch(UUID);
      const [row] = await sql(urls.gatewayDb, `SELECT credential_key_version FROM service WHERE id = $1`, [out.id]);
      expect(row!.credential_key_version).toBe(1);
      const r = await g.exec(token, ELIGIBILITY, { serviceId: out.id });
      expect(r.data!.auditEligibility.eligible).toBe(true);
    });

    it('--url-file -: from stdin', () => {
      const r = cli(['admin', 'register-service', '--project', projectId, '--name', `from stdin ${randomUUID()}`, '--url-file', '-', '--json'], undefined, urls.pgaudit);
      expect(jsonOf([], r).id).toMatch(UUID);
    });

    it('--url (deprecated, STABLE) still works, with a warning on stderr that argv is visible to other users', () => {
      const r = cli(['admin', 'register-service', '--project', projectId, '--name', `from argv ${randomUUID()}`, '--url', urls.pgaudit, '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).id).toMatch(UUID);
      expect(r.stderr).toBe('pg-audit-gateway: warning: --url is deprecated: the URL and its password are visible to other local users (ps, /proc/<pid>/cmdline); use --url-file PATH or --url-file - (stdin)\n');
    });

    it('failing: no URL, both, an empty, missing, multi-line or oversized file: refused, nothing added, no secret repeated', async () => {
      const before = await count();
      const base = ['admin', 'register-service', '--project', projectId, '--name', `refused ${randomUUID()}`, '--json'];
      expect(fails(base)).toMatch(/--url-file is required/);
      expect(fails([...base, '--url', 'postgres://a:secret-password@h/db', '--url-file', '-'], undefined, urls.pgaudit)).toMatch(/not both/);
      const empty = path.join(dir, 'empty');
      fs.writeFileSync(empty, '\n\n');
      expect(fails([...base, '--url-file', empty])).toMatch(/exactly one URL \(one line\), found 0 lines/);
      expect(fails([...base, '--url-file', '-'], undefined, '')).toMatch(/found 0 lines/);
      const two = path.join(dir, 'two');
      fs.writeFileSync(two, `postgres://a:secret-password@h/db\npostgres://b:secret-password@h/db\n`);
      expect(fails([...base, '--url-file', two])).toMatch(/found 2 lines/);
      expect(fails([...base, '--url-file', path.join(dir, 'missing')])).toMatch(/--url-file cannot be read \(ENOENT\)/);
      expect(fails([...base, '--url-file', '-'], undefined, 'postgres://a:secret-password@h/db?x=' + 'y'.repeat(70_000))).toMatch(/more than 65536 bytes/);
      for (const line of [fails([...base, '--url-file', two]), fails([...base, '--url-file', '-'], undefined, 'secret-password')]) {
        expect(line).not.toContain('secret-password');
      }
      expect(await count()).toBe(before);
    });
  });

  describe('failures: non-zero exit, one line on stderr', () => {
    it('unknown command / unknown admin command / unknown option', () => {
      expect(fails(['frobnicate'])).toMatch(/unknown command frobnicate/);
      expect(fails(['admin', 'frobnicate'])).toMatch(/unknown admin command frobnicate/);
      expect(fails(['admin'])).toMatch(/unknown admin command/);
      expect(fails(['admin', 'create-organization', '--name', 'x', '--bogus'])).toMatch(/--bogus/);
    });

    it('missing --name', () => {
      expect(fails(['admin', 'create-organization', '--json'])).toMatch(/--name is required/);
      expect(fails(['admin', 'create-organization', '--name', '', '--json'])).toMatch(/--name is required/);
      expect(fails(['admin', 'create-project', '--organization', orgId, '--json'])).toMatch(/--name is required/);
    });

    it('a bad UUID', () => {
      expect(fails(['admin', 'create-project', '--organization', 'not-a-uuid', '--name', 'x'])).toMatch(/organization id must be a UUID/);
      expect(fails(['admin', 'register-service', '--project', '123', '--name', 'x', '--url-file', '-'], undefined, urls.pgaudit)).toMatch(/project id must be a UUID/);
      expect(fails(['admin', 'set-plan', '--organization', "x'; DROP TABLE organization; --", '--pro-platform', 'false'])).toMatch(/must be a UUID/);
    });

    it('a nonexistent organization / project', () => {
      const missing = randomUUID();
      expect(fails(['admin', 'create-project', '--organization', missing, '--name', 'x'])).toMatch(new RegExp(`organization ${missing} does not exist`));
      expect(fails(['admin', 'set-plan', '--organization', missing, '--pro-platform', 'false'])).toMatch(/does not exist/);
      expect(fails(['admin', 'set-plan', '--project', missing, '--pro-features', 'true'])).toMatch(/does not exist/);
      expect(fails(['admin', 'create-token', '--project', missing, '--name', 'x', '--database-role', 'avnadmin'])).toMatch(/does not exist/);
    });

    it('a second service of the same name in a project is refused by name, and nothing is added', async () => {
      const name = `twice ${randomUUID()}`;
      cli(['admin', 'register-service', '--project', projectId, '--name', name, '--url-file', '-', '--json'], undefined, urls.pgaudit);
      const before = await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM service WHERE project_id = $1`, [projectId]);
      const line = fails(['admin', 'register-service', '--project', projectId, '--name', name, '--url-file', '-', '--json'], undefined, urls.pgaudit);
      expect(line).toBe(`pg-audit-gateway: project ${projectId} already has a service named "${name}"`);
      expect(await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM service WHERE project_id = $1`, [projectId])).toEqual(before);
    });

    it('a register-service URL that is not postgres:// is refused without repeating it', async () => {
      const before = await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM service WHERE project_id = $1`, [projectId]);
      for (const url of ['mysql://secret-password@h/db', 'mysql://admin:secret-password@h/db', 'secret-password', 'postgres://:secret-password@/db',
        'postgres://a:secret-password@h/db?sslmode=bogus', 'postgres://a:secret-password@h/db?sslrootcert=/etc/secret-password']) {
        const line = fails(['admin', 'register-service', '--project', projectId, '--name', 'x', '--url-file', '-', '--json'], undefined, url);
        expect(line).not.toContain('secret-password');
        expect(line).toMatch(/service URL/);
      }
      expect(await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM service WHERE project_id = $1`, [projectId])).toEqual(before);
    });

    it('set-plan with a value other than true|false changes nothing; both scopes at once is refused', async () => {
      const plan = async () => (await sql(urls.gatewayDb, `SELECT o.pro_platform, p.pro_features FROM project p JOIN organization o
        ON o.id = p.organization_id WHERE p.id = $1`, [projectId]))[0];
      json(['admin', 'set-plan', '--organization', orgId, '--pro-platform', 'false']);
      json(['admin', 'set-plan', '--project', projectId, '--pro-features', 'false']);
      for (const value of ['maybe', 'fasle', 'TRUE', '1', 'yes']) {
        expect(fails(['admin', 'set-plan', '--organization', orgId, '--pro-platform', value])).toMatch(/--pro-platform takes true or false/);
        expect(fails(['admin', 'set-plan', '--project', projectId, '--pro-features', value, '--json'])).toMatch(/--pro-features takes true or false/);
      }
      expect(await plan()).toEqual({ pro_platform: false, pro_features: false });
      expect(fails(['admin', 'set-plan', '--organization', orgId, '--project', projectId, '--pro-platform', 'true'])).toMatch(/set-plan takes/);
      expect(fails(['admin', 'set-plan', '--organization', orgId])).toMatch(/set-plan takes/);
      expect(await plan()).toEqual({ pro_platform: false, pro_features: false });
      json(['admin', 'set-plan', '--organization', orgId, '--pro-platform', 'true']);
      json(['admin', 'set-plan', '--project', projectId, '--pro-features', 'true']);
      expect(await plan()).toEqual({ pro_platform: true, pro_features: true });
    });

    it('a stray argument is refused, not ignored', () => {
      expect(fails(['admin', 'create-organization', 'extra', '--name', 'x'])).toMatch(/unexpected argument extra/);
      expect(fails(['migrate', 'now'])).toMatch(/unexpected argument now/);
    });

    it('create-token with a role that is not a plain role name', () => {
      expect(fails(['admin', 'create-token', '--project', projectId, '--name', 'x', '--database-role', 'avnadmin; DROP ROLE x'])).toMatch(/database role/);
    });

    it('CREDENTIALS_MASTER_KEYS unset: migrate, serve and admin refuse with a clear message, and nothing is added', async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: urls.gatewayDb };
      delete env.CREDENTIALS_MASTER_KEYS;
      const orgs = async () => (await sql(urls.gatewayDb, `SELECT count(*)::int AS c FROM organization`))[0]!.c;
      const before = await orgs();
      for (const args of [['migrate'], ['serve'], ['admin', 'create-organization', '--name', 'x', '--json'], ['admin', 'rotate-key']]) {
        expect(fails(args, env)).toMatch(/^pg-audit-gateway: CREDENTIALS_MASTER_KEYS is not set: service credentials are encrypted with it/);
      }
      expect(fails(['migrate'], { ...env, CREDENTIALS_MASTER_KEYS: 'secret-password' })).toBe('pg-audit-gateway: CREDENTIALS_MASTER_KEYS entry 1 is not version:base64 of 32 bytes (e.g. 1:$(openssl rand -base64 32))');
      expect(await orgs()).toBe(before);
    });

    it('DATABASE_URL unset: a clear message naming DATABASE_URL', () => {
      const env = { ...process.env };
      delete env.DATABASE_URL;
      expect(fails(['migrate'], env)).toMatch(/DATABASE_URL is not set/);
      expect(fails(['admin', 'create-organization', '--name', 'x', '--json'], env)).toMatch(/DATABASE_URL is not set/);
      expect(fails(['admin', 'create-organization', '--name', 'x'], { ...env, DATABASE_URL: 'mysql://secret-password@h/db' }))
        .toMatch(/^pg-audit-gateway: DATABASE_URL must be a postgres:\/\/ URL$/);
    });
  });
});

describe('emit-schema', () => {
  it('--check exits 0 on the committed schema.graphql and writes nothing', () => {
    const file = path.join(ROOT, 'schema.graphql');
    const before = fs.readFileSync(file, 'utf8');
    const r = cli(['emit-schema', '--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/up to date/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('help', () => {
  it('--help prints the usage and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const cmd of ['migrate', 'serve', 'create-organization', 'create-project', 'register-service', 'create-token', 'set-plan']) {
      expect(r.stdout).toContain(cmd);
    }
  });
});

describe('serve', () => {
  it('serves /healthz and /graphql, then shuts down cleanly (exit 0, not killed) on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd: ROOT,
      env: { ...process.env, DATABASE_URL: urls.gatewayDb, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const m = /"msg":"listening".*"port":(\d+)/.exec(stderr);
          if (m) { clearTimeout(timer); resolve(Number(m[1])); }
        });
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const unauth = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      expect(unauth.status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stderr).not.toContain('postgres://');   // no connection URL in the service's logs
    } finally {
      // a failed expectation must not leave the server running: its open handles keep jest (and CI) from exiting
      if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
    }
  });
});
