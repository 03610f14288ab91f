/**
 * Preloaded into a measured child process (`node --require dist/bench/peak-rss.js ...`): when the
 * process exits, for whatever reason, it writes its peak resident set size (getrusage ru_maxrss, in
 * bytes) to the file named by PEAK_RSS_FILE. Nothing else changes in the process.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => { writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)); });
}
