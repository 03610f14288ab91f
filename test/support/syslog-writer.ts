/**
 * PostgreSQL's write_syslog (elog.c) as it splits a message for syslog, with syslog_sequence_numbers and
 * syslog_split_messages on (the defaults): one piece per line, a line over PG_SYSLOG_LIMIT bytes cut back to a
 * whole UTF-8 character and, where it can, to a space; empty lines dropped; `[seq-chunk] ` before each piece, or
 * `[seq] ` before a message short enough and on one line. What a log integration then stores document by document.
 */
const PG_SYSLOG_LIMIT = 900;

/** The syslog messages PostgreSQL sends for `message` as message number `seq` (sequence numbers and splitting on). */
export function writeSyslog(seq: number, message: string): string[] {
  let line = Buffer.from(message);
  if (line.length <= PG_SYSLOG_LIMIT && !line.includes(0x0a)) return [`[${seq}] ${message}`];
  const out: string[] = [];
  let chunk = 0;
  const isSpace = (b: number | undefined) => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
  while (line.length > 0) {
    if (line[0] === 0x0a) { line = line.subarray(1); continue; }
    const nl = line.indexOf(0x0a);
    let len = Math.min(nl >= 0 ? nl : line.length, PG_SYSLOG_LIMIT);
    while (len > 0 && len < line.length && (line[len]! & 0xc0) === 0x80) len--;   // pg_mbcliplen: whole characters only
    if (len < line.length && line[len] !== 0x0a && !isSpace(line[len])) {
      let i = len - 1;
      while (i > 0 && !isSpace(line[i])) i--;
      if (i > 0) len = i;
    }
    out.push(`[${seq}-${++chunk}] ${line.subarray(0, len).toString()}`);
    line = line.subarray(len);
  }
  return out;
}

