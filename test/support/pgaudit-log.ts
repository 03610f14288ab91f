/**
 * The pgaudit test server's own log (jsonlog files in TEST_PG15_PGAUDIT_LOG_DIR): what pgaudit really logged,
 * to prove that a scope audits exactly what it says. A statement carries a unique marker; absence is proved
 * behind a fence: a statement run after the others that must be logged, so that once it shows, every earlier
 * line has been written by the logging collector.
 */
import fs from 'node:fs';
import path from 'node:path';
import { env } from './env';

export interface AuditLine { user: string; dbname: string; message: string }

/** Every AUDIT line of the log whose message contains `marker`. */
export function auditLines(marker: string): AuditLine[] {
  const dir = env('TEST_PG15_PGAUDIT_LOG_DIR');
  const out: AuditLine[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line.includes(marker)) continue;
      const record = JSON.parse(line) as AuditLine;
      if (record.message.startsWith('AUDIT: ') && record.message.includes(marker)) out.push(record);
    }
  }
  return out;
}

/** Waits until the log has at least one AUDIT line with `marker` (the fence), then returns them. */
export async function waitForAudit(marker: string, timeoutMs = 10000): Promise<AuditLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = auditLines(marker);
    if (lines.length > 0) return lines;
    if (Date.now() > deadline) throw new Error(`no AUDIT line with ${marker} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until a csvlog file of `dir` holds `fence` (as written, or with its quotes doubled as csvlog writes them):
 * the logging collector writes asynchronously, so the fence there means every line logged before it is there too.
 */
export async function waitForCsvlog(fence: string, dir = env('TEST_PG15_PGAUDIT_LOG_DIR'), timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const forms = [fence, fence.replace(/"/g, '""')];
  for (;;) {
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.csv'))) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (forms.some((x) => text.includes(x))) return;
    }
    if (Date.now() > deadline) throw new Error(`the csvlog never showed ${fence} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
