/**
 * Bootstrapping tenants (CLI `admin` commands) and resolving callers (GraphQL context).
 * Input is checked here so that every entry point refuses the same things with the same words.
 */
import { randomUUID } from 'node:crypto';
import { TenancyRepository, ServiceRecord } from './tenancy.repository';
import type { CredentialVault } from './service-credential';
import { generateToken, hashToken } from './token';
import type { Principal } from './principal';
import { TenancyError, TenancyErrorCode } from './tenancy.errors';
import { TtlCache } from './ttl-cache';

const invalid = (message: string) => new TenancyError(TenancyErrorCode.INVALID_INPUT, message);
const noOrganization = (id: string) => new TenancyError(TenancyErrorCode.ORGANIZATION_NOT_FOUND, `organization ${id} does not exist`);
const noProject = (id: string) => new TenancyError(TenancyErrorCode.PROJECT_NOT_FOUND, `project ${id} does not exist`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string): boolean => UUID.test(id);

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

export class TenancyService {
  private readonly principals: TtlCache<Principal>;
  private readonly visible: TtlCache<string>;

  /**
   * `authCacheTtlMs`: how long a token's identity, and a service's membership of a project, are reused
   * without asking the database (a token revoked in the database stops working within that time; services
   * never move between projects). 0 asks every time.
   */
  constructor(private readonly repo: TenancyRepository, private readonly vault: CredentialVault, opts: { authCacheTtlMs?: number } = {}) {
    this.principals = new TtlCache(opts.authCacheTtlMs ?? 0);
    this.visible = new TtlCache(opts.authCacheTtlMs ?? 0);
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

  /** Returns the token once; only its hash is kept. */
  async createToken(projectId: string, tokenName: string, databaseRole: string): Promise<{ id: string; token: string }> {
    const project = id(projectId, 'project id');
    if (!ROLE.test(databaseRole)) throw invalid('database role must be a plain PostgreSQL role name (letters, digits, _ and $; at most 63)');
    if (!(await this.repo.projectExists(project))) throw noProject(project);
    const token = generateToken();
    const created = await this.repo.createToken(project, name(tokenName, 'token name'), databaseRole, hashToken(token));
    return { id: created.id, token };
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

  authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    return this.principals.get(hash, () => this.repo.principalByTokenHash(hash));
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

  /** The caller's service; SERVICE_NOT_FOUND for an unknown id and for another tenant's service alike: callers cannot tell them apart. */
  async serviceFor(principal: Principal, serviceId: string): Promise<ServiceRecord> {
    const service = isUuid(serviceId) ? await this.repo.serviceVisibleTo(principal, serviceId.toLowerCase()) : null;
    if (!service) throw serviceNotFound();
    return service;
  }
}
