/**
 * What the unit tests of the log splitters (src/modules/ingest: log-record.test.ts and formats/) share:
 * the PG15 sample files, a splitter factory per format, and feeding a splitter chunk by chunk.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CsvlogSplitter } from '../../src/modules/ingest/formats/csvlog.splitter';
import { JsonlogSplitter } from '../../src/modules/ingest/formats/jsonlog.splitter';
import { StderrSplitter } from '../../src/modules/ingest/formats/stderr.splitter';
import type { LogItem, LogRecord, LogSplitter } from '../../src/modules/ingest/log-record';

const FIX = path.join(__dirname, '..', '..', 'src', 'modules', 'ingest', 'fixtures', 'pgaudit-pg15');
export const CSV = fs.readFileSync(path.join(FIX, 'postgresql.csv'));
export const JSONLOG = fs.readFileSync(path.join(FIX, 'postgresql.json'));
export const STDERR = fs.readFileSync(path.join(FIX, 'postgresql.stderr'));

export type Factory = (startOffset?: number) => LogSplitter;
export const FORMATS: [string, Buffer, Factory][] = [
  ['csvlog', CSV, (startOffset) => new CsvlogSplitter({ startOffset })],
  ['jsonlog', JSONLOG, (startOffset) => new JsonlogSplitter({ startOffset })],
  ['stderr', STDERR, (startOffset) => new StderrSplitter({ startOffset })],
];

export function feed(make: Factory, chunks: (string | Uint8Array)[], startOffset?: number): LogItem[] {
  const s = make(startOffset);
  const out: LogItem[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}
export const cut = (buf: Buffer, at: number[]) => [0, ...at, buf.length].slice(1).map((end, i, a) => buf.subarray(i === 0 ? 0 : a[i - 1]!, end));
export const records = (items: LogItem[]): LogRecord[] => items.map((i) => {
  if (!i.ok) throw new Error(`malformed: ${i.reason} @${i.endOffset}: ${i.excerpt}`);
  return i.record;
});
