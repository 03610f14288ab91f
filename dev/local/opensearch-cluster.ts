/**
 * A throw-away multi-node OpenSearch cluster (three nodes by default) on this machine, for tests of what
 * happens when a node goes away: every member is an OpenSearchNode (opensearch-node.ts) of the same unpacked
 * distribution, started with `cluster` membership instead of `discovery.type: single-node`. Nothing of the
 * node logic is repeated here: this file chooses ports, names and directories, starts the members together
 * (none is healthy before a quorum has formed), and waits for the cluster's health.
 *
 * Layout: `<baseDir>/<name>/<name>-<i>/` is member i's node directory (config/, data/, logs/, tmp/,
 * console.log, opensearch.pid: see opensearch-node.ts). Every member is master-eligible and a data node
 * (OpenSearch's default roles); `cluster.initial_cluster_manager_nodes` names all of them, so any two form
 * a quorum. Ports: an HTTP and a transport port per member, free ones chosen at the first start and kept for
 * the cluster's life (a member started again comes back on the same ones, which the others' seed hosts name).
 * Each JVM dies with the process that started it (setpriv --pdeathsig KILL, in opensearch-node.ts).
 */
import path from 'node:path';
import { freePort } from './free-port';
import { OpenSearchNode } from './opensearch-node';

export interface OpenSearchClusterOptions {
  /** cluster.name; also the folder under baseDir and the prefix of the node names (`<name>-1`, ...). */
  name: string;
  baseDir: string;
  /** Members, default 3. */
  nodes?: number;
  /** Each member's JVM heap (-Xms = -Xmx), default 512. */
  heapMb?: number;
  /**
   * More JVM options for every member; default C1 only (`-XX:TieredStopAtLevel=1`, as kafka-broker.ts): three JVMs
   * on two cores spent most of their CPU in C2 compilations (start and bulk indexing 2-4x slower; dev/local/README.md).
   */
  jvmOptions?: string[];
  /** Wipe the cluster's directory first (default true). */
  fresh?: boolean;
}

export type ClusterStatus = 'green' | 'yellow' | 'red';

export interface ClusterHealth { status: ClusterStatus; number_of_nodes: number; unassigned_shards: number; active_shards: number }

const START_TIMEOUT_MS = 150_000;
const C1_ONLY = ['-XX:TieredStopAtLevel=1'];

/** One member: its ports stay fixed; stop(), kill() and start() again as often as a test needs. */
export class ClusterNode {
  readonly url: string;
  private node?: OpenSearchNode;

  constructor(readonly name: string, private readonly clusterDir: string, readonly port: number, readonly transportPort: number,
    private readonly options: () => Parameters<typeof OpenSearchNode.start>[0]) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Whether the member's process is running. */
  get running(): boolean { return this.node?.running ?? false; }
  /** The java process's id while it runs. */
  get pid(): number | undefined { return this.running ? this.node!.pid : undefined; }
  get nodeDir(): string { return path.join(this.clusterDir, this.name); }

  /**
   * Starts the member (again: same data dir and ports, `fresh` only at the cluster's first start) and resolves once
   * it answers health from a cluster that has a cluster manager, i.e. once it has joined. Not yet green: its shard
   * copies recover after that (OpenSearchCluster.waitForStatus).
   */
  async start(fresh = false): Promise<void> {
    if (this.running) throw new Error(`OpenSearch node ${this.name} is already running`);
    this.node = await OpenSearchNode.start({ ...this.options(), fresh });
  }

  /** SIGTERM (a clean shutdown: the node leaves the cluster), SIGKILL after 20 s. Resolves once the process is gone. */
  async stop(): Promise<void> { await this.node?.stop(); }

  /** SIGKILL: no shutdown at all; the others notice the closed connections. Resolves once the process is gone. */
  async kill(): Promise<void> { await this.node?.kill(); }

  logTail(lines = 40): string { return this.node?.logTail(lines) ?? '(never started)'; }
}

export class OpenSearchCluster {
  /** The first member's URL. */
  readonly url: string;
  /** Every member's URL, in member order. */
  readonly urls: string[];

  private constructor(readonly name: string, readonly dir: string, readonly nodes: ClusterNode[]) {
    this.url = nodes[0]!.url;
    this.urls = nodes.map((n) => n.url);
  }

  /** Starts every member at once and waits until all have joined and the cluster is green. Throws, with each member's log tail, if not. */
  static async start(opts: OpenSearchClusterOptions): Promise<OpenSearchCluster> {
    const count = opts.nodes ?? 3;
    if (!Number.isInteger(count) || count < 2) throw new Error('an OpenSearch cluster needs at least two nodes (one: OpenSearchNode)');
    const dir = path.resolve(opts.baseDir, opts.name);
    // A port found free may be taken before a JVM binds it: then start once more with other ports.
    for (let attempt = 1; ; attempt++) {
      const ports: number[] = [];
      for (let i = 0; i < 2 * count; i++) ports.push(await freePort(ports));
      const names = Array.from({ length: count }, (_, i) => `${opts.name}-${i + 1}`);
      const seedHosts = names.map((_, i) => `127.0.0.1:${ports[2 * i + 1]}`);
      const nodes = names.map((name, i) => new ClusterNode(name, dir, ports[2 * i]!, ports[2 * i + 1]!, () => ({
        name, baseDir: dir, port: ports[2 * i]!, transportPort: ports[2 * i + 1]!, heapMb: opts.heapMb ?? 512, jvmOptions: opts.jvmOptions ?? C1_ONLY,
        cluster: { name: opts.name, seedHosts, initialManagers: names },
      })));
      const cluster = new OpenSearchCluster(opts.name, dir, nodes);
      const fresh = opts.fresh !== false || attempt > 1;
      const started = await Promise.allSettled(nodes.map((n) => n.start(fresh)));
      const failures = started.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
      if (failures.length === 0) {
        try {
          await cluster.waitForStatus('green', { nodes: count, timeoutMs: START_TIMEOUT_MS });
          return cluster;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
      await cluster.stop();
      const portClash = failures.some((f) => /BindException|Address already in use/i.test(f));
      if (attempt >= 2 || !portClash) {
        throw new Error(`OpenSearch cluster '${opts.name}' (${count} nodes, ${dir}) did not start:\n\n${failures.join('\n\n')}`);
      }
    }
  }

  /** The cluster's health as a running member sees it (the first one running, in member order). */
  async health(): Promise<ClusterHealth> {
    const member = this.nodes.find((n) => n.running);
    if (!member) throw new Error(`no member of OpenSearch cluster '${this.name}' is running`);
    const res = await fetch(`${member.url}/_cluster/health?cluster_manager_timeout=5s`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    // 503 (no cluster manager elected) still carries a health body; anything else that is not JSON is an error
    try { return JSON.parse(body) as ClusterHealth; } catch { throw new Error(`health of ${member.url}: HTTP ${res.status} ${body.slice(0, 200)}`); }
  }

  /**
   * Waits until the cluster is at least `status` (green, or yellow: green counts) with exactly `nodes` members
   * (default: those running). Throws after `timeoutMs` (default 120 s) with the last health seen.
   */
  async waitForStatus(status: 'green' | 'yellow', opts: { nodes?: number; timeoutMs?: number } = {}): Promise<ClusterHealth> {
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    let last = 'no answer yet';
    for (;;) {
      const nodes = opts.nodes ?? this.nodes.filter((n) => n.running).length;
      try {
        const h = await this.health();
        if (h.number_of_nodes === nodes && (h.status === 'green' || (status === 'yellow' && h.status === 'yellow'))) return h;
        last = JSON.stringify({ status: h.status, nodes: h.number_of_nodes, unassigned: h.unassigned_shards });
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(`OpenSearch cluster '${this.name}' not ${status} with ${nodes} nodes in time (last: ${last})\n` +
          this.nodes.map((n) => `--- ${n.name} (${n.running ? 'running' : 'stopped'}) log tail ---\n${n.logTail(15)}`).join('\n'));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops every member (SIGTERM, SIGKILL after 20 s), all at once. Idempotent. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
  }
}
