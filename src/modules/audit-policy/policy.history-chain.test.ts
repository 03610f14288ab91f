import { chainHashes, ChainRevision, GENESIS_HASH, HistoryProblem, revisionHash, verifyChain } from './policy.history-chain';

const POLICY = '8b0c5c2e-1111-4222-8333-944455556666';

function history(n: number): ChainRevision[] {
  const contents = Array.from({ length: n }, (_, i) => ({
    policyId: POLICY, version: i + 1, action: i === 0 ? 'ENABLED' : 'CONFIGURED', actor: 'token:ci as avnadmin',
    actorTokenId: '0f0e0d0c-0000-4000-8000-000000000001', reason: `change ${i + 1}`,
    settings: { log: ['DDL'], logExclude: [], logCatalog: true, role: null, logParameterMaxSize: i },
    changes: [{ setting: 'pgaudit.log', from: null, to: 'ddl' }], statements: [`ALTER SYSTEM SET pgaudit.log = 'ddl'`],
    createdAt: new Date(Date.UTC(2026, 10, 30, 4, 0, i, 123)),
  }));
  const links = chainHashes(contents);
  return contents.map((c, i) => ({ ...c, ...links[i]! }));
}

describe('verifyChain', () => {
  it('an untouched history is intact; its head is the last hash; version 1 links to the genesis value', () => {
    const h = history(4);
    expect(h[0]!.prevHash).toBe(GENESIS_HASH);
    expect(h[0]!.contentHash).toBe(revisionHash(GENESIS_HASH, h[0]!));
    expect(verifyChain(h, 4)).toEqual({ intact: true, revisions: 4, headHash: h[3]!.contentHash, firstBroken: null });
    expect(verifyChain([], 0)).toEqual({ intact: true, revisions: 0, headHash: null, firstBroken: null });
  });

  it('the order revisions are given in does not matter', () => {
    const h = history(3);
    expect(verifyChain([h[2]!, h[0]!, h[1]!], 3).intact).toBe(true);
  });

  it('key order inside JSON does not matter (jsonb stores keys in its own order)', () => {
    const h = history(2);
    const s = h[1]!.settings as Record<string, unknown>;
    h[1]!.settings = Object.fromEntries(Object.entries(s).reverse());
    expect(verifyChain(h, 2).intact).toBe(true);
  });

  const edits: [string, (r: ChainRevision) => void][] = [
    ['policyId', (r) => { r.policyId = '00000000-0000-4000-8000-000000000000'; }],
    ['action', (r) => { r.action = 'DISABLED'; }],
    ['actor', (r) => { r.actor = 'someone else'; }],
    ['actorTokenId', (r) => { r.actorTokenId = null; }],
    ['reason', (r) => { r.reason = 'nothing to see'; }],
    ['settings', (r) => { (r.settings as { log: string[] }).log = []; }],
    ['changes', (r) => { r.changes = []; }],
    ['statements', (r) => { r.statements = ['SELECT 1']; }],
    ['createdAt (one millisecond)', (r) => { r.createdAt = new Date(r.createdAt.getTime() + 1); }],
    ['contentHash', (r) => { r.contentHash = 'f'.repeat(64); }],
  ];
  it.each(edits)('editing %s of revision 2 names version 2: CONTENT_CHANGED', (_f, edit) => {
    const h = history(4);
    edit(h[1]!);
    expect(verifyChain(h, 4)).toMatchObject({ intact: false, firstBroken: { version: 2, problem: HistoryProblem.CONTENT_CHANGED } });
  });

  it('a revision whose hash was recomputed after an edit breaks the next link', () => {
    const h = history(4);
    h[1]!.reason = 'rewritten';
    h[1]!.contentHash = revisionHash(h[1]!.prevHash!, h[1]!);
    expect(verifyChain(h, 4).firstBroken).toEqual({ version: 3, problem: HistoryProblem.LINK_BROKEN });
  });

  it('deleting a middle revision names the missing version', () => {
    const h = history(4);
    expect(verifyChain([h[0]!, h[2]!, h[3]!], 4).firstBroken).toEqual({ version: 2, problem: HistoryProblem.MISSING_VERSION });
  });

  it('deleting version 1 names version 1', () => {
    const h = history(3);
    expect(verifyChain(h.slice(1), 3).firstBroken).toEqual({ version: 1, problem: HistoryProblem.MISSING_VERSION });
  });

  it('deleting the newest revision is found against the policy version, not by the chain alone', () => {
    const h = history(3);
    expect(verifyChain(h.slice(0, 2)).intact).toBe(true);
    expect(verifyChain(h.slice(0, 2), 3).firstBroken).toEqual({ version: 3, problem: HistoryProblem.MISSING_VERSION });
  });

  it('deleting a revision and renumbering the rest breaks the link at the renumbered one', () => {
    const h = history(4);
    const renumbered = [h[0]!, { ...h[2]!, version: 2 }, { ...h[3]!, version: 3 }];
    expect(verifyChain(renumbered, 3).firstBroken).toEqual({ version: 2, problem: HistoryProblem.LINK_BROKEN });
  });

  it('swapping two revisions\' versions (reorder) is found at the lower one', () => {
    const h = history(4);
    const swapped = [h[0]!, { ...h[2]!, version: 2 }, { ...h[1]!, version: 3 }, h[3]!];
    expect(verifyChain(swapped, 4).firstBroken).toEqual({ version: 2, problem: HistoryProblem.LINK_BROKEN });
  });

  it('a changed genesis link or a missing hash is found', () => {
    const h = history(2);
    h[0]!.prevHash = 'a'.repeat(64);
    expect(verifyChain(h, 2).firstBroken).toEqual({ version: 1, problem: HistoryProblem.LINK_BROKEN });
    const g = history(2);
    g[1]!.contentHash = null;
    expect(verifyChain(g, 2).firstBroken).toEqual({ version: 2, problem: HistoryProblem.CONTENT_CHANGED });
  });
});

describe('objects (object audit) in the chain', () => {
  it('a revision without objects (undefined or null) hashes exactly as before objects existed (a pinned hash)', () => {
    const r = history(1)[0]!;
    const pinned = revisionHash(GENESIS_HASH, r);
    expect(revisionHash(GENESIS_HASH, { ...r, objects: null })).toBe(pinned);
    expect(revisionHash(GENESIS_HASH, { ...r, objects: undefined })).toBe(pinned);
    // the canonical text of a revision without objects, spelled out: no `objects` member at all
    const { createHash } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const text = `{"action":"ENABLED","actor":"token:ci as avnadmin","actorTokenId":"0f0e0d0c-0000-4000-8000-000000000001",`
      + `"changes":[{"from":null,"setting":"pgaudit.log","to":"ddl"}],"createdAt":"2026-11-30T04:00:00.123Z",`
      + `"policyId":"${POLICY}","reason":"change 1",`
      + `"settings":{"log":["DDL"],"logCatalog":true,"logExclude":[],"logParameterMaxSize":0,"role":null},`
      + `"statements":["ALTER SYSTEM SET pgaudit.log = 'ddl'"],"version":1}`;
    expect(pinned).toBe(createHash('sha256').update(GENESIS_HASH).update('\n').update(text).digest('hex'));
  });

  it('an existing history verifies unchanged when objects is read back as null', () => {
    const h = history(3).map((r) => ({ ...r, objects: null }));
    expect(verifyChain(h, 3).intact).toBe(true);
  });

  it('non-null objects are hashed: editing or removing them is CONTENT_CHANGED', () => {
    const contents = history(2).map(({ contentHash: _c, prevHash: _p, ...c }) => c);
    contents[1] = { ...contents[1]!, action: 'OBJECT_AUDIT_CONFIGURED',
      objects: { auditorRole: 'pgaudit_auditor', objects: [{ schema: 'public', relation: 't', privileges: ['SELECT'], columns: null }] } };
    const links = chainHashes(contents);
    const h: ChainRevision[] = contents.map((c, i) => ({ ...c, ...links[i]! }));
    expect(verifyChain(h, 2).intact).toBe(true);
    const edited = h.map((r) => ({ ...r }));
    edited[1]!.objects = { auditorRole: 'pgaudit_auditor', objects: [] };
    expect(verifyChain(edited, 2).firstBroken).toEqual({ version: 2, problem: HistoryProblem.CONTENT_CHANGED });
    const removed = h.map((r) => ({ ...r }));
    removed[1]!.objects = null;
    expect(verifyChain(removed, 2).firstBroken).toEqual({ version: 2, problem: HistoryProblem.CONTENT_CHANGED });
  });
});
