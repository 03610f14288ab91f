/**
 * The base of the line-oriented formats (jsonlog, stderr, managed NDJSON): framing by a LineReader,
 * then `consume`, the format's lines -> items, with the LogSplitter contract (push/end) around it.
 */
import { Line, LineReader } from '../framing/line-reader';
import { LogItem, LogSplitter, optionsOf, SplitterOptions } from '../log-record';

export abstract class LineSplitter implements LogSplitter {
  protected readonly reader: LineReader;
  protected readonly max: number;
  protected readonly zones: SplitterOptions['zoneAbbreviations'];
  private ended = false;

  constructor(options?: SplitterOptions) {
    const o = optionsOf(options);
    this.reader = new LineReader(o.startOffset, o.maxRecordBytes);
    this.max = o.maxRecordBytes;
    this.zones = o.zones;
  }

  push(chunk: string | Uint8Array): LogItem[] {
    if (this.ended) throw new Error(`${this.constructor.name}: push() after end()`);
    this.reader.push(chunk);
    return this.consume(this.reader.lines(false), false);
  }

  end(): LogItem[] {
    if (this.ended) return [];
    this.ended = true;
    return this.consume(this.reader.lines(true), true);
  }

  protected abstract consume(lines: Line[], final: boolean): LogItem[];
}
