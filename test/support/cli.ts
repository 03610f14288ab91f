/**
 * The built command line, as the suites that spawn it use it. It is built once per jest run, by the
 * integration globalSetup (ensureCliBuilt below), never by a suite: a suite only runs CLI.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const ROOT = path.resolve(__dirname, '../..');
/** The CLI executable of the product build (tsconfig.build.json -> dist/src). */
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** The newest mtime of what the product build reads: src/**\/*.ts (the generated Prisma client included) and its tsconfigs. */
function newestSource(): number {
  let newest = 0;
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, fs.statSync(path.join(ROOT, f)).mtimeMs);
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(ROOT, 'src'));
  return newest;
}

/**
 * Makes dist/src/cli/main.js current, once per jest run (called by globalSetup).
 *
 * It builds only when main.js is missing or older than a source: tsc emits every file of the project
 * in one go, so a main.js newer than every source came from a build of exactly these sources.
 * scripts/test.sh builds the tools (tsconfig.tools.json, which includes src -> dist/src) before jest
 * starts, so there this finds main.js fresh and builds nothing: the two builds never overlap or write
 * the same files twice. A bare `npx jest` after an edit gets the one build it needs (~20 s).
 * Returns whether it built.
 */
export async function ensureCliBuilt(): Promise<boolean> {
  if (fs.existsSync(CLI) && fs.statSync(CLI).mtimeMs > newestSource()) return false;
  const started = Date.now();
  try {
    await promisify(execFile)('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (err) {
    // tsc emits even when some file has a type error (that is `tsc --noEmit`'s job to report);
    // what the tests need is a fresh main.js.
    const built = fs.existsSync(CLI) && fs.statSync(CLI).mtimeMs >= started - 1000;
    if (!built) throw new Error(`npx tsc -p tsconfig.build.json failed: ${String((err as { stdout?: string }).stdout ?? err)}`);
  }
  return true;
}

export interface Run { status: number | null; stdout: string; stderr: string }

/** Runs the built CLI with `args` (DATABASE_URL: the test gateway database unless `env` says otherwise). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = { ...process.env }): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `args --json`, which must succeed with exactly one JSON object on stdout and nothing on stderr; returns it. */
export function cliJson(args: string[], env?: NodeJS.ProcessEnv): Record<string, any> {
  const r = runCli([...args, '--json'], env);
  if (r.status !== 0 || r.stderr !== '') throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`${args.join(' ')} printed ${lines.length} lines`);
  return JSON.parse(lines[0]!);
}

/** Runs a command that must fail: non-zero exit, nothing on stdout, one `pg-audit-gateway: ...` line on stderr. Returns that line. */
export function cliFails(args: string[], env?: NodeJS.ProcessEnv): string {
  const r = runCli(args, env);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (r.status === 0 || r.status === null || r.stdout !== '' || lines.length !== 1 || !/^pg-audit-gateway: /.test(lines[0]!)) {
    throw new Error(`${args.join(' ')} was expected to fail with one line: exit ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
  }
  return lines[0]!;
}
