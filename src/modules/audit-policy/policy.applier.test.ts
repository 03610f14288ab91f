/**
 * The read-back of a RESET below the service level (a database policy's disable, a plan lapse's included) while
 * another change moves the service level of the same server: the lapse of the service-level policy, worked at the
 * same moment by another worker (test/lapse.test.ts, "two workers on one queue"), runs ALTER SYSTEM RESET, which
 * pg_file_settings shows at once. A fake session plays that server, so the interleaving is fixed, not timed.
 */
import { silentLogger } from '../../base/logger';
import { AuditErrorCode, AuditPolicyError } from './audit-policy.errors';
import { planReset, Scope } from './apply.plan';
import { ApplyPlan, PolicyApplier } from './policy.applier';
import type { ChangeContext } from './policy.change';
import type { TargetSession } from './target/target.session';

const database: Scope = { kind: 'database', database: 'sales' };
const gucs = new Set(['pgaudit.log']);

/**
 * A server whose service level holds pgaudit.log = write,ddl and whose database `sales` holds `own` of its own.
 * Once the change has committed, the service level answers write,ddl to the first read and none to every later
 * one: another worker's ALTER SYSTEM RESET landed between two reads of it. `takesReset: false`: the database
 * keeps its entry (a RESET that did not take).
 */
function server(opts: { own: string; takesReset: boolean }) {
  let own = new Map([['pgaudit.log', opts.own]]);
  let committed = false;
  let serviceReads = 0;
  const ran: string[] = [];
  const session = {
    run: async (sql: string) => {
      ran.push(sql);
      if (opts.takesReset && /^ALTER DATABASE .* RESET /.test(sql)) own = new Map();
      if (sql === 'COMMIT') committed = true;
    },
    serviceSettings: async () => {
      if (committed) serviceReads += 1;
      return new Map([['pgaudit.log', serviceReads > 1 ? 'none' : 'write,ddl']]);
    },
    roleSettings: async (db: string | null, role: string | null) => (db === 'sales' && role === null ? new Map(own) : new Map()),
    systemSettings: async () => new Map(),
  } as unknown as TargetSession;
  const ctx = {
    req: { operation: 'disable', principal: {}, serviceId: 's', database: 'sales', logger: silentLogger },
    service: { id: 's' }, session, targets: {}, facts: { gucs }, database: 'sales', role: '', scope: database, key: null, requestHash: '',
  } as unknown as ChangeContext;
  const plan: ApplyPlan = {
    extensionIn: [],
    steps: [{ scope: database, statements: planReset(database, gucs), explicitBefore: new Map([['pgaudit.log', opts.own]]), gucs: ['pgaudit.log'] }],
    expected: [{ scope: database, settings: { log: [] } as never, inherits: {} }],
  };
  return { ctx, plan, ran };
}

describe('PolicyApplier.apply: a database RESET read back while the service level moves', () => {
  it('succeeds: the scope and what it inherits are read from the same layers (both show the service level as it was then)', async () => {
    const { ctx, plan, ran } = server({ own: 'write,ddl', takesReset: true });
    const [after] = await new PolicyApplier({ applyReadbackTimeoutMs: 1000 }, silentLogger).apply(ctx, plan);
    expect(after!.log).toEqual(['WRITE', 'DDL']);   // what a session in sales got at the read: the service level's, before the other RESET
    expect(ran).toEqual(['BEGIN', 'ALTER DATABASE "sales" RESET pgaudit.log', 'COMMIT']);   // nothing restored
  });

  it('still fails (and restores) when the scope kept an entry of its own', async () => {
    const { ctx, plan, ran } = server({ own: 'read', takesReset: false });
    const err = await new PolicyApplier({ applyReadbackTimeoutMs: 1000 }, silentLogger).apply(ctx, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditPolicyError);
    expect((err as AuditPolicyError).code).toBe(AuditErrorCode.APPLY_FAILED);
    expect(ran.slice(3)).toEqual(['BEGIN', 'ALTER DATABASE "sales" SET pgaudit.log = \'read\'', 'COMMIT']);
  });
});
