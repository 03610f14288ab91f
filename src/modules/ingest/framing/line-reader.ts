/**
 * Framing: LF-terminated lines with the offset each ends at, for the line-oriented formats (jsonlog,
 * stderr, managed NDJSON; see formats/line-splitter.ts). A CR before the LF is kept as part of the line.
 * A line longer than the limit is not buffered: it is skipped to its newline and reported as one
 * `overlong` entry with an excerpt of its start.
 */
import { ByteQueue, toBytes } from './byte-queue';

/**
 * How much of an overlong line is kept: enough for a stderr prefix and severity (log-line-prefix.ts scans
 * 4096 characters), so that an overlong line that starts a record is still seen to start one.
 */
export const OVERLONG_HEAD_BYTES = 4096;

/** `excerpt` of an overlong line: its first OVERLONG_HEAD_BYTES (decoded; the last character may be cut). */
export type Line = { kind: 'line'; text: string; endOffset: number } | { kind: 'overlong'; excerpt: string; endOffset: number };

/** LF-terminated lines with offsets; a line over `max` bytes becomes one `overlong` entry. */
export class LineReader {
  private readonly q = new ByteQueue();
  private offset: number;
  private scanPos = 0;
  private skipping: { excerpt: string } | null = null;

  constructor(startOffset: number, private readonly max: number) { this.offset = startOffset; }

  push(chunk: string | Uint8Array): void { this.q.append(toBytes(chunk)); }

  lines(final: boolean): Line[] {
    const out: Line[] = [];
    for (;;) {
      const view = this.q.view();
      const len = view.length;
      const nl = view.indexOf(0x0a, this.scanPos);
      if (this.skipping) {
        const end = nl === -1 ? len : nl + 1;
        this.q.drop(end);
        this.offset += end;
        this.scanPos = 0;
        if (nl === -1 && !final) return out;
        out.push({ kind: 'overlong', excerpt: this.skipping.excerpt, endOffset: this.offset });
        this.skipping = null;
        if (nl === -1) return out;
        continue;
      }
      if (nl === -1 ? len > this.max : nl > this.max) {
        this.skipping = { excerpt: this.q.text(0, Math.min(OVERLONG_HEAD_BYTES, this.max + 1)) };
        this.scanPos = this.max; // keep scanning for the newline from here
        continue;
      }
      if (nl === -1) {
        this.scanPos = len;
        if (final && len > 0) {
          out.push({ kind: 'line', text: this.q.text(0, len), endOffset: this.offset + len });
          this.q.drop(len);
          this.offset += len;
          this.scanPos = 0;
        }
        return out;
      }
      // A CR before the newline is kept: in stderr format it belongs to the message (a statement with
      // CRLF inside is written as CR LF TAB), and JSON.parse ignores it.
      out.push({ kind: 'line', text: this.q.text(0, nl), endOffset: this.offset + nl + 1 });
      this.q.drop(nl + 1);
      this.offset += nl + 1;
      this.scanPos = 0;
    }
  }
}
