/**
 * Cutting text to a number of UTF-8 bytes, the unit a console and the response size limit count in.
 * Pure: no I/O. A cut never splits a character: not a multi-byte UTF-8 sequence, not a surrogate pair.
 */

/** A text cut to at most `maxBytes` UTF-8 bytes, with its whole length and whether anything was left out. */
export interface CutText { text: string; truncated: boolean; bytes: number }

/**
 * UTF-8 bytes of one UTF-16 code unit at `i` (4 for a whole surrogate pair, which takes 2 units); a lone
 * surrogate counts 3, as Buffer/TextEncoder encode it (U+FFFD).
 */
function widthAt(s: string, i: number): { bytes: number; units: number } {
  const c = s.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return { bytes: 4, units: 2 };
  }
  return { bytes: 3, units: 1 };
}

/**
 * `s` cut to its longest prefix of whole characters that fits in `maxBytes` UTF-8 bytes. Work is bounded by
 * the cut, not the text: a long text is measured natively and walked only up to `maxBytes`.
 */
export function cutUtf8(s: string, maxBytes: number): CutText {
  if (s.length * 3 <= maxBytes) return { text: s, truncated: false, bytes: Buffer.byteLength(s, 'utf8') };
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes <= maxBytes) return { text: s, truncated: false, bytes };
  let used = 0;
  let i = 0;
  while (i < s.length) {
    const w = widthAt(s, i);
    if (used + w.bytes > maxBytes) break;
    used += w.bytes;
    i += w.units;
  }
  return { text: s.slice(0, i), truncated: true, bytes };
}

/** How the event lists bound each event's texts (the single-event query applies none). */
export interface EventTextBounds {
  /** The statement and each parameter are cut at this many UTF-8 bytes. */
  textMaxBytes: number;
  /** At most this many parameters per event. */
  maxParameters: number;
}

/** Parameters cut to the bounds: at most `maxParameters`, each at most `textMaxBytes`; `truncated` when anything was left out. */
export function cutParameters(params: readonly string[], bounds: EventTextBounds): { values: string[]; truncated: boolean } {
  let truncated = params.length > bounds.maxParameters;
  const values = params.slice(0, bounds.maxParameters).map((p) => {
    const c = cutUtf8(p, bounds.textMaxBytes);
    if (c.truncated) truncated = true;
    return c.text;
  });
  return { values, truncated };
}
