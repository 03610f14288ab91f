import type { Principal } from './principal';
import type { TenancyRepository } from './tenancy.repository';
import { TenancyService } from './tenancy.service';
import { CredentialVault } from './service-credential';
import { hashToken } from './token';

/** A repository faked in memory: only what authenticate uses, with a count of lookups. */
function fakeRepo(tokens: Map<string, Principal>) {
  const repo = { lookups: 0, async principalByTokenHash(hash: string) { repo.lookups += 1; return tokens.get(hash) ?? null; } };
  return repo;
}

const principal = (over: Partial<Principal> = {}): Principal => ({ tokenId: 't', tokenName: 'n', projectId: 'p', organizationId: 'o',
  databaseRole: 'avnadmin', scopes: ['read:events'], expiresAt: null, ...over });

describe('TenancyService.authenticate', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('a bogus token asks the database once per cache period, however often it is sent', async () => {
    const repo = fakeRepo(new Map());
    const t = new TenancyService(repo as unknown as TenancyRepository, new CredentialVault(null), { authCacheTtlMs: 2000, now: clock });
    for (let i = 0; i < 1000; i++) expect(await t.authenticate('pga_bogus_token_value')).toBeNull();
    expect(repo.lookups).toBe(1);
    now += 2001;
    await t.authenticate('pga_bogus_token_value');
    expect(repo.lookups).toBe(2);
  });

  it('a token created after a miss works once the miss is older than the cache time (at once with the cache at 0)', async () => {
    const tokens = new Map<string, Principal>();
    const repo = fakeRepo(tokens);
    const cached = new TenancyService(repo as unknown as TenancyRepository, new CredentialVault(null), { authCacheTtlMs: 2000, now: clock });
    const uncached = new TenancyService(repo as unknown as TenancyRepository, new CredentialVault(null), { authCacheTtlMs: 0, now: clock });
    expect(await cached.authenticate('pga_new_token_value')).toBeNull();
    expect(await uncached.authenticate('pga_new_token_value')).toBeNull();
    tokens.set(hashToken('pga_new_token_value'), principal());
    expect(await uncached.authenticate('pga_new_token_value')).toMatchObject({ tokenId: 't' });
    expect(await cached.authenticate('pga_new_token_value')).toBeNull();   // within the cache time
    now += 2001;
    expect(await cached.authenticate('pga_new_token_value')).toMatchObject({ tokenId: 't' });
  });

  it('an expired token is refused at its expiry even while its identity is cached', async () => {
    const expiresAt = new Date(now + 500);
    const repo = fakeRepo(new Map([[hashToken('pga_expiring_token'), principal({ expiresAt })]]));
    const t = new TenancyService(repo as unknown as TenancyRepository, new CredentialVault(null), { authCacheTtlMs: 60_000, now: clock });
    expect(await t.authenticate('pga_expiring_token')).not.toBeNull();
    now += 499;
    expect(await t.authenticate('pga_expiring_token')).not.toBeNull();
    now += 1;
    expect(await t.authenticate('pga_expiring_token')).toBeNull();
    expect(repo.lookups).toBe(1);
  });
});
