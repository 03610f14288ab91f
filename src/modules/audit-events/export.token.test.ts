import { AuditEventsError } from './audit-events.errors';
import { decodeExportToken, encodeExportToken, ExportState, filterHash, tokenKey } from './export.token';

const key = tokenKey(Buffer.alloc(32, 7));
const state: ExportState = { serviceId: 'svc-1', filter: filterHash({ databases: ['a'] }), pit: 'cGl0LWlk', after: [1733300000123, 12345, 'abc_-1'], events: 42 };

const code = (f: () => unknown) => {
  try { f(); } catch (err) { return err instanceof AuditEventsError ? `${err.code}:${err.details.argument}` : String(err); }
  return 'no error';
};

describe('export resume tokens', () => {
  it('round-trips the state for the same service and filter', () => {
    const t = encodeExportToken(key, state);
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(decodeExportToken(key, t, 'svc-1', state.filter)).toEqual(state);
    const fresh = { ...state, pit: null, after: null, events: 0 };
    expect(decodeExportToken(key, encodeExportToken(key, fresh), 'svc-1', state.filter)).toEqual(fresh);
  });

  it('is refused for another service, another filter, another key, or when changed', () => {
    const t = encodeExportToken(key, state);
    expect(code(() => decodeExportToken(key, t, 'svc-2', state.filter))).toBe('INVALID_ARGUMENT:resume');
    expect(code(() => decodeExportToken(key, t, 'svc-1', filterHash({ databases: ['b'] })))).toBe('INVALID_ARGUMENT:resume');
    expect(code(() => decodeExportToken(tokenKey(Buffer.alloc(32, 8)), t, 'svc-1', state.filter))).toBe('INVALID_ARGUMENT:resume');
    const [payload, mac] = t.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ v: 1, s: 'svc-1', f: state.filter, p: null, a: [0, 0, 'z'], n: 0 })).toString('base64url');
    expect(code(() => decodeExportToken(key, `${forged}.${mac}`, 'svc-1', state.filter))).toBe('INVALID_ARGUMENT:resume');
    expect(code(() => decodeExportToken(key, `${payload}x.${mac}`, 'svc-1', state.filter))).toBe('INVALID_ARGUMENT:resume');
    for (const junk of ['', 'x', '.', 'a.b', `${payload}.${mac}.x`, 'ä'.repeat(10), 'a'.repeat(5000) + '.' + mac]) {
      expect(code(() => decodeExportToken(key, junk, 'svc-1', state.filter))).toBe('INVALID_ARGUMENT:resume');
    }
  });

  it('binds the filter, not how it is written: order and repeats of list values do not matter, values do', () => {
    const d = new Date('2026-12-01T00:00:00Z');
    expect(filterHash({ databases: ['a', 'b'], from: d })).toBe(filterHash({ databases: ['b', 'a', 'a'], from: new Date(d) }));
    expect(filterHash({})).toBe(filterHash({ databases: [], text: '  ' }));
    expect(filterHash({ databases: ['a'] })).not.toBe(filterHash({ users: ['a'] }));
    expect(filterHash({ from: d })).not.toBe(filterHash({ to: d }));
    expect(filterHash({ text: 'a b' })).not.toBe(filterHash({ text: 'a  b' }));
  });

  it('a process without master keys signs with a key of its own', () => {
    expect(tokenKey(null).equals(tokenKey(null))).toBe(false);
    expect(tokenKey(Buffer.alloc(32, 7)).equals(key)).toBe(true);
  });
});
