import { RedactionError } from './redaction.errors';
import { NO_REDACTION } from './redaction.rules';
import { RedactionWatcher } from './redaction.watcher';

/** A fake store of one service's rules (unit tests may fake I/O), counting its reads. */
function store() {
  const s = { row: null as null | { serviceId: string; version: number; rules: unknown; updatedAt: Date; updatedBy: string },
    versionReads: 0, findReads: 0, fail: false };
  const repo = {
    async version() { s.versionReads++; if (s.fail) throw new Error('db down'); return s.row?.version ?? 0; },
    async find() { s.findReads++; if (s.fail) throw new Error('db down'); return s.row; },
  };
  const set = (version: number, rules: unknown) => { s.row = { serviceId: 'svc', version, rules, updatedAt: new Date(), updatedBy: 'x' }; };
  return { s, repo, set };
}

describe('RedactionWatcher', () => {
  it('loads the rules first, re-reads only the version within the interval, reloads when it moved', async () => {
    const { s, repo, set } = store();
    let now = 0;
    const w = new RedactionWatcher(repo, 'svc', 1000, () => now);
    expect((await w.current()).active).toBe(false);          // no rules yet: version 0, nothing redacted
    set(1, { ...NO_REDACTION, maskStringLiterals: true });
    now = 999;
    expect((await w.current()).version).toBe(0);              // within the interval: not asked
    expect(s.versionReads).toBe(0);
    now = 1000;
    const r1 = await w.current();
    expect([r1.version, r1.active]).toEqual([1, true]);
    now = 2000;
    expect(await w.current()).toBe(r1);                       // same version: the same redactor, no reload
    expect([s.versionReads, s.findReads]).toEqual([2, 2]);
  });

  it('a failed read throws (the ingest pass fails and is retried); rules of a newer version throw RULES_UNREADABLE', async () => {
    const { s, repo, set } = store();
    let now = 0;
    const w = new RedactionWatcher(repo, 'svc', 10, () => now);
    set(1, { ...NO_REDACTION, dropParameters: true });
    await w.current();
    s.fail = true; now = 20;
    await expect(w.current()).rejects.toThrow('db down');
    s.fail = false;
    set(2, { ...NO_REDACTION, patterns: ['FUTURE_PATTERN'] });
    await expect(w.current()).rejects.toThrow(RedactionError);
  });
});
