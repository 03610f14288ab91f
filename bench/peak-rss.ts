/**
 * Preloaded into a measured child process (`node --require dist/bench/peak-rss.js ...`): when the
 * process exits, for whatever reason, it writes its peak resident set size in bytes to the file named by
 * PEAK_RSS_FILE. Nothing else changes in the process.
 *
 * On Linux the figure is VmHWM from /proc/self/status: the peak of this process image only.
 * getrusage's ru_maxrss is NOT that: the kernel carries the high-water mark of the forked copy of the
 * parent into it across exec, so a child of a 160 MB bench process "peaked" at 160 MB whatever it did
 * (measured: the same 100k-event ingest read 123-127 MB from a small parent, 163 MB from the bench).
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS * 1024;
}

const file = process.env.PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => { writeFileSync(file, String(peakRssBytes())); });
}
