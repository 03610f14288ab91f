/**
 * Two (or more) builds of the gateway on the same store, measured in turns in one run: the query scenarios of
 * queries.ts (100k events by default), each through OpenSearch directly, the bare proxy and every build,
 * one second each in turn (load.ts, measureInterleaved). What a change to the query path does, measured
 * before -> after in the same conditions on a shared machine, where two runs minutes apart differ by more
 * than most changes. A build is a folder holding package.json, dist/ (`npm run build:tools`) and prisma/:
 * e.g. a worktree of the commit before, or a copy of one.
 *
 *   node dist/bench/gateway-ab.js before=/path/to/old/build after=.   [--seconds 5] [--connections 1,16] [--events 100k] [--only REGEX]
 *
 * The scenarios' requests are built by this checkout's code (the direct and proxied ones included).
 * BENCH_GATEWAY_NODE_ARGS applies to every build (e.g. --cpu-prof).
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../dev/local/free-port';
import { BenchEnvironment, cpuSecondsOf, PEAK_RSS } from './environment';
import { runIngester, settleMerges, writeChunk } from './ingest';
import { measureInterleaved } from './load';
import { scenarios } from './queries';

interface Build { label: string; root: string }

async function startBuild(env: BenchEnvironment, b: Build): Promise<{ label: string; child: ChildProcess; url: string }> {
  const port = await freePort();
  const log = openSync(path.join(env.dir, `${b.label}.log`), 'a');
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, '--require', PEAK_RSS, path.join(path.resolve(b.root), 'dist', 'src', 'cli', 'main.js'), 'serve'], {
    env: { ...process.env, ...env.gatewayEnv, PORT: String(port), PEAK_RSS_FILE: path.join(env.dir, `${b.label}.peak-rss`), LOG_LEVEL: 'info', NODE_ENV: 'production' },
    stdio: ['ignore', log, log] });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${b.label} exited with ${child.exitCode}; see ${env.dir}/${b.label}.log`);
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${b.label} did not become ready in 90 s`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { label: b.label, child, url: `http://127.0.0.1:${port}/graphql` };
}

async function main(argv: readonly string[]): Promise<void> {
  const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const builds: Build[] = argv.filter((a) => /^[\w-]+=/.test(a)).map((a) => ({ label: a.slice(0, a.indexOf('=')), root: a.slice(a.indexOf('=') + 1) }));
  if (builds.length === 0) throw new Error('name at least one build: label=path');
  const seconds = Number(value('seconds') ?? 5);
  const connections = (value('connections') ?? '1,16').split(',').map(Number);
  const events = Math.round(Number((value('events') ?? '100k').replace(/k$/i, 'e3').replace(/m$/i, 'e6')));
  const only = value('only') ? new RegExp(value('only')!) : null;

  const env = await BenchEnvironment.start({ opensearchHeapMb: 2048 });
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'pga-ab-log-'));
  const started: { label: string; child: ChildProcess; url: string }[] = [];
  try {
    await writeChunk(logDir, 0, events, 250, null);
    await settleMerges(env);
    const run = await runIngester(env, logDir);
    if (run.events !== events) throw new Error(`ingested ${run.events} events of ${events}`);
    await settleMerges(env);
    const list = (await scenarios(env, events)).filter((s) => !only || only.test(s.name));
    await env.stopGateway();   // scenarios() checked the answers through this checkout's gateway; the builds are measured
    for (const b of builds) started.push(await startBuild(env, b));
    await env.bareProxyUrl();
    console.log(`${new Date().toISOString()}, ${events} events, ${seconds} s per figure, load average at start ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log(`| query | connections | OpenSearch p50 | bare proxy adds | ${builds.map((b) => `${b.label}: adds (x proxy), CPU/request`).join(' | ')} | proxy CPU/request | load |`);
    console.log(`|---|---|---|---|${builds.map(() => '---|').join('')}---|---|`);
    for (const sc of list) {
      for (const c of connections) {
        const r = await measureInterleaved([{ req: sc.direct }, { req: sc.proxied, cpuSeconds: async () => env.proxyCpuSeconds() },
          ...started.map((g) => ({ req: { ...sc.gateway, url: g.url }, cpuSeconds: async () => cpuSecondsOf(g.child.pid!) }))], c, seconds, 500);
        const direct = r[0]!.p50;
        const proxyAdds = r[1]!.p50 - direct;
        const cells = started.map((_, i) => {
          const g = r[2 + i]!;
          const adds = g.p50 - direct;
          return `+${adds.toFixed(2)} ms (${proxyAdds > 0 ? `${(adds / proxyAdds).toFixed(1)}x` : 'proxy faster than direct'}), ${g.cpuMsPerRequest!.toFixed(2)} ms`;
        });
        console.log(`| ${sc.name} | ${c} | ${direct.toFixed(2)} ms | ${proxyAdds.toFixed(2)} ms | ${cells.join(' | ')} | ${r[1]!.cpuMsPerRequest!.toFixed(2)} ms | ${os.loadavg()[0]!.toFixed(1)} |`);
      }
    }
  } finally {
    for (const g of started) {
      if (g.child.exitCode === null) { const exited = new Promise((r) => g.child.once('exit', r)); g.child.kill('SIGTERM'); await exited; }
    }
    rmSync(logDir, { recursive: true, force: true });
    await env.stop();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => { console.error(err); process.exit(1); });
