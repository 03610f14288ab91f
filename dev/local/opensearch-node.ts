/**
 * A throw-away single-node OpenSearch for the integration tests (and local development), in the style
 * of postgres-cluster.ts. The server is OpenSearch's minimal distribution from Maven Central
 * (`integ-test-zip`: no bundled JDK, no security plugin, plain HTTP), at the version pinned in
 * `opensearch.version` at the repo root (scripts/bootstrap.sh reads the same file to prefetch it).
 *
 * The distribution is unpacked once per machine into `<tmp>/pg-audit-gateway/opensearch-<version>/`
 * (read-only afterwards, shared by every node). Each node lives in `<baseDir>/<name>/`:
 *   config/       its own copy of the distribution's config dir (OPENSEARCH_PATH_CONF)
 *   data/ logs/   path.data and path.logs (also the JVM's gc.log and hs_err files)
 *   tmp/          OPENSEARCH_TMPDIR
 *   console.log   the process's stdout/stderr (early start-up errors land here)
 *   opensearch.pid
 * OpenSearch refuses to run as root, so as root it runs as the system user `opensearch` (created if
 * missing), which then owns the node directory: `baseDir` must be reachable by that user (see
 * clusterBaseDir in postgres-cluster.ts for a checkout other users cannot traverse).
 * The JVM is started through `setpriv --pdeathsig KILL` (as kafka-broker.ts does): the kernel kills it when
 * the process that started it dies, even by SIGKILL. With `cluster`, the node is one member of a multi-node
 * cluster (opensearch-cluster.ts starts three) instead of a `discovery.type: single-node` one.
 */
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/base/paths';
import { freePort } from './free-port';

const execFileAsync = promisify(execFile);
const RUN_AS = 'opensearch';
const asRoot = () => process.getuid?.() === 0;

/** The pinned OpenSearch version: the one line of `<repo>/opensearch.version`. */
export const OPENSEARCH_VERSION: string = fs.readFileSync(path.join(projectRoot(), 'opensearch.version'), 'utf8').trim();
const ARTIFACT = `org.opensearch.distribution.integ-test-zip:opensearch:${OPENSEARCH_VERSION}:zip`;

const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 20_000;

export interface OpenSearchOptions {
  name: string;
  baseDir: string;
  port?: number;
  /** JVM heap (-Xms = -Xmx), default 512. */
  heapMb?: number;
  /** More JVM options (OPENSEARCH_JAVA_OPTS), after the heap's. */
  jvmOptions?: string[];
  /** Wipe the node directory first (default true). */
  fresh?: boolean;
  /** The transport (node-to-node) port; a free one by default. A cluster member needs it fixed: the others' seed hosts name it. */
  transportPort?: number;
  /** Join a multi-node cluster (opensearch-cluster.ts) instead of forming a single-node one. */
  cluster?: ClusterMembership;
}

/** What a member of a multi-node cluster is told about the others. */
export interface ClusterMembership {
  /** cluster.name, the same on every member. */
  name: string;
  /** discovery.seed_hosts: every member's transport address (`127.0.0.1:<port>`), this one's included. */
  seedHosts: string[];
  /** cluster.initial_cluster_manager_nodes: the node names that vote in the first election (used once, at bootstrap). */
  initialManagers: string[];
}

/** The unpacked distribution (its home dir), fetched with Maven and unzipped on first use. */
export async function ensureOpenSearchDistribution(): Promise<string> {
  const home = path.join(sharedTempDir(), `opensearch-${OPENSEARCH_VERSION}`);
  const complete = () => fs.existsSync(path.join(home, 'bin', 'opensearch'));
  if (complete()) return home;
  // Unpack beside the final place, then rename: a concurrent run sees either nothing or a whole copy.
  const staging = fs.mkdtempSync(`${home}.staging-`);
  try {
    await run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${staging}`]);
    await run('unzip', ['-q', path.join(staging, `opensearch-${OPENSEARCH_VERSION}.zip`), '-d', staging]);
    await run('chmod', ['-R', 'a+rX', staging]); // the zip's config/ is 0660/0750: every node copies it
    try {
      fs.renameSync(path.join(staging, `opensearch-${OPENSEARCH_VERSION}`), home);
    } catch (err) {
      if (!complete()) throw err; // else another run was faster: use its copy
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return home;
}

export class OpenSearchNode {
  readonly url: string;
  readonly nodeDir: string;
  private readonly exited: Promise<void>;
  private exitStatus: string | null = null;
  private stopping?: Promise<void>;

  private constructor(nodeDir: string, readonly port: number, readonly transportPort: number, private readonly child: ChildProcess) {
    this.nodeDir = nodeDir;
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exitStatus = signal ? `signal ${signal}` : `code ${code}`; resolve(); });
      child.once('error', (err) => { this.exitStatus ??= `spawn error: ${err.message}`; resolve(); });
    });
  }

  /** The java process's id (for tests and diagnostics). */
  get pid(): number | undefined { return this.child.pid; }

  /** Whether the process is still running. */
  get running(): boolean { return this.exitStatus === null; }

  static async start(opts: OpenSearchOptions): Promise<OpenSearchNode> {
    const home = await ensureOpenSearchDistribution();
    const javaHome = findJavaHome();
    const user = asRoot() ? await ensureRunAsUser() : undefined;
    const nodeDir = path.resolve(opts.baseDir, opts.name);
    // A port found free may be grabbed before OpenSearch binds it: retry once with other ports.
    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort(opts.transportPort === undefined ? [] : [opts.transportPort]));
      const transportPort = opts.transportPort ?? (await freePort([port]));
      await prepareNodeDir(home, nodeDir, attempt === 1 && opts.fresh !== false);
      writeConfig(home, nodeDir, opts.name, port, transportPort, opts.cluster);
      if (user) handOver(nodeDir, user);
      const node = new OpenSearchNode(nodeDir, port, transportPort, launch(home, javaHome, nodeDir, opts.heapMb ?? 512, opts.jvmOptions ?? [], user));
      try {
        await node.waitUntilHealthy();
        return node;
      } catch (err) {
        await node.stop().catch(() => {});
        const log = node.logTail();
        const portClash = /BindException|Address already in use/i.test(log);
        if (opts.port !== undefined || opts.transportPort !== undefined || attempt >= 2 || !portClash) {
          throw new Error(`OpenSearch node '${opts.name}' (port ${port}, ${nodeDir}) did not start: ` +
            `${(err as Error).message}\n--- log tail ---\n${log}`);
        }
      }
    }
  }

  /** SIGTERM, then SIGKILL after 20 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exitStatus !== null) return;
      this.child.kill('SIGTERM');
      const timer = (ms: number) => new Promise<'timeout'>((r) => setTimeout(r, ms, 'timeout').unref());
      if ((await Promise.race([this.exited, timer(STOP_GRACE_MS)])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    })();
    return this.stopping;
  }

  /** SIGKILL, no shutdown at all (for crash tests); resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.exitStatus === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private async waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exitStatus !== null) throw new Error(`the process exited (${this.exitStatus}) before the cluster was healthy`);
      try {
        // answered by this node from the cluster state it knows: a cluster member is healthy once it has joined a cluster
        // with an elected cluster manager (cluster_manager_timeout: do not wait 30 s for one while the cluster forms)
        const res = await fetch(`${this.url}/_cluster/health?wait_for_status=yellow&timeout=1s&cluster_manager_timeout=1s`, { signal: AbortSignal.timeout(5000) });
        if (res.ok) return;
        last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`cluster not yellow/green after ${START_TIMEOUT_MS / 1000} s (last: ${last})`);
  }

  /** The last lines of the console capture (start-up errors, then the server log). */
  logTail(lines = 40): string {
    try {
      return fs.readFileSync(path.join(this.nodeDir, 'console.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no console log written)';
    }
  }
}

interface RunAs { uid: number; gid: number }

/** The system user OpenSearch runs as when we are root; created on first use. */
async function ensureRunAsUser(): Promise<RunAs> {
  const lookup = async (): Promise<RunAs | undefined> => {
    try {
      const [uid, gid] = await Promise.all(['-u', '-g'].map((f) => execFileAsync('id', [f, RUN_AS]).then((r) => Number(r.stdout.trim()))));
      return { uid, gid };
    } catch { return undefined; }
  };
  let user = await lookup();
  if (user) return user;
  // Two runs may race here (useradd then fails with "already exists" or a busy /etc/passwd lock): look again.
  for (let attempt = 1; !user && attempt <= 5; attempt++) {
    await execFileAsync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', RUN_AS]).catch(async (err) => {
      if (attempt === 5) throw new Error(`useradd ${RUN_AS} failed: ${(err as { stderr?: string }).stderr?.trim() || err}`);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    });
    user = await lookup();
  }
  return user!;
}

/**
 * JAVA_HOME for OpenSearch 2.x: Java 11 to 23 (2.x needs the SecurityManager, removed in JDK 24).
 * OPENSEARCH_JAVA_HOME if set, else the `java` on PATH if it fits, else the newest fitting JDK under /usr/lib/jvm.
 */
function findJavaHome(): string {
  if (process.env.OPENSEARCH_JAVA_HOME) return process.env.OPENSEARCH_JAVA_HOME;
  const major = (home: string) => {
    try {
      return Number(/^JAVA_VERSION="(\d+)/m.exec(fs.readFileSync(path.join(home, 'release'), 'utf8'))?.[1] ?? 0);
    } catch { return 0; }
  };
  const fits = (home: string) => major(home) >= 11 && major(home) <= 23;
  const onPath = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'java')).find((f) => fs.existsSync(f));
  if (onPath) {
    const home = path.dirname(path.dirname(fs.realpathSync(onPath)));
    if (fits(home)) return home;
  }
  const jvms = fs.existsSync('/usr/lib/jvm') ? fs.readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d)) : [];
  const best = jvms.filter(fits).sort((a, b) => major(b) - major(a))[0];
  if (!best) throw new Error('OpenSearch 2.x needs a JDK 11 to 23 (e.g. OpenJDK 17): none found; set OPENSEARCH_JAVA_HOME');
  return best;
}

async function prepareNodeDir(home: string, nodeDir: string, wipe: boolean): Promise<void> {
  await killLeftover(nodeDir);
  if (wipe) fs.rmSync(nodeDir, { recursive: true, force: true });
  for (const sub of ['data', 'logs', 'tmp']) fs.mkdirSync(path.join(nodeDir, sub), { recursive: true });
  const config = path.join(nodeDir, 'config');
  if (!fs.existsSync(config)) fs.cpSync(path.join(home, 'config'), config, { recursive: true });
  fs.rmSync(path.join(nodeDir, 'console.log'), { force: true });
}

/** Gives the node directory to the user OpenSearch runs as, and checks that user can reach it. */
function handOver(nodeDir: string, user: RunAs): void {
  fs.chownSync(nodeDir, user.uid, user.gid);
  for (const entry of fs.readdirSync(nodeDir, { withFileTypes: true, recursive: true })) {
    fs.lchownSync(path.join(entry.parentPath, entry.name), user.uid, user.gid);
  }
  // Fail clearly rather than with a Java stack trace when the user cannot traverse a parent directory.
  if (spawnSync('test', ['-w', path.join(nodeDir, 'data')], user).status !== 0) {
    throw new Error(`user ${RUN_AS} cannot reach ${nodeDir}: choose a baseDir other users can traverse (see clusterBaseDir)`);
  }
}

/** A node left running by an interrupted run in this directory (its pid file names it): kill it first. */
async function killLeftover(nodeDir: string): Promise<void> {
  let pid: number;
  try { pid = Number(fs.readFileSync(path.join(nodeDir, 'opensearch.pid'), 'utf8').trim()); } catch { return; }
  let cmdline = '';
  try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return; }
  if (!pid || !cmdline.includes(`-Dopensearch.path.conf=${path.join(nodeDir, 'config')}`)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const deadline = Date.now() + 10_000;
  while (fs.existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/** Our settings, written to the node's own opensearch.yml on every start (JSON strings and arrays are YAML). */
function writeConfig(home: string, nodeDir: string, name: string, port: number, transportPort: number, cluster?: ClusterMembership): void {
  const settings: Record<string, string | number | boolean | string[]> = {
    'cluster.name': cluster?.name ?? name,
    'node.name': name,
    ...(cluster
      ? { 'discovery.seed_hosts': cluster.seedHosts, 'cluster.initial_cluster_manager_nodes': cluster.initialManagers }
      : { 'discovery.type': 'single-node' }),
    'network.host': '127.0.0.1',
    'http.port': port,
    'transport.port': transportPort,
    'path.data': path.join(nodeDir, 'data'),
    'path.logs': path.join(nodeDir, 'logs'),
    'cluster.routing.allocation.disk.threshold_enabled': false,
  };
  const body = Object.entries(settings).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n');
  fs.writeFileSync(path.join(nodeDir, 'config', 'opensearch.yml'), `# written by OpenSearchNode on every start\n${body}\n`);
  // bin/opensearch runs from the (shared, read-only) home dir, where jvm.options would put gc.log,
  // hs_err files and heap dumps: point them into this node's directory instead.
  const jvmOptions = fs.readFileSync(path.join(home, 'config', 'jvm.options'), 'utf8')
    .replace(/(file=|ErrorFile=)logs\//g, `$1${path.join(nodeDir, 'logs')}/`)
    .replace(/HeapDumpPath=data$/m, `HeapDumpPath=${path.join(nodeDir, 'data')}`);
  fs.writeFileSync(path.join(nodeDir, 'config', 'jvm.options'), jvmOptions);
}

function launch(home: string, javaHome: string, nodeDir: string, heapMb: number, jvmOptions: string[], user: RunAs | undefined): ChildProcess {
  const out = fs.openSync(path.join(nodeDir, 'console.log'), 'a');
  try {
    // bin/opensearch ends with `exec java ...`, and setpriv (PR_SET_PDEATHSIG, set after the switch to `user`) execs it:
    // the child's pid is the server's, and the kernel kills the server when this process dies. (It cds to the home dir.)
    const server = [path.join(home, 'bin', 'opensearch'), '-p', path.join(nodeDir, 'opensearch.pid')];
    const [cmd, ...args] = fs.existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...server] : server;
    return spawn(cmd, args, {
      cwd: nodeDir,
      stdio: ['ignore', out, out],
      ...(user ?? {}),
      env: {
        ...process.env,
        HOME: nodeDir,
        JAVA_HOME: javaHome,
        OPENSEARCH_JAVA_HOME: javaHome,
        OPENSEARCH_PATH_CONF: path.join(nodeDir, 'config'),
        OPENSEARCH_TMPDIR: path.join(nodeDir, 'tmp'),
        // no pre-touch: a smaller RSS for a test node
        OPENSEARCH_JAVA_OPTS: [`-Xms${heapMb}m`, `-Xmx${heapMb}m`, '-XX:-AlwaysPreTouch', ...jvmOptions].join(' '),
      },
    });
  } finally {
    fs.closeSync(out);
  }
}

/** A folder every local user can traverse (as in postgres-cluster.ts), for what `opensearch` must reach. */
function sharedTempDir(): string {
  const dir = path.join(os.tmpdir(), 'pg-audit-gateway');
  fs.mkdirSync(dir, { recursive: true });
  if (fs.statSync(dir).uid === process.getuid?.()) fs.chmodSync(dir, 0o755);
  return dir;
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed (run \`bash scripts/bootstrap.sh\`?): ${(e.stdout || '') + (e.stderr || '') || e.message}`.trim());
  }
}


