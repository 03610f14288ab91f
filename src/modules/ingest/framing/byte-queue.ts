/**
 * Framing: a byte queue with amortised O(1) appends and views without copies, which the splitters
 * buffer their input in (raw bytes, so that offsets count file bytes), and toBytes, what push() does
 * with a chunk.
 */

export class ByteQueue {
  private buf: Buffer = Buffer.alloc(0);
  private head = 0;
  private tail = 0;

  get length(): number { return this.tail - this.head; }

  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.tail + n > this.buf.length) {
      const live = this.tail - this.head;
      if (live + n <= this.buf.length * 0.75 && this.buf.length > 0) {
        this.buf.copy(this.buf, 0, this.head, this.tail);
      } else {
        const next = Buffer.allocUnsafe(Math.max(64 * 1024, this.buf.length * 2, live + n));
        this.buf.copy(next, 0, this.head, this.tail);
        this.buf = next;
      }
      this.head = 0;
      this.tail = live;
    }
    this.buf.set(chunk, this.tail);
    this.tail += n;
  }

  /** The live bytes; valid until the next append or drop. */
  view(): Buffer { return this.buf.subarray(this.head, this.tail); }

  text(from: number, to: number): string { return this.buf.toString('utf8', this.head + from, this.head + to); }

  drop(n: number): void {
    this.head += n;
    if (this.head >= this.tail) { this.head = 0; this.tail = 0; }
  }
}

/** A chunk as bytes: a string is counted as its UTF-8 encoding. */
export function toBytes(chunk: string | Uint8Array): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError('push() takes a string or a Buffer/Uint8Array');
}
