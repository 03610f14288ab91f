/**
 * The invariants automation relies on: concurrent changes never lose an update (row lock + version),
 * and a retried mutation with the same idempotency key returns the first result and applies nothing twice.
 */
import { startEnvironment } from './support/environment';
import { CONFIGURE, createTenant, DISABLE, ENABLE, POLICY, resetServer, show, sql, Tenant, TestGateway, urls } from './support/harness';

let g: TestGateway;
let t: Tenant;

beforeAll(async () => {
  ({ g, t } = await startEnvironment());
  const r = await g.exec(t.token, ENABLE, { input: { serviceId: t.serviceId, settings: { log: ['DDL'] } } });
  expect(r.data!.enableAuditLogging.userErrors).toEqual([]);
});
afterAll(async () => { await g.close(); await resetServer(urls.pgaudit); });

const configure = (settings: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  g.exec(t.token, CONFIGURE, { input: { serviceId: t.serviceId, settings, ...extra } }).then((r) => r.data!.configureAuditLogging);

describe('concurrency', () => {
  it('successful-concurrent-configures: eight parallel changes of different settings all survive', async () => {
    const changes = [{ logRows: true }, { logRelation: true }, { logParameter: true }, { logCatalog: false },
      { logStatementOnce: true }, { logClient: true }, { logLevel: 'NOTICE' }, { log: ['DDL', 'WRITE'] }];
    const results = await Promise.all(changes.map((c) => configure(c)));
    expect(results.map((r) => r.userErrors)).toEqual(changes.map(() => []));
    expect(results.map((r) => r.revision.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const policy = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    expect(policy.version).toBe(9);
    expect(policy.settings).toMatchObject({ logRows: true, logRelation: true, logParameter: true, logCatalog: false,
      logStatementOnce: true, logClient: true, logLevel: 'NOTICE', log: ['WRITE', 'DDL'] });
    expect(await show(urls.pgaudit, 'pgaudit.log_rows')).toBe('on');
    expect(await show(urls.pgaudit, 'pgaudit.log_level')).toBe('notice');
    // every revision's "changes" chain together: each one starts where the previous ended
    const history = (await g.exec(t.token, POLICY, { serviceId: t.serviceId, first: 20 })).data!.auditPolicy.history;
    expect(history.totalCount).toBe(9);
  });

  it('failing-concurrent-expected-version: of two changes from the same version exactly one wins', async () => {
    // Both settings on first (as the previous test leaves them; then this changes nothing), so that the loser's stays visibly on.
    expect((await configure({ logRows: true, logRelation: true })).userErrors).toEqual([]);
    const version = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.version;
    const [a, b] = await Promise.all([
      configure({ logRows: false }, { expectedVersion: version }),
      configure({ logRelation: false }, { expectedVersion: version }),
    ]);
    const outcomes = [a, b].map((r) => (r.userErrors.length ? r.userErrors[0].code : 'APPLIED')).sort();
    expect(outcomes).toEqual(['APPLIED', 'VERSION_CONFLICT']);
    const winner = a.userErrors.length ? b : a;
    expect(winner.revision.version).toBe(version + 1);
    const loserField = a.userErrors.length ? 'pgaudit.log_rows' : 'pgaudit.log_relation';
    expect(await show(urls.pgaudit, loserField)).toBe('on'); // the refused change never reached the server
  });
});

describe('idempotency', () => {
  it('successful-replay: the same key returns the first result and applies nothing twice', async () => {
    const input = { serviceId: t.serviceId, settings: { logStatement: false }, idempotencyKey: 'job-42-step-1', reason: 'retry me' };
    const first = (await g.exec(t.token, CONFIGURE, { input })).data!.configureAuditLogging;
    expect(first.userErrors).toEqual([]);
    const before = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    // someone changes the server by hand in between: a replay must not re-apply and undo it
    await sql(urls.pgaudit, `ALTER SYSTEM SET pgaudit.log_statement = 'on'`);
    await sql(urls.pgaudit, 'SELECT pg_reload_conf()');
    const again = (await g.exec(t.token, CONFIGURE, { input })).data!.configureAuditLogging;
    expect(again.userErrors).toEqual([]);
    expect(again.revision.id).toBe(first.revision.id);
    expect(again.statements).toEqual(first.statements);
    const after = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy;
    expect(after.version).toBe(before.version);
    await new Promise((r) => setTimeout(r, 200));
    expect(await show(urls.pgaudit, 'pgaudit.log_statement')).toBe('on');
  });

  it('successful-concurrent-replays: parallel retries of one request create one revision', async () => {
    const input = { serviceId: t.serviceId, settings: { logCatalog: true }, idempotencyKey: 'job-43' };
    const results = await Promise.all([1, 2, 3, 4].map(() => g.exec(t.token, CONFIGURE, { input }).then((r) => r.data!.configureAuditLogging)));
    expect(results.map((r) => r.userErrors)).toEqual([[], [], [], []]);
    expect(new Set(results.map((r) => r.revision.id)).size).toBe(1);
    const revisions = await g.gateway.db.prisma.auditPolicyRevision.count({ where: { id: results[0].revision.id } });
    expect(revisions).toBe(1);
  });

  it('failing-key-reuse: the same key with a different request is refused and changes nothing', async () => {
    // The key's own first request, applied (a change, so it leaves a revision): log_catalog on under 'job-44'.
    expect((await configure({ logCatalog: false })).userErrors).toEqual([]);
    const first = await configure({ logCatalog: true }, { idempotencyKey: 'job-44' });
    expect(first.userErrors).toEqual([]);
    expect(first.revision).not.toBeNull();
    const version = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.version;
    const r = await configure({ logCatalog: false }, { idempotencyKey: 'job-44' });
    expect(r.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    const d = (await g.exec(t.token, DISABLE, { input: { serviceId: t.serviceId, idempotencyKey: 'job-44' } })).data!.disableAuditLogging;
    expect(d.userErrors[0].code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.version).toBe(version);
    expect(await show(urls.pgaudit, 'pgaudit.log_catalog')).toBe('on');
  });

  it('failing-key-reuse-after-no-op: a key whose first request changed nothing is remembered too', async () => {
    expect((await configure({ logCatalog: true })).userErrors).toEqual([]);   // so that the keyed request changes nothing
    const first = await configure({ logCatalog: true }, { idempotencyKey: 'job-45' });
    expect(first).toMatchObject({ userErrors: [], revision: null, statements: [] });
    const version = (await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.version;
    expect(await configure({ logCatalog: true }, { idempotencyKey: 'job-45' })).toMatchObject({ userErrors: [], revision: null, statements: [] });
    const r = await configure({ logCatalog: false }, { idempotencyKey: 'job-45' });
    expect(r.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect((await g.exec(t.token, POLICY, { serviceId: t.serviceId })).data!.auditPolicy.version).toBe(version);
    expect(await show(urls.pgaudit, 'pgaudit.log_catalog')).toBe('on');
  });

  it('keys are per project: another tenant may use the same key', async () => {
    const other = await createTenant(g, { serviceUrl: urls.pgaudit });
    const r = (await g.exec(other.token, ENABLE, { input: { serviceId: other.serviceId, database: 'postgres', idempotencyKey: 'job-43', dryRun: false } })).data!.enableAuditLogging;
    expect(r.userErrors).toEqual([]);
    expect(r.revision.version).toBe(1);
  });
});
