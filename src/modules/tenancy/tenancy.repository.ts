/** The tenant registry in the gateway database. The only tenancy code that talks to Prisma. */
import type { Db } from '../../base/db/prisma';
import { Prisma } from '../../generated/prisma/client';
import type { Principal } from './principal';
import type { SealedCredential } from './service-credential';
import { knownScopes, Scope } from './scope';

/** A token as `admin list-tokens` shows it: never the secret, never its hash. */
export interface TokenRecord {
  id: string;
  name: string;
  projectId: string;
  databaseRole: string;
  scopes: Scope[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** A gateway-database transaction, as a plan change hands it to what must happen in the same transaction. */
export type TenancyTx = Prisma.TransactionClient;

/** What a plan change changed: the organization or project, by id and name. */
export interface PlanOwner { id: string; name: string }

const TOKEN_FIELDS = { id: true, name: true, projectId: true, databaseRole: true, scopes: true, createdAt: true, expiresAt: true, revokedAt: true } as const;
const tokenRecord = (t: Omit<TokenRecord, 'scopes'> & { scopes: string[] }): TokenRecord => ({ ...t, scopes: knownScopes(t.scopes) });

export interface ServiceRecord {
  id: string;
  name: string;
  projectId: string;
  /**
   * The connection URL (the service's admin role and password), sealed: only the target connector opens it,
   * for the session it opens (service-credential.ts). Never logged or returned, sealed or not.
   */
  credential: SealedCredential;
  proFeatures: boolean;
  organizationId: string;
  proPlatform: boolean;
}

export class TenancyRepository {
  constructor(private readonly db: Db) {}

  async createOrganization(name: string, proPlatform: boolean): Promise<{ id: string }> {
    return this.db.organization.create({ data: { name, proPlatform }, select: { id: true } });
  }

  async createProject(organizationId: string, name: string, proFeatures: boolean): Promise<{ id: string }> {
    return this.db.project.create({ data: { organizationId, name, proFeatures }, select: { id: true } });
  }

  /** null when the project already has a service of that name. `id` is chosen by the caller: the credential is sealed to it. */
  async registerService(id: string, projectId: string, name: string, credential: SealedCredential): Promise<{ id: string } | null> {
    try {
      return await this.db.service.create({ data: { id, projectId, name, ...credentialColumns(credential) }, select: { id: true } });
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002') return null;
      throw err;
    }
  }

  async createToken(projectId: string, name: string, databaseRole: string, tokenHash: string,
    scopes: readonly Scope[], expiresAt: Date | null): Promise<TokenRecord> {
    return tokenRecord(await this.db.apiToken.create({ data: { projectId, name, databaseRole, tokenHash, scopes: [...scopes], expiresAt }, select: TOKEN_FIELDS }));
  }

  /** The project's tokens, oldest first. */
  async listTokens(projectId: string): Promise<TokenRecord[]> {
    const rows = await this.db.apiToken.findMany({ where: { projectId }, select: TOKEN_FIELDS, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(tokenRecord);
  }

  /**
   * Sets revoked_at once (a second revocation keeps the first time); null for an unknown id.
   * `revokedNow`: whether this call revoked it.
   */
  async revokeToken(id: string): Promise<{ token: TokenRecord; revokedNow: boolean } | null> {
    const { count } = await this.db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    const token = await this.db.apiToken.findUnique({ where: { id }, select: TOKEN_FIELDS });
    return token ? { token: tokenRecord(token), revokedNow: count === 1 } : null;
  }

  async organizationExists(id: string): Promise<boolean> {
    return (await this.db.organization.count({ where: { id } })) > 0;
  }

  async projectExists(id: string): Promise<boolean> {
    return (await this.db.project.count({ where: { id } })) > 0;
  }

  async setProPlatform(organizationId: string, proPlatform: boolean): Promise<boolean> {
    const { count } = await this.db.organization.updateMany({ where: { id: organizationId }, data: { proPlatform } });
    return count === 1;
  }

  async setProFeatures(projectId: string, proFeatures: boolean): Promise<boolean> {
    const { count } = await this.db.project.updateMany({ where: { id: projectId }, data: { proFeatures } });
    return count === 1;
  }

  /**
   * Sets the flag and runs `then` in the same transaction (what a lapse writes: lapse jobs); null, with nothing
   * done, when there is no such organization.
   */
  async setProPlatformWith<T>(organizationId: string, proPlatform: boolean, then: (tx: TenancyTx, org: PlanOwner) => Promise<T>,
    timeoutMs: number): Promise<{ result: T } | null> {
    return this.db.$transaction(async (tx) => {
      const [org] = await tx.$queryRaw<PlanOwner[]>`UPDATE organization SET pro_platform = ${proPlatform}
        WHERE id = ${organizationId}::uuid RETURNING id::text AS id, name`;
      return org ? { result: await then(tx, org) } : null;
    }, { timeout: timeoutMs, maxWait: timeoutMs });
  }

  /** As setProPlatformWith, for a project's Pro Features. */
  async setProFeaturesWith<T>(projectId: string, proFeatures: boolean, then: (tx: TenancyTx, project: PlanOwner) => Promise<T>,
    timeoutMs: number): Promise<{ result: T } | null> {
    return this.db.$transaction(async (tx) => {
      const [project] = await tx.$queryRaw<PlanOwner[]>`UPDATE project SET pro_features = ${proFeatures}
        WHERE id = ${projectId}::uuid RETURNING id::text AS id, name`;
      return project ? { result: await then(tx, project) } : null;
    }, { timeout: timeoutMs, maxWait: timeoutMs });
  }

  async principalByTokenHash(tokenHash: string): Promise<Principal | null> {
    const token = await this.db.apiToken.findUnique({
      where: { tokenHash },
      select: { id: true, name: true, databaseRole: true, revokedAt: true, expiresAt: true, scopes: true,
        project: { select: { id: true, organizationId: true } } },
    });
    if (!token || token.revokedAt) return null;
    return { tokenId: token.id, tokenName: token.name, databaseRole: token.databaseRole,
      projectId: token.project.id, organizationId: token.project.organizationId,
      scopes: knownScopes(token.scopes), expiresAt: token.expiresAt };
  }

  /** The service, only if it belongs to the principal's project: tenant isolation is in the query itself. */
  serviceVisibleTo(principal: Principal, serviceId: string): Promise<ServiceRecord | null> {
    return this.findService({ id: serviceId, projectId: principal.projectId });
  }

  /** For operator processes (the ingester), which act for one configured service, not for a caller. */
  serviceById(serviceId: string): Promise<ServiceRecord | null> {
    return this.findService({ id: serviceId });
  }

  /** Services whose credential is wrapped under another master key version than `version` (what rotation moves). */
  async credentialsNotAt(version: number): Promise<{ id: string; credential: SealedCredential }[]> {
    const rows = await this.db.service.findMany({ where: { credentialKeyVersion: { not: version } }, select: { id: true, ...CREDENTIAL_SELECT }, orderBy: { id: 'asc' } });
    return rows.map((r) => ({ id: r.id, credential: credentialOf(r) }));
  }

  async countCredentialsAt(version: number): Promise<number> {
    return this.db.service.count({ where: { credentialKeyVersion: version } });
  }

  /**
   * Replaces a service's credential, only if it is still wrapped under `fromVersion` with the same wrapped key
   * (a concurrent rotation that got there first wins; false then).
   */
  async replaceCredential(id: string, from: SealedCredential, to: SealedCredential): Promise<boolean> {
    const { count } = await this.db.service.updateMany({
      where: { id, credentialKeyVersion: from.keyVersion, credentialWrappedKey: { equals: new Uint8Array(from.wrappedKey) } },
      data: credentialColumns(to),
    });
    return count === 1;
  }

  private async findService(where: { id: string; projectId?: string }): Promise<ServiceRecord | null> {
    const s = await this.db.service.findFirst({
      where,
      select: { id: true, name: true, projectId: true, ...CREDENTIAL_SELECT,
        project: { select: { proFeatures: true, organization: { select: { id: true, proPlatform: true } } } } },
    });
    if (!s) return null;
    return { id: s.id, name: s.name, projectId: s.projectId, credential: credentialOf(s),
      proFeatures: s.project.proFeatures, organizationId: s.project.organization.id,
      proPlatform: s.project.organization.proPlatform };
  }

  // ---- a project's services, a page at a time (the inventory: audit-policy/policy.inventory.ts) ----------------

  /**
   * One page of the project's services in (name, id) order, after the service `afterId` (keyset: the page goes on
   * from that service's place in the order; an id that is not one of the project's services gives an empty page),
   * with the project's service count, in ONE SQL statement. `related`: a scalar subquery over the page's row
   * `page` (`page.id` is the service id) that another module's repository adds, e.g. each service's policies as
   * JSON (policy.repository.ts); returned as `related` beside the record. One row more than asked tells if there
   * is a next page. The project restriction is part of the query.
   */
  async servicePage(projectId: string, first: number, afterId: string | null, related: Prisma.Sql | null)
    : Promise<{ rows: { service: ServiceRecord; related: unknown }[]; hasNextPage: boolean; totalCount: number }> {
    const rows = await this.db.$queryRaw<(Partial<PageRow> & { total: number; related: unknown })[]>`
      WITH page AS (
        SELECT s.id, s.name, s.project_id, s.credential_ciphertext, s.credential_nonce, s.credential_wrapped_key,
               s.credential_key_nonce, s.credential_key_version, p.pro_features, p.organization_id, o.pro_platform
          FROM service s JOIN project p ON p.id = s.project_id JOIN organization o ON o.id = p.organization_id
         WHERE s.project_id = ${projectId}::uuid
           AND (${afterId}::uuid IS NULL OR (s.name, s.id) >
                (SELECT a.name, a.id FROM service a WHERE a.id = ${afterId}::uuid AND a.project_id = ${projectId}::uuid))
         ORDER BY s.name, s.id
         LIMIT ${first + 1})
      SELECT c.total, page.id::text AS id, page.name, page.project_id::text AS project_id, page.credential_ciphertext,
             page.credential_nonce, page.credential_wrapped_key, page.credential_key_nonce, page.credential_key_version,
             page.pro_features, page.organization_id::text AS organization_id, page.pro_platform,
             ${related ?? Prisma.sql`NULL`} AS related
        FROM (SELECT count(*)::int AS total FROM service WHERE project_id = ${projectId}::uuid) c
        LEFT JOIN page ON true
       ORDER BY page.name, page.id`;
    const services = rows.filter((r): r is PageRow & { total: number; related: unknown } => typeof r.id === 'string');
    return {
      rows: services.slice(0, first).map((r) => ({ service: pageRecordOf(r), related: r.related })),
      hasNextPage: services.length > first,
      totalCount: rows[0]?.total ?? 0,
    };
  }
}

/** A row of servicePage's page, as PostgreSQL names its columns. */
interface PageRow {
  id: string; name: string; project_id: string; credential_ciphertext: Uint8Array; credential_nonce: Uint8Array;
  credential_wrapped_key: Uint8Array; credential_key_nonce: Uint8Array; credential_key_version: number;
  pro_features: boolean; organization_id: string; pro_platform: boolean;
}

function pageRecordOf(r: PageRow): ServiceRecord {
  return { id: r.id, name: r.name, projectId: r.project_id,
    credential: credentialOf({ credentialCiphertext: r.credential_ciphertext, credentialNonce: r.credential_nonce,
      credentialWrappedKey: r.credential_wrapped_key, credentialKeyNonce: r.credential_key_nonce, credentialKeyVersion: r.credential_key_version }),
    proFeatures: r.pro_features, organizationId: r.organization_id, proPlatform: r.pro_platform };
}

const CREDENTIAL_SELECT = { credentialCiphertext: true, credentialNonce: true, credentialWrappedKey: true, credentialKeyNonce: true, credentialKeyVersion: true } as const;


interface CredentialColumns { credentialCiphertext: Uint8Array; credentialNonce: Uint8Array; credentialWrappedKey: Uint8Array; credentialKeyNonce: Uint8Array; credentialKeyVersion: number }

function credentialOf(row: CredentialColumns): SealedCredential {
  return { keyVersion: row.credentialKeyVersion, wrappedKey: Buffer.from(row.credentialWrappedKey), keyNonce: Buffer.from(row.credentialKeyNonce),
    ciphertext: Buffer.from(row.credentialCiphertext), nonce: Buffer.from(row.credentialNonce) };
}

function credentialColumns(c: SealedCredential) {
  return { credentialCiphertext: new Uint8Array(c.ciphertext), credentialNonce: new Uint8Array(c.nonce), credentialWrappedKey: new Uint8Array(c.wrappedKey),
    credentialKeyNonce: new Uint8Array(c.keyNonce), credentialKeyVersion: c.keyVersion };
}
