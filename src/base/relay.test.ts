import 'reflect-metadata';
import { BaseError } from './domain-error';
import { decodeCursor, decodeIdCursor, encodeCursor, encodeIdCursor } from './relay';

describe('id cursors', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('round-trip a UUID (lower-cased), opaque and short enough for the cursor limit', () => {
    const c = encodeIdCursor('svc', id.toUpperCase());
    expect(c).not.toContain(id);
    expect(c.length).toBeLessThanOrEqual(64);
    expect(decodeIdCursor('svc', c)).toBe(id);
  });

  it('refuse another kind, a number cursor, garbage and a non-UUID with INVALID_CURSOR naming `after`', () => {
    for (const bad of [encodeIdCursor('rev', id), encodeCursor('svc', 3), 'bogus', Buffer.from('svc:not-a-uuid').toString('base64url'), '']) {
      expect(() => decodeIdCursor('svc', bad)).toThrow(BaseError);
      try { decodeIdCursor('svc', bad); } catch (err) { expect((err as BaseError).details).toEqual({ argument: 'after' }); }
    }
    expect(() => decodeCursor('svc', encodeIdCursor('svc', id))).toThrow(BaseError);
  });
});
