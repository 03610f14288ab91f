/**
 * What the suites that run ingester processes share: the built CLI started as a long-running child (its output to a
 * log file, for a failing test's story), polling until a condition holds, and a service's event count in OpenSearch.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { CLI, ROOT } from './cli';
import { env } from './harness';
import { openSearch } from './opensearch';

/** `node dist/src/cli/main.js ...args` with the test environment, writing stdout and stderr to `logFile`. */
export function startCli(args: string[], logFile: string): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = fs.createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

/** Polls `check` every 250 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The audit events of a service in OpenSearch now (the indices refreshed first). */
export async function eventCount(serviceId: string): Promise<number> {
  await openSearch(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_refresh');
  return (await openSearch<{ count: number }>(env('OPENSEARCH_URL'), 'POST', '/pgaudit-events-*/_count', { query: { term: { serviceId } } })).count;
}
