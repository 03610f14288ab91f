/**
 * A throw-away single-node Apache Kafka broker for the integration tests (and local development), in the
 * style of opensearch-node.ts: KRaft mode, one process that is both broker and controller (no ZooKeeper),
 * run straight from the Maven Central jars of `org.apache.kafka:kafka_2.13` at the version pinned in
 * `kafka.version` at the repo root. dev/local/kafka/pom.xml lists the jars; Maven resolves them into ~/.m2
 * and writes the classpath to `.local/kafka/kafka-<version>.classpath` (scripts/bootstrap.sh does the same
 * ahead of time; here it happens on first use when the file is missing or older than the pom).
 *
 * Each broker lives in `<baseDir>/<name>/`:
 *   server.properties   its config (written on every start: the ports stay those of the first start)
 *   log4j2.properties   logging to stdout, which goes to server.log
 *   data/               log.dirs (topics and the KRaft metadata log; formatted once with a fresh cluster id)
 *   tmp/                the JVM's java.io.tmpdir
 *   server.log          the JVM's stdout/stderr, appended to across restarts (never the parent's stdout)
 *   kafka.pid           the java process's id (a later start kills a broker left running by a killed run)
 * The broker runs as the current user (Kafka does not mind root). It is started through
 * `setpriv --pdeathsig KILL`, so the kernel kills it when the process that started it dies, even by SIGKILL.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/base/paths';
import { freePort } from './free-port';

const execFileAsync = promisify(execFile);

/** The pinned Kafka version: the one line of `<repo>/kafka.version`. */
export const KAFKA_VERSION: string = fs.readFileSync(path.join(projectRoot(), 'kafka.version'), 'utf8').trim();
const POM = path.join(projectRoot(), 'dev', 'local', 'kafka', 'pom.xml');

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

export interface KafkaBrokerOptions {
  name: string;
  baseDir: string;
  /** The client (PLAINTEXT) port; a free one by default. The controller listener always takes a free one. */
  port?: number;
  /** JVM maximum heap in MiB, default 512. */
  heapMb?: number;
  /** Wipe the broker directory first (default true). With false, an already formatted data dir is reused. */
  fresh?: boolean;
  /** Extra server.properties entries (override the defaults below). */
  settings?: Record<string, string | number | boolean>;
}

/**
 * The broker's classpath (jar paths joined with ':'), resolved with Maven on first use. Throws with Maven's
 * own output when Maven or a jar is missing: a test that needs a broker then fails, it never skips.
 */
export async function ensureKafkaClasspath(): Promise<string> {
  const file = kafkaClasspathFile();
  const fresh = () => {
    try {
      if (fs.statSync(file).mtimeMs < fs.statSync(POM).mtimeMs) return undefined;
      const cp = fs.readFileSync(file, 'utf8').trim();
      const jars = cp.split(':');
      return jars.length > 1 && jars.every((j) => fs.existsSync(j)) ? cp : undefined;
    } catch { return undefined; }
  };
  const known = fresh();
  if (known) return known;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written beside the final place, then renamed: a concurrent run sees either the old file or a whole new one.
  const staging = `${file}.${process.pid}`;
  try {
    await run('mvn', ['-B', '-q', '-f', POM, `-Dkafka.version=${KAFKA_VERSION}`, 'dependency:build-classpath',
      '-Dmdep.includeScope=runtime', `-Dmdep.outputFile=${staging}`]);
    fs.renameSync(staging, file);
  } finally {
    fs.rmSync(staging, { force: true });
  }
  const cp = fresh();
  if (!cp) throw new Error(`Maven wrote no usable Kafka classpath to ${file} (run \`bash scripts/bootstrap.sh\`?)`);
  return cp;
}

/** Where the resolved classpath is kept (git-ignored; scripts/bootstrap.sh writes the same file). */
export function kafkaClasspathFile(): string {
  return path.join(projectRoot(), '.local', 'kafka', `kafka-${KAFKA_VERSION}.classpath`);
}

export class KafkaBroker {
  /** `127.0.0.1:<port>`, for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly dir: string;
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private exitStatus: string | null = 'not started';
  private stopping?: Promise<void>;

  private constructor(dir: string, readonly port: number, readonly controllerPort: number,
    private readonly javaHome: string, private readonly classpath: string, private readonly heapMb: number) {
    this.dir = dir;
    this.bootstrap = `127.0.0.1:${port}`;
  }

  /** The java process's id (for tests and diagnostics); undefined once it has exited. */
  get pid(): number | undefined { return this.exitStatus === null ? this.child?.pid : undefined; }

  /** Whether the broker process is running. */
  get running(): boolean { return this.exitStatus === null; }

  static async start(opts: KafkaBrokerOptions): Promise<KafkaBroker> {
    const [classpath, javaHome] = await Promise.all([ensureKafkaClasspath(), Promise.resolve(findJavaHome())]);
    const dir = path.resolve(opts.baseDir, opts.name);
    // A port found free may be grabbed before Kafka binds it: retry once with other ports.
    for (let attempt = 1; ; attempt++) {
      await killLeftover(dir);
      if (attempt === 1 && opts.fresh !== false) fs.rmSync(dir, { recursive: true, force: true });
      for (const sub of ['data', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
      const port = opts.port ?? (await freePort());
      const controllerPort = await freePort([port]);
      writeConfig(dir, port, controllerPort, opts.settings ?? {});
      const broker = new KafkaBroker(dir, port, controllerPort, javaHome, classpath, opts.heapMb ?? 512);
      try {
        await broker.format();
        await broker.launch();
        return broker;
      } catch (err) {
        await broker.stop().catch(() => {});
        const log = broker.logTail();
        const portClash = /BindException|Address already in use/i.test(log);
        if (opts.port !== undefined || attempt >= 2 || !portClash) {
          throw new Error(`Kafka broker '${opts.name}' (port ${port}, ${dir}) did not start: ` +
            `${(err as Error).message}\n--- log tail (${path.join(dir, 'server.log')}) ---\n${log}`);
        }
      }
    }
  }

  /** SIGTERM (a controlled shutdown), then SIGKILL after 15 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exitStatus !== null) return;
      this.child?.kill('SIGTERM');
      const timer = (ms: number) => new Promise<'timeout'>((r) => setTimeout(r, ms, 'timeout').unref());
      if ((await Promise.race([this.exited, timer(STOP_GRACE_MS)])) === 'timeout') {
        this.child?.kill('SIGKILL');
        await this.exited;
      }
    })();
    return this.stopping;
  }

  /** SIGKILL, no shutdown at all (for crash tests); resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.exitStatus === null) this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the broker (gracefully; it may already be stopped or killed) and starts it again: same data dir, same ports. */
  async restart(): Promise<void> {
    await this.stop();
    this.stopping = undefined;
    fs.appendFileSync(path.join(this.dir, 'server.log'), `\n--- restart at ${new Date().toISOString()} ---\n`);
    try {
      await this.launch();
    } catch (err) {
      await this.stop().catch(() => {});
      throw new Error(`Kafka broker ${this.bootstrap} (${this.dir}) did not restart: ${(err as Error).message}\n` +
        `--- log tail ---\n${this.logTail()}`);
    }
  }

  /** The last lines of server.log. */
  logTail(lines = 40): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server.log written)';
    }
  }

  /** Formats data/ with a fresh cluster id as a single-voter (standalone) quorum; skips an already formatted dir. */
  private async format(): Promise<void> {
    if (fs.existsSync(path.join(this.dir, 'data', 'meta.properties'))) return;
    // Kafka's Uuid.toString(): 22 url-safe base64 characters; like Uuid.randomUuid(), never one that starts with
    // '-' (the format tool would take it for an option).
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url'); while (clusterId.startsWith('-'));
    await run(path.join(this.javaHome, 'bin', 'java'), [...this.jvmArgs(128), 'kafka.tools.StorageTool', 'format',
      '--cluster-id', clusterId, '--config', path.join(this.dir, 'server.properties'), '--standalone']);
  }

  private async launch(): Promise<void> {
    const out = fs.openSync(path.join(this.dir, 'server.log'), 'a');
    try {
      const java = [path.join(this.javaHome, 'bin', 'java'), ...this.jvmArgs(this.heapMb), 'kafka.Kafka', path.join(this.dir, 'server.properties')];
      // setpriv sets PR_SET_PDEATHSIG and execs java (same pid): the broker dies with the process that started it.
      const [cmd, ...args] = fs.existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...java] : java;
      this.exitStatus = null;
      this.child = spawn(cmd, args, { cwd: this.dir, stdio: ['ignore', out, out], env: { ...process.env, JAVA_HOME: this.javaHome } });
    } finally {
      fs.closeSync(out);
    }
    const child = this.child!;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exitStatus = signal ? `signal ${signal}` : `code ${code}`; resolve(); });
      child.once('error', (err) => { this.exitStatus ??= `spawn error: ${err.message}`; resolve(); });
    });
    if (child.pid) fs.writeFileSync(path.join(this.dir, 'kafka.pid'), `${child.pid}\n`);
    await this.waitUntilReady();
  }

  private jvmArgs(heapMb: number): string[] {
    return [
      `-Xms${Math.min(heapMb, 128)}m`, `-Xmx${heapMb}m`,
      '-XX:+UseSerialGC',          // one small heap, two cores: the serial collector keeps the RSS lowest
      '-XX:TieredStopAtLevel=1',   // C1 only: a faster start, plenty for a test broker
      '-Xss512k',
      '-Djava.awt.headless=true',
      `-Djava.io.tmpdir=${path.join(this.dir, 'tmp')}`,   // not data/: Kafka takes every folder there for a partition
      `-XX:ErrorFile=${path.join(this.dir, 'hs_err_pid%p.log')}`,
      `-Dlog4j2.configurationFile=${path.join(this.dir, 'log4j2.properties')}`,
      '-cp', this.classpath,
    ];
  }

  /** Until the port accepts connections and a Metadata request names this broker (it is then unfenced). */
  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exitStatus !== null) throw new Error(`the process exited (${this.exitStatus}) before the broker was ready`);
      try {
        const brokers = await metadataBrokers(this.port, 5_000);
        if (brokers.some((b) => b.port === this.port)) return;
        last = `metadata lists brokers ${JSON.stringify(brokers)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`broker not ready after ${START_TIMEOUT_MS / 1000} s (last: ${last})`);
  }
}

/**
 * One Metadata request (v4, for no topics) on a new connection, answered with the brokers the cluster lists.
 * Plain protocol bytes, no client library: v4 is the oldest version Kafka 4 still serves (KIP-896) and is
 * neither "flexible" nor tagged, so it stays a few lines.
 */
export function metadataBrokers(port: number, timeoutMs: number): Promise<{ nodeId: number; host: string; port: number }[]> {
  const clientId = Buffer.from('pg-audit-gateway-dev');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o);                 // api_key: Metadata
  o = body.writeInt16BE(4, o);                 // api_version
  o = body.writeInt32BE(1, o);                 // correlation_id
  o = body.writeInt16BE(clientId.length, o); o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o);                 // topics: none (an empty array; null would mean all)
  body.writeInt8(0, o);                        // allow_auto_topic_creation: false
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const fail = (err: Error) => { socket.destroy(); reject(err); };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no Metadata answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('close', () => reject(new Error('connection closed before a whole Metadata answer')));
    socket.once('connect', () => socket.write(Buffer.concat([size, body])));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.destroy();
      try {
        let p = 4;
        if (received.readInt32BE(p) !== 1) throw new Error('Metadata answer with the wrong correlation id');
        p += 4 + 4;                            // correlation_id, throttle_time_ms
        const brokers: { nodeId: number; host: string; port: number }[] = [];
        for (let n = received.readInt32BE(p), i = (p += 4, 0); i < n; i++) {
          const nodeId = received.readInt32BE(p); p += 4;
          const hostLen = received.readInt16BE(p); p += 2;
          const host = received.toString('utf8', p, p + hostLen); p += hostLen;
          const brokerPort = received.readInt32BE(p); p += 4;
          const rackLen = received.readInt16BE(p); p += 2 + Math.max(rackLen, 0);
          brokers.push({ nodeId, host, port: brokerPort });
        }
        resolve(brokers);
      } catch (err) {
        reject(new Error(`unreadable Metadata answer: ${(err as Error).message}`));
      }
    });
  });
}

/**
 * JAVA_HOME for Kafka 4.x brokers (Java 17 or newer): KAFKA_JAVA_HOME if set, else the `java` on PATH if it
 * fits, else the newest fitting JDK under /usr/lib/jvm.
 */
function findJavaHome(): string {
  if (process.env.KAFKA_JAVA_HOME) return process.env.KAFKA_JAVA_HOME;
  const major = (home: string) => {
    try {
      return Number(/^JAVA_VERSION="(\d+)/m.exec(fs.readFileSync(path.join(home, 'release'), 'utf8'))?.[1] ?? 0);
    } catch { return 0; }
  };
  const onPath = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'java')).find((f) => fs.existsSync(f));
  if (onPath) {
    const home = path.dirname(path.dirname(fs.realpathSync(onPath)));
    if (major(home) >= 17) return home;
  }
  const jvms = fs.existsSync('/usr/lib/jvm') ? fs.readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d)) : [];
  const best = jvms.filter((h) => major(h) >= 17).sort((a, b) => major(b) - major(a))[0];
  if (!best) throw new Error('a Kafka 4 broker needs a JDK 17 or newer: none found on PATH or under /usr/lib/jvm; set KAFKA_JAVA_HOME');
  return best;
}

/** server.properties and log4j2.properties for a combined broker + controller on 127.0.0.1. */
function writeConfig(dir: string, port: number, controllerPort: number, extra: Record<string, string | number | boolean>): void {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'listeners': `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    'log.dirs': path.join(dir, 'data'),
    // One broker: every internal topic with one replica.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'num.partitions': 1,
    // Tests want quick group changes: no initial rebalance delay, session timeouts down to 1 s allowed.
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    // After a SIGKILL the restarted broker may register again only once the controller (the same process)
    // lets its old registration lapse: 9 s by default, 2 s here.
    'broker.session.timeout.ms': 2000,
    'broker.heartbeat.interval.ms': 500,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 2,
    ...extra,
  };
  const lines = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(path.join(dir, 'server.properties'), `# written by dev/local/kafka-broker.ts\n${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'log4j2.properties'), [
    'appender.stdout.type = Console',
    'appender.stdout.name = STDOUT',
    'appender.stdout.layout.type = PatternLayout',
    'appender.stdout.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.stdout.ref = STDOUT',
    // The full config dumps (hundreds of lines per client and server) bury what matters.
    'logger.config.name = org.apache.kafka.common.config.AbstractConfig',
    'logger.config.level = WARN',
    '',
  ].join('\n'));
}

/** A broker left running by an interrupted run in this directory (its pid file names it): kill it first. */
async function killLeftover(dir: string): Promise<void> {
  let pid: number;
  try { pid = Number(fs.readFileSync(path.join(dir, 'kafka.pid'), 'utf8').trim()); } catch { return; }
  let cmdline = '';
  try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return; }
  if (!pid || !cmdline.includes(path.join(dir, 'server.properties'))) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  const deadline = Date.now() + 10_000;
  while (fs.existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

async function run(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(cmd)} ${args.slice(-6).join(' ')} failed (run \`bash scripts/bootstrap.sh\`?): ` +
      `${(e.stdout || '') + (e.stderr || '') || e.message}`.trim());
  }
}
