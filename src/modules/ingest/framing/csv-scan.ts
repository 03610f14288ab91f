/**
 * Framing: the fields of one complete CSV row (RFC 4180, as PostgreSQL's csvlog writes it: quoted fields
 * may hold commas and newlines, inner quotes doubled). scanCsvRow records where each column lies without
 * making strings, so that the csvlog splitter makes strings of just the columns it uses; unescapeQuotes
 * is shared with the pgaudit record parser (pgaudit-record.ts), whose fields are CSV too. Finding where a
 * row ends in a stream (quote parity) is the csvlog splitter's (formats/csvlog.splitter.ts).
 */

/**
 * Where the columns of one row lie in its text, as scanCsvRow finds them: column k is
 * text[start[k], end[k]) (inside the quotes when quoted), with doubled quotes in it when escaped[k].
 * Scanning records offsets only, so that csvRecord makes strings of just the columns it uses.
 */
export interface CsvColumns { count: number; start: number[]; end: number[]; escaped: boolean[] }

export const newCsvColumns = (): CsvColumns => ({ count: 0, start: [], end: [], escaped: [] });

/**
 * RFC 4180 fields of one complete csvlog row (quoted fields may hold newlines, inner quotes doubled).
 * csvlog quotes every text column, so an unquoted field with a quote in it means the row is corrupt.
 */
export function splitCsvRow(text: string): { ok: true; fields: string[] } | { ok: false; reason: string } {
  const cols = newCsvColumns();
  const reason = scanCsvRow(text, cols);
  if (reason !== null) return { ok: false, reason };
  const fields: string[] = [];
  for (let k = 0; k < cols.count; k++) fields.push(column(text, cols, k));
  return { ok: true, fields };
}

/** Fills `cols` with the columns of `text` (linear time); returns null, or why the row is not valid CSV. */
export function scanCsvRow(text: string, cols: CsvColumns): string | null {
  let count = 0;
  let i = 0;
  const n = text.length;
  // The first quote at or after i (n: none). Kept across unquoted columns, so that checking each of
  // them for a quote costs one comparison instead of a search through the column.
  let nextQuote = -1;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      // The closing quote is the first one not followed by another: `""` is an escaped quote.
      let close = i;
      let escaped = false;
      for (;;) {
        close = text.indexOf('"', close + 1);
        if (close === -1) return `unterminated quoted field in column ${count + 1}`;
        if (text.charCodeAt(close + 1) !== 0x22) break;
        escaped = true;
        close += 1;
      }
      setColumn(cols, count++, i + 1, close, escaped);
      i = close + 1;
      if (i >= n) break;
      if (text.charCodeAt(i) !== 0x2c) return `unexpected character after the closing quote of column ${count}`;
      i += 1;
    } else {
      let end = text.indexOf(',', i);
      if (end === -1) end = n;
      if (nextQuote < i) {
        nextQuote = text.indexOf('"', i);
        if (nextQuote === -1) nextQuote = n;
      }
      if (nextQuote < end) return `quote inside unquoted column ${count + 1}`;
      setColumn(cols, count++, i, end, false);
      if (end >= n) break;
      i = end + 1;
    }
  }
  cols.count = count;
  return null;
}

function setColumn(cols: CsvColumns, k: number, start: number, end: number, escaped: boolean): void {
  cols.start[k] = start;
  cols.end[k] = end;
  cols.escaped[k] = escaped;
}

/** Column k's value. */
export function column(text: string, cols: CsvColumns, k: number): string {
  return cols.escaped[k] ? unescapeQuotes(text, cols.start[k]!, cols.end[k]!) : text.slice(cols.start[k], cols.end[k]);
}

/**
 * text[from, to) with each `""` made `"`. Every quote in that range is the first of such a pair, so
 * each piece is taken up to and including that quote, and the search goes on after its twin. The
 * pieces are joined, not appended one by one: join makes one flat string, where appending makes a
 * rope of a node per piece, which costs the garbage collector more while the record waits in the
 * batch, and which its first reader (startsWith in parseAuditMessage) would have to flatten anyway.
 */
export function unescapeQuotes(text: string, from: number, to: number): string {
  const pieces: string[] = [];
  for (let j = from; ;) {
    const q = text.indexOf('"', j);
    if (q === -1 || q >= to) {
      pieces.push(text.slice(j, to));
      return pieces.join('');
    }
    pieces.push(text.slice(j, q + 1));
    j = q + 2;
  }
}
