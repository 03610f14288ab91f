/**
 * Debian's rsyslog with omelasticsearch, for the benchmark's raw-shipper peer (bench/rsyslog-peer.ts, issue 15),
 * without installing anything on the system and without ever touching a system rsyslog.
 *
 * The packages (`rsyslog`, `rsyslog-elasticsearch` and the two libraries rsyslogd needs that a Debian 12 machine of
 * this project's kind lacks: `libestr0`, `libfastjson4`) are fetched with `apt-get download` (the machine's own apt
 * sources, no root needed) into `.local/rsyslog/debs/` (scripts/bootstrap.sh step 4c does the same, so a fresh
 * machine has them before any bench), then unpacked with `dpkg -x` into `.local/rsyslog/root/` on first use (staged
 * beside it and renamed: a concurrent run sees nothing or a whole tree). Nothing is installed: the unpacked
 * `usr/sbin/rsyslogd` runs with `LD_LIBRARY_PATH` on the unpacked libraries and `-M` on the unpacked modules; the
 * caller gives it its own config (`-f`), pid file (`-i`) and work directory: never /etc/rsyslog.conf, /run or
 * /var/spool/rsyslog.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/base/paths';

const execFileAsync = promisify(execFile);

/** What is downloaded: the daemon, its Elasticsearch output, and the libraries Debian 12's base system lacks. */
export const RSYSLOG_PACKAGES = ['rsyslog', 'rsyslog-elasticsearch', 'libestr0', 'libfastjson4'] as const;

export interface RsyslogInstall {
  /** The unpacked tree (a `dpkg -x` of every package). */
  root: string;
  rsyslogd: string;
  /** Loadable modules (imfile.so, omelasticsearch.so, impstats.so, ...): rsyslogd's `-M`. */
  moduleDir: string;
  /** The unpacked shared libraries: the `LD_LIBRARY_PATH` rsyslogd runs with. */
  libDir: string;
  /** e.g. 8.2302.0-1+deb12u2 (from the rsyslog .deb). */
  version: string;
}

export const rsyslogDir = (): string => path.join(projectRoot(), '.local', 'rsyslog');

function layout(root: string, version: string): RsyslogInstall {
  const libDir = path.join(root, 'usr', 'lib', 'x86_64-linux-gnu');
  return { root, rsyslogd: path.join(root, 'usr', 'sbin', 'rsyslogd'), moduleDir: path.join(libDir, 'rsyslog'), libDir, version };
}

async function debsIn(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (!fs.existsSync(dir)) return found;
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.deb')).sort()) {
    const pkg = f.slice(0, f.indexOf('_'));
    found.set(pkg, path.join(dir, f));   // sorted: a newer version of a package (if ever two) wins
  }
  return found;
}

/** The .deb files, downloaded with `apt-get download` when one is missing. */
export async function ensureRsyslogDebs(): Promise<Map<string, string>> {
  const dir = path.join(rsyslogDir(), 'debs');
  let debs = await debsIn(dir);
  const missing = RSYSLOG_PACKAGES.filter((p) => !debs.has(p));
  if (missing.length === 0) return debs;
  fs.mkdirSync(dir, { recursive: true });
  try {
    await execFileAsync('apt-get', ['download', ...missing], { cwd: dir, maxBuffer: 1 << 22 });
  } catch (err) {
    throw new Error(`rsyslog for the bench: "apt-get download ${missing.join(' ')}" failed in ${dir} (run scripts/bootstrap.sh, `
      + `or as root "apt-get update" first): ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
  debs = await debsIn(dir);
  const still = RSYSLOG_PACKAGES.filter((p) => !debs.has(p));
  if (still.length > 0) throw new Error(`rsyslog for the bench: apt-get download left ${still.join(', ')} missing in ${dir}`);
  return debs;
}

/** The unpacked rsyslog (downloading and unpacking it on first use), checked to start (`rsyslogd -v`). */
export async function ensureRsyslog(): Promise<RsyslogInstall> {
  const root = path.join(rsyslogDir(), 'root');
  const versionFile = path.join(root, 'VERSION');
  if (!fs.existsSync(versionFile)) {
    const debs = await ensureRsyslogDebs();
    const staging = fs.mkdtempSync(`${root}.staging-`);
    try {
      for (const p of RSYSLOG_PACKAGES) await execFileAsync('dpkg', ['-x', debs.get(p)!, staging]);
      const { stdout } = await execFileAsync('dpkg-deb', ['-f', debs.get('rsyslog')!, 'Version']);
      fs.writeFileSync(path.join(staging, 'VERSION'), `${stdout.trim()}\n`);
      try { fs.renameSync(staging, root); } catch (err) { if (!fs.existsSync(versionFile)) throw err; }   // else another run was faster
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  const install = layout(root, fs.readFileSync(versionFile, 'utf8').trim());
  // every library the daemon and the three modules the bench loads need must resolve (libcurl4 for omelasticsearch comes with the system)
  for (const bin of [install.rsyslogd, ...['imfile', 'omelasticsearch', 'impstats'].map((m) => path.join(install.moduleDir, `${m}.so`))]) {
    const { stdout } = await execFileAsync('ldd', [bin], { env: { ...process.env, LD_LIBRARY_PATH: install.libDir } });
    const missing = stdout.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim().split(' ')[0]);
    if (missing.length > 0) throw new Error(`rsyslog for the bench: ${path.basename(bin)} needs ${missing.join(', ')}, not installed (apt-get install the Debian packages that ship them)`);
  }
  return install;
}

/** rsyslogd's environment: the unpacked libraries first. */
export function rsyslogEnv(install: RsyslogInstall): NodeJS.ProcessEnv {
  return { ...process.env, LD_LIBRARY_PATH: [install.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
}

/** The arguments that keep rsyslogd to itself: foreground, its own config, pid file and modules. */
export function rsyslogdArgs(install: RsyslogInstall, configFile: string, pidFile: string): string[] {
  return ['-n', '-f', configFile, '-i', pidFile, '-M', install.moduleDir];
}
