/**
 * Bootstrapping tenants (CLI `admin` commands) and resolving callers (GraphQL context).
 * Input is checked here so that every entry point refuses the same things with the same words.
 */
import { randomUUID } from 'node:crypto';
import { PlanOwner, TenancyRepository, TenancyTx, ServiceRecord, TokenRecord } from './tenancy.repository';
import type { CredentialVault } from './service-credential';
import { generateToken, hashToken } from './token';
import type { Principal } from './principal';
import { ALL_SCOPES, parseScopes, Scope } from './scope';
import { isExpired, tokenExpiry } from './expiry';
import { TenancyError, TenancyErrorCode } from './tenancy.errors';
import { TtlCache } from './ttl-cache';

const invalid = (message: string) => new TenancyError(TenancyErrorCode.INVALID_INPUT, message);
const noOrganization = (id: string) => new TenancyError(TenancyErrorCode.ORGANIZATION_NOT_FOUND, `organization ${id} does not exist`);
const noProject = (id: string) => new TenancyError(TenancyErrorCode.PROJECT_NOT_FOUND, `project ${id} does not exist`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string): boolean => UUID.test(id);

/** The largest page of services one request may ask for. */
export const MAX_SERVICE_PAGE = 100;

function name(value: string, what: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw invalid(`${what} must be 1 to 200 characters`);
  return trimmed;
}

function id(value: string, what: string): string {
  if (!isUuid(value)) throw invalid(`${what} must be a UUID`);
  return value.toLowerCase();
}

/** libpq's sslmode values; a URL's sslmode can only raise the gateway's TARGET_SSLMODE (audit-policy/target/target.tls.ts). */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** A postgres:// URL; the error never repeats the URL, which may hold a password. */
export function checkServiceUrl(url: string): string {
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw invalid('service URL is not a valid URL'); }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw invalid('service URL must start with postgres:// or postgresql://');
  }
  if (!parsed.hostname) throw invalid('service URL has no host');
  for (const [key, value] of parsed.searchParams) {
    if (key === 'sslmode') {
      if (!SSL_MODES.includes(value)) throw invalid(`service URL sslmode must be one of ${SSL_MODES.join(', ')}`);
    } else if (/^ssl/i.test(key) || key.toLowerCase() === 'uselibpqcompat') {
      throw invalid('service URL TLS parameters other than sslmode are not taken: the gateway trusts TARGET_SSL_CA_FILE (README, Configuration)');
    }
  }
  return url;
}

const serviceNotFound = () => new TenancyError(TenancyErrorCode.SERVICE_NOT_FOUND, 'no such service in this project');

const ROLE = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** `--scopes a,b`: known names only, at least one; absent: every scope. */
function scopesOf(text: string | undefined): readonly Scope[] {
  if (text === undefined) return ALL_SCOPES;
  const parsed = parseScopes(text);
  if ('unknown' in parsed) throw invalid(`unknown scope ${JSON.stringify(parsed.unknown.slice(0, 50))}: the scopes are ${ALL_SCOPES.join(', ')}`);
  if (parsed.scopes.length === 0) throw invalid(`a token needs at least one scope: ${ALL_SCOPES.join(', ')}`);
  return parsed.scopes;
}

export class TenancyService {
  private readonly principals: TtlCache<Principal>;
  private readonly visible: TtlCache<string>;
  private readonly now: () => number;

  /**
   * `authCacheTtlMs`: how long the answer to "who is this token" (found or not: a flood of one bogus token
   * asks the database once per period), and a service's membership of a project, are reused without asking
   * the database. So a token revoked, or created after a miss, is seen within that time; an expiry is checked
   * on every request. Services never move between projects. 0 asks every time. The plan flags (Pro Platform,
   * Pro Features) are never cached: serviceFor reads them on every call, so a lapsed plan refuses at once. `authCacheMaxEntries`: the
   * most entries each cache keeps (found tokens, unknown tokens, services), least recently used going first.
   */
  constructor(private readonly repo: TenancyRepository, private readonly vault: CredentialVault,
    opts: { authCacheTtlMs?: number; authCacheMaxEntries?: number; now?: () => number } = {}) {
    const ttlMs = opts.authCacheTtlMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.principals = new TtlCache({ ttlMs, missTtlMs: ttlMs, maxEntries: opts.authCacheMaxEntries, now: opts.now });
    this.visible = new TtlCache({ ttlMs, maxEntries: opts.authCacheMaxEntries, now: opts.now });
  }

  createOrganization(orgName: string, proPlatform: boolean) {
    return this.repo.createOrganization(name(orgName, 'organization name'), proPlatform);
  }

  async createProject(organizationId: string, projectName: string, proFeatures: boolean) {
    const org = id(organizationId, 'organization id');
    if (!(await this.repo.organizationExists(org))) throw noOrganization(org);
    return this.repo.createProject(org, name(projectName, 'project name'), proFeatures);
  }

  async registerService(projectId: string, serviceName: string, url: string) {
    const project = id(projectId, 'project id');
    if (!(await this.repo.projectExists(project))) throw noProject(project);
    const serviceNameChecked = name(serviceName, 'service name');
    const serviceId = randomUUID();
    const created = await this.repo.registerService(serviceId, project, serviceNameChecked, this.vault.seal(serviceId, checkServiceUrl(url)));
    if (!created) throw new TenancyError(TenancyErrorCode.SERVICE_NAME_TAKEN, `project ${project} already has a service named ${JSON.stringify(serviceNameChecked)}`);
    return created;
  }

  /**
   * `admin rotate-key`: every service's data key re-wrapped under the current master key version (the URL's
   * ciphertext is kept). Idempotent: services already at the current version are left alone, and a second run
   * rotates nothing. A service whose credential does not open is left as it is and listed in `failed`.
   */
  async rotateCredentialKeys(): Promise<{ keyVersion: number; rotated: number; alreadyCurrent: number; failed: string[] }> {
    const version = this.vault.currentVersion;
    let rotated = 0;
    const failed: string[] = [];
    for (const { id: serviceId, credential } of await this.repo.credentialsNotAt(version)) {
      let next;
      try { next = this.vault.rewrap(serviceId, credential); } catch (err) {
        if (err instanceof TenancyError && err.code === TenancyErrorCode.CREDENTIALS_UNREADABLE) { failed.push(serviceId); continue; }
        throw err;
      }
      if (await this.repo.replaceCredential(serviceId, credential, next)) rotated += 1;
    }
    return { keyVersion: version, rotated, alreadyCurrent: (await this.repo.countCredentialsAt(version)) - rotated, failed };
  }

  /**
   * Returns the token once; only its hash is kept. `scopes`: `read:events,write:policy` (default: every scope,
   * as tokens had before scopes). `expiresIn` (`90d`) or `expiresAt` (ISO 8601): see expiry.ts; neither: never expires.
   */
  async createToken(projectId: string, tokenName: string, databaseRole: string,
    opts: { scopes?: string; expiresIn?: string; expiresAt?: string } = {}): Promise<{ id: string; token: string } & TokenRecord> {
    const project = id(projectId, 'project id');
    if (!ROLE.test(databaseRole)) throw invalid('database role must be a plain PostgreSQL role name (letters, digits, _ and $; at most 63)');
    const scopes = scopesOf(opts.scopes);
    const expiry = tokenExpiry({ expiresIn: opts.expiresIn, expiresAt: opts.expiresAt }, new Date(this.now()));
    if ('problem' in expiry) throw invalid(expiry.problem);
    const checkedName = name(tokenName, 'token name');
    if (!(await this.repo.projectExists(project))) throw noProject(project);
    const token = generateToken();
    const created = await this.repo.createToken(project, checkedName, databaseRole, hashToken(token), scopes, expiry.expiresAt);
    return { ...created, token };
  }

  /** The project's tokens (never a secret or its hash), oldest first. */
  async listTokens(projectId: string): Promise<TokenRecord[]> {
    const project = id(projectId, 'project id');
    if (!(await this.repo.projectExists(project))) throw noProject(project);
    return this.repo.listTokens(project);
  }

  /**
   * Revokes a token: every gateway process refuses it within its auth cache time (AUTH_CACHE_TTL_MS).
   * Idempotent: revoking a revoked token changes nothing and says so (`revokedNow: false`).
   */
  async revokeToken(tokenId: string): Promise<{ token: TokenRecord; revokedNow: boolean }> {
    const tid = id(tokenId, 'token id');
    const revoked = await this.repo.revokeToken(tid);
    if (!revoked) throw new TenancyError(TenancyErrorCode.TOKEN_NOT_FOUND, `token ${tid} does not exist`);
    return revoked;
  }

  async setProPlatform(organizationId: string, value: boolean): Promise<void> {
    if (!(await this.repo.setProPlatform(id(organizationId, 'organization id'), value))) {
      throw noOrganization(organizationId);
    }
  }

  async setProFeatures(projectId: string, value: boolean): Promise<void> {
    if (!(await this.repo.setProFeatures(id(projectId, 'project id'), value))) {
      throw noProject(projectId);
    }
  }

  /**
   * A plan change and what must happen with it, in ONE gateway transaction (the audit-policy module's lapse
   * jobs: a lapse is never recorded without them, nor they without it). `then` gets the transaction and the
   * organization / project; its result is returned. Refused like setProPlatform / setProFeatures.
   */
  async setProPlatformWith<T>(organizationId: string, value: boolean, then: (tx: TenancyTx, org: PlanOwner) => Promise<T>, timeoutMs: number): Promise<T> {
    const done = await this.repo.setProPlatformWith(id(organizationId, 'organization id'), value, then, timeoutMs);
    if (!done) throw noOrganization(organizationId);
    return done.result;
  }

  async setProFeaturesWith<T>(projectId: string, value: boolean, then: (tx: TenancyTx, project: PlanOwner) => Promise<T>, timeoutMs: number): Promise<T> {
    const done = await this.repo.setProFeaturesWith(id(projectId, 'project id'), value, then, timeoutMs);
    if (!done) throw noProject(projectId);
    return done.result;
  }

  /**
   * Who the token is, or null: unknown, revoked and expired tokens alike (the caller cannot tell them
   * apart). The expiry is checked here on every call, so a cached identity never outlives its token.
   */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const principal = await this.principals.get(hash, () => this.repo.principalByTokenHash(hash));
    return principal && !isExpired(principal.expiresAt, this.now()) ? principal : null;
  }

  /** An operator's lookup (ingester): no caller, so no tenant restriction. */
  async serviceById(serviceId: string): Promise<ServiceRecord | null> {
    return isUuid(serviceId) ? this.repo.serviceById(serviceId.toLowerCase()) : null;
  }

  /**
   * The read path's check (audit events): the service's id if it belongs to the caller's project;
   * cached (see the constructor), since it carries no plan or connection. Throws SERVICE_NOT_FOUND as serviceFor.
   */
  async visibleServiceId(principal: Principal, serviceId: string): Promise<string> {
    const id = isUuid(serviceId) ? serviceId.toLowerCase() : null;
    const visible = id && await this.visible.get(`${principal.projectId}/${id}`, async () => (await this.repo.serviceVisibleTo(principal, id))?.id ?? null);
    if (!visible) throw serviceNotFound();
    return visible;
  }

  /**
   * A page of the caller's project's services, (name, id) order, after the service `afterId`, with the project's
   * service count, in one query (TenancyRepository.servicePage; `related`: what else it brings per service). Only
   * the caller's project: the restriction is part of the query. `first`: 1 to MAX_SERVICE_PAGE.
   */
  async servicePage(principal: Principal, first: number, afterId: string | null, related: Parameters<TenancyRepository['servicePage']>[3]) {
    if (!Number.isInteger(first) || first < 1 || first > MAX_SERVICE_PAGE) throw invalid(`first must be 1 to ${MAX_SERVICE_PAGE}`);
    if (afterId !== null && !isUuid(afterId)) throw invalid('after is not a cursor of this list');
    return this.repo.servicePage(principal.projectId, first, afterId?.toLowerCase() ?? null, related);
  }

  /** The caller's service; SERVICE_NOT_FOUND for an unknown id and for another tenant's service alike: callers cannot tell them apart. */
  async serviceFor(principal: Principal, serviceId: string): Promise<ServiceRecord> {
    const service = isUuid(serviceId) ? await this.repo.serviceVisibleTo(principal, serviceId.toLowerCase()) : null;
    if (!service) throw serviceNotFound();
    return service;
  }
}
