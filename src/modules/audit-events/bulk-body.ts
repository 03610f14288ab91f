/**
 * The body of one bulk request, built while the log is read: each write (event.index.ts: eventBulkOp,
 * deadLetterBulkOp) is UTF-8 encoded once, at once, into one Buffer. The per-event strings die young;
 * what waits for OpenSearch is a byte buffer outside V8's heap, reused for the next batch once
 * acknowledged. Holding batches as strings or objects instead promoted them to the old generation and
 * cost the ingester a large share of its CPU in garbage collection (figures: bench/README.md).
 */
import type { BulkOp } from './event.index';

/**
 * A body is sent once it holds this many bytes: each buffer is allocated with room for it plus one more
 * large event, so that it never grows in normal operation (larger batches let buffers grow and raised the
 * ingester's peak RSS: bench/README.md).
 */
export const BULK_BODY_BYTES = 2 << 20;
const INITIAL_BYTES = BULK_BODY_BYTES + (512 << 10);
/** A buffer grown past this (a batch of huge statements) is dropped after use, not kept for reuse. */
const MAX_REUSED_BYTES = 4 << 20;

export class BulkBody {
  private buf: Buffer;
  private used = 0;
  /** Where each write ends in `buf`, in order. */
  private readonly ends: number[] = [];
  /** Each write's document id, in order. */
  readonly ids: string[] = [];

  /** `buffer`: a buffer to write into (from `release()` of an earlier body), else a new one. */
  constructor(buffer?: Buffer) {
    this.buf = buffer ?? Buffer.allocUnsafe(INITIAL_BYTES);
  }

  get count(): number { return this.ids.length; }
  get byteLength(): number { return this.used; }

  add(op: BulkOp): void {
    // a UTF-16 code unit never takes more than 3 UTF-8 bytes: measure exactly only when it may not fit
    if (this.buf.length - this.used < op.ndjson.length * 3) this.reserve(Buffer.byteLength(op.ndjson));
    this.used += this.buf.write(op.ndjson, this.used);
    this.ends.push(this.used);
    this.ids.push(op.id);
  }

  /** The NDJSON bytes to send; valid until `release()`. */
  bytes(): Buffer { return this.buf.subarray(0, this.used); }

  /** A new body of the writes at `positions` (in this body's order): what a retry sends again. */
  subset(positions: readonly number[]): BulkBody {
    const out = new BulkBody(Buffer.allocUnsafe(Math.max(1, positions.reduce((n, i) => n + this.end(i) - this.start(i), 0))));
    for (const i of positions) {
      out.used += this.buf.copy(out.buf, out.used, this.start(i), this.end(i));
      out.ends.push(out.used);
      out.ids.push(this.ids[i]!);
    }
    return out;
  }

  /** Hands the buffer back for the next body (or null if it grew too large to keep); this body is done. */
  release(): Buffer | null {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    this.used = 0;
    this.ends.length = 0;
    this.ids.length = 0;
    return b.length <= MAX_REUSED_BYTES ? b : null;
  }

  private start(i: number): number { return i === 0 ? 0 : this.ends[i - 1]!; }
  private end(i: number): number { return this.ends[i]!; }

  private reserve(bytes: number): void {
    if (this.buf.length - this.used >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + bytes));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}
