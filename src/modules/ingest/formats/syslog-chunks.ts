/**
 * PostgreSQL's syslog output put back together. With `log_destination = syslog`, PostgreSQL (elog.c,
 * write_syslog) sends each message line by line, and a line longer than PG_SYSLOG_LIMIT (900 bytes) in chunks cut
 * at a word boundary where one is found; with syslog_sequence_numbers each piece is `[<seq>-<chunk>] <text>`, seq
 * counting the process's messages and chunk the pieces of one message from 1. A log integration stores each piece
 * as a document (MESSAGE), so a statement with newlines, or a long one, arrives in several documents.
 *
 * `SyslogChunkAssembler` takes the pieces of each stream (one server process: host and pid) in order and returns
 * each message whole once the next message of its stream begins (or `flush` says no more will come). PostgreSQL
 * puts a TAB after every newline of a message (elog.c, append_with_tabs) before it writes it to any destination, so
 * a piece that begins with a TAB begins a line, and is joined after a newline; any other piece continues the line
 * before (write_syslog cut a long line there, before a space or, with none, anywhere). A message short enough and on
 * one line is one piece, `[<seq>] <text>`. What the pieces cannot tell: a long line cut just before a TAB of its
 * own gets a newline it did not have, and write_syslog drops empty lines. syslog_sequence_numbers must be on
 * (PostgreSQL's default): without them a piece's tag cannot be told from a short message's.
 * Pure: no I/O, never throws on input. A message is bounded by `maxMessageBytes`: pieces past it are dropped and
 * the message is flagged `truncated`.
 */
import { DEFAULT_MAX_RECORD_BYTES } from '../log-record';

/** One message of a stream, whole (or cut at maxMessageBytes), with what its first piece carried (its document's fields). */
export interface AssembledMessage<T> {
  text: string;
  /** The first piece's companion value (e.g. its document: the time, the host). */
  first: T;
  /** Pieces it was made of. */
  pieces: number;
  /** A piece was missing (chunk numbers skipped) or the message exceeded maxMessageBytes. */
  incomplete: boolean;
}

/** `[seq-chunk] ` of a piece, or `[seq] ` of a whole short message. */
const TAG = /^\[(\d{1,20})(?:-(\d{1,9}))?\] ?/;

interface Open<T> { seq: string; next: number; parts: string[]; bytes: number; first: T; pieces: number; incomplete: boolean }

export class SyslogChunkAssembler<T> {
  private readonly open = new Map<string, Open<T>>();

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_RECORD_BYTES) {}

  /**
   * One piece of `stream`. Returns the messages this piece completed: the stream's open one, when this piece starts
   * another, and this piece itself when it is a whole message (`[seq] text`, or untagged text).
   */
  push(stream: string, piece: string, value: T): AssembledMessage<T>[] {
    const tag = TAG.exec(piece);
    const done: AssembledMessage<T>[] = [];
    const current = this.open.get(stream);
    if (!tag) {
      if (current) done.push(this.close(stream, current));
      done.push({ text: piece, first: value, pieces: 1, incomplete: false });
      return done;
    }
    const [, seq, chunkText] = tag;
    const text = piece.slice(tag[0].length);
    if (chunkText === undefined) {   // a whole message in one piece
      if (current) done.push(this.close(stream, current));
      done.push({ text, first: value, pieces: 1, incomplete: false });
      return done;
    }
    const chunk = Number(chunkText);
    if (current && current.seq === seq && chunk >= current.next) {
      if (chunk > current.next) current.incomplete = true;   // a piece never arrived
      current.next = chunk + 1;
      current.pieces += 1;
      this.append(current, text.startsWith('\t') ? `\n${text}` : text);
      return done;
    }
    if (current) done.push(this.close(stream, current));
    const opened: Open<T> = { seq, next: chunk + 1, parts: [], bytes: 0, first: value, pieces: 1, incomplete: chunk !== 1 };
    this.append(opened, text);
    this.open.set(stream, opened);
    return done;
  }

  /** The open message of `stream` (of every stream without one), as it is: no further piece is expected. */
  flush(stream?: string): AssembledMessage<T>[] {
    const streams = stream === undefined ? [...this.open.keys()] : this.open.has(stream) ? [stream] : [];
    return streams.map((s) => this.close(s, this.open.get(s)!));
  }

  /** Streams with a message still open (its pieces may continue). */
  get openStreams(): number { return this.open.size; }

  /** The first piece's value of the message open longest (the one a checkpoint must stay before), if any. */
  get oldestOpen(): T | undefined {
    const next = this.open.values().next();
    return next.done ? undefined : next.value.first;
  }

  private append(o: Open<T>, text: string): void {
    const bytes = Buffer.byteLength(text);
    if (o.bytes + bytes > this.maxMessageBytes) { o.incomplete = true; return; }
    o.parts.push(text);
    o.bytes += bytes;
  }

  private close(stream: string, o: Open<T>): AssembledMessage<T> {
    this.open.delete(stream);
    return { text: o.parts.join(''), first: o.first, pieces: o.pieces, incomplete: o.incomplete };
  }
}
