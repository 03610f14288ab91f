/**
 * A connection to a target PostgreSQL service, opened per operation with the service's admin URL.
 * Everything read here uses bind parameters; the only SQL text built from input comes from
 * apply.plan.ts, which quotes every identifier and literal.
 * Errors never carry the connection URL: a connection failure becomes SERVICE_UNREACHABLE (audit-policy.errors.ts).
 */
import { Client } from 'pg';
import { pgauditEntries } from '../inventory.scopes';
import { gucBelowService, PGAUDIT_GUCS, PgauditGuc, SESSION_LOG_GUCS } from '../settings/settings.model';
import type { TargetTls } from '../../../base/config';
import { AuditErrorCode, refuse, unreachable } from '../audit-policy.errors';
import { quoteIdent } from '../sql/quote';
import { targetConnection, tlsFailure } from './target.tls';

export interface TargetOptions { connectTimeoutMs: number; statementTimeoutMs: number; lockTimeoutMs: number; tls: TargetTls }

/** The live facts the entitlement checks and the settings validation depend on. */
export interface ServerFacts {
  serverVersionNum: number;
  serverVersion: string;
  currentUser: string;
  /** null when there is no avnadmin role on the server. */
  avnadminSuperuser: boolean | null;
  /** pgaudit is in shared_preload_libraries and its GUCs are registered. */
  pgauditLoaded: boolean;
  /** The pgaudit extension can be created (its control file is installed). */
  pgauditAvailable: boolean;
  /** pgaudit GUC names this server's pgaudit really has (pg_settings). */
  gucs: ReadonlySet<string>;
}

/** The same URL pointing at another database (pg lets the URL win over a separate `database` option). */
export function withDatabase(connectionUrl: string, database: string): string {
  const url = new URL(connectionUrl);
  url.pathname = '/' + encodeURIComponent(database);
  return url.toString();
}

export class TargetSession {
  private actingAs: string | null = null;
  private lost = false;

  private constructor(private readonly client: Client) {
    // a dropped connection surfaces on the next query; a lease then opens a new one
    client.on('error', () => { this.lost = true; });
    client.on('end', () => { this.lost = true; });
  }

  /** The connection dropped (or was closed): no further query can run on it. */
  get broken(): boolean { return this.lost; }

  static async open(connectionUrl: string, opts: TargetOptions, database?: string): Promise<TargetSession> {
    let target: ReturnType<typeof targetConnection>;
    try {
      target = targetConnection(database ? withDatabase(connectionUrl, database) : connectionUrl, opts.tls);
    } catch {
      throw unreachable();   // a URL that does not parse (URL errors carry their input: never kept as a cause)
    }
    const client = new Client({
      connectionString: target.connectionString,
      ssl: target.ssl,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs,
      lock_timeout: opts.lockTimeoutMs,
      application_name: 'pg-audit-gateway',
    });
    client.on('error', () => undefined); // until connected: the failure is connect()'s
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      const tls = tlsFailure(err, target.mode);
      if (tls) throw Object.assign(refuse(AuditErrorCode.SERVICE_TLS_FAILED, `${tls}; nothing was changed`, ['input', 'serviceId']), { cause: err });
      // the cause is kept (never shown: the message stays the fixed one) so a recorder can tell refused from unreachable
      throw Object.assign(unreachable(), { cause: err });
    }
    return new TargetSession(client);
  }

  async close(): Promise<void> { this.lost = true; await this.client.end().catch(() => undefined); }

  /** Back to the connecting role after actAs(), so that the next borrower of the connection starts as the first did. */
  async resetRole(): Promise<void> {
    if (this.actingAs === null || this.lost) return;
    await this.client.query('RESET ROLE');
    this.actingAs = null;
  }

  /** What the four entitlement checks need of the server, in one round trip (no catalog scans: a page of services reads it for each). */
  async entitlementFacts(): Promise<Pick<ServerFacts, 'serverVersionNum' | 'serverVersion' | 'avnadminSuperuser'>> {
    const { rows: [row] } = await this.client.query<{ version_num: string; version: string; avnadmin_super: boolean | null }>(
      `SELECT current_setting('server_version_num') AS version_num, current_setting('server_version') AS version,
              (SELECT rolsuper FROM pg_roles WHERE rolname = 'avnadmin') AS avnadmin_super`);
    return { serverVersionNum: Number(row!.version_num), serverVersion: row!.version, avnadminSuperuser: row!.avnadmin_super };
  }

  async facts(): Promise<ServerFacts> {
    const { rows: [row] } = await this.client.query<{
      version_num: string; version: string; current_user: string; avnadmin_super: boolean | null;
      preload: string | null;
    }>(`SELECT current_setting('server_version_num') AS version_num,
               current_setting('server_version') AS version,
               current_user,
               (SELECT rolsuper FROM pg_roles WHERE rolname = 'avnadmin') AS avnadmin_super,
               (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS preload`);
    const { rows: gucRows } = await this.client.query<{ name: string }>(
      `SELECT name FROM pg_settings WHERE name LIKE 'pgaudit.%' OR name = ANY($1)`, [SESSION_LOG_GUCS]);
    const gucs = new Set(gucRows.map((r) => r.name));
    // shared_preload_libraries is hidden from roles without pg_read_all_settings (null): then the
    // registered pgaudit GUCs alone tell (pg_settings never lists placeholder variables).
    const preloaded = row!.preload === null
      || row!.preload.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).includes('pgaudit');
    // pg_available_extensions parses every control file: one unreadable file (e.g. a newer
    // PostgreSQL's syntax) fails the whole view. Then a loaded pgaudit library means it is installed.
    const available = await this.client.query<{ available: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit') AS available`)
      .then((r) => r.rows[0]!.available, () => preloaded && gucs.has('pgaudit.log'));
    return {
      serverVersionNum: Number(row!.version_num),
      serverVersion: row!.version,
      currentUser: row!.current_user,
      avnadminSuperuser: row!.avnadmin_super,
      pgauditLoaded: preloaded && gucs.has('pgaudit.log'),
      pgauditAvailable: available,
      gucs,
    };
  }

  /**
   * The service-level value of each pgaudit GUC: what a new connection gets from the server's
   * configuration (postgresql.conf + ALTER SYSTEM), ignoring database/role overrides that may apply
   * to this particular connection (those come from the configuration files instead). The session-logging
   * switches are ALTER SYSTEM's entries only (absent when it holds none): see the `sessionLog` kind.
   */
  async serviceSettings(): Promise<Map<string, string>> {
    const { rows } = await this.client.query<{ name: string; setting: string; source: string; boot_val: string; file_value: string | null }>(
      `SELECT s.name, s.setting, s.source, s.boot_val,
              (SELECT f.setting FROM pg_file_settings f
                WHERE f.name = s.name AND f.applied ORDER BY f.seqno DESC LIMIT 1) AS file_value
         FROM pg_settings s WHERE s.name = ANY($1) AND NOT s.name = ANY($2)`, [PGAUDIT_GUCS as readonly string[], SESSION_LOG_GUCS]);
    const overridden = new Set(['database', 'user', 'database user', 'session', 'client']);
    const values = new Map(rows.map((r) => [r.name, overridden.has(r.source) ? (r.file_value ?? r.boot_val) : r.setting]));
    for (const [name, value] of await this.systemSettings()) if (!gucBelowService(name as PgauditGuc)) values.set(name, value);
    return values;
  }

  /** The policy's GUCs ALTER SYSTEM has written (postgresql.auto.conf, the last entry of each): what a restore must put back. */
  async systemSettings(): Promise<Map<string, string>> {
    const { rows } = await this.client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_file_settings
        WHERE (name LIKE 'pgaudit.%' OR name = ANY($1)) AND sourcefile LIKE '%/postgresql.auto.conf' ORDER BY seqno`, [SESSION_LOG_GUCS]);
    return new Map(rows.map((r) => [r.name, r.setting]));
  }

  /** The pgaudit GUCs set on one database with ALTER DATABASE ... SET (role-independent entries only). */
  async databaseSettings(database: string): Promise<Map<string, string>> {
    return this.roleSettings(database, null);
  }

  /**
   * The pgaudit GUCs pg_db_role_setting holds for one entry: a database (role null: ALTER DATABASE d SET),
   * a role (database null: ALTER ROLE r SET) or a role in a database (ALTER ROLE r IN DATABASE d SET).
   * Empty when the database or role does not exist.
   */
  async roleSettings(database: string | null, role: string | null): Promise<Map<string, string>> {
    const { rows } = await this.client.query<{ entry: string }>(
      `SELECT unnest(s.setconfig) AS entry FROM pg_db_role_setting s
        WHERE s.setdatabase = CASE WHEN $1::text IS NULL THEN 0 ELSE (SELECT oid FROM pg_database WHERE datname = $1) END
          AND s.setrole = CASE WHEN $2::text IS NULL THEN 0 ELSE (SELECT oid FROM pg_roles WHERE rolname = $2) END`,
      [database, role]);
    return pgauditEntries(rows.map((r) => r.entry));
  }

  /**
   * Every database, role and role-in-database scope holding a pgaudit setting (pg_db_role_setting, whoever set
   * it): its setconfig entries (all of them; the caller picks the pgaudit ones), '' for no database / no role.
   * In the order databases, roles, roles in databases, each by name (byte order); at most `limit` rows.
   */
  async roleDatabaseSettings(limit: number): Promise<{ database: string; role: string; entries: string[] }[]> {
    const { rows } = await this.client.query<{ database: string; role: string; entries: string[] }>(
      `SELECT COALESCE(d.datname, '') AS database, COALESCE(r.rolname, '') AS role, s.setconfig AS entries
         FROM pg_db_role_setting s
         LEFT JOIN pg_database d ON d.oid = s.setdatabase
         LEFT JOIN pg_roles r ON r.oid = s.setrole
        WHERE (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL)
          AND EXISTS (SELECT 1 FROM unnest(s.setconfig) e WHERE lower(e) LIKE 'pgaudit.%')
        ORDER BY CASE WHEN s.setrole = 0 THEN 1 WHEN s.setdatabase = 0 THEN 2 ELSE 3 END,
                 COALESCE(d.datname, '') COLLATE "C", COALESCE(r.rolname, '') COLLATE "C"
        LIMIT $1`, [limit]);
    return rows;
  }

  /**
   * A database the policy may name: one that takes connections and is not a template. A template
   * (template1) is copied into every database created later, with pgaudit's extension and event triggers.
   */
  async databaseExists(database: string): Promise<boolean> {
    const { rowCount } = await this.client.query(
      `SELECT 1 FROM pg_database WHERE datname = $1 AND datallowconn AND NOT datistemplate`, [database]);
    return rowCount === 1;
  }

  /** Which of `names` are databases a policy may name (databaseExists), in one query. */
  async existingDatabases(names: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = ANY($1::text[]) AND datallowconn AND NOT datistemplate`, [names]);
    return new Set(rows.map((r) => r.datname));
  }

  /** A role a policy may name: it exists and is not one of PostgreSQL's predefined roles (pg_*, oid below FirstNormalObjectId). */
  async policyRoleExists(role: string): Promise<boolean> {
    const { rowCount } = await this.client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1 AND oid >= 16384`, [role]);
    return rowCount === 1;
  }

  async roleExists(role: string): Promise<boolean> {
    const { rowCount } = await this.client.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]);
    return rowCount === 1;
  }

  async extensionInstalled(): Promise<boolean> {
    const { rowCount } = await this.client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'`);
    return rowCount === 1;
  }

  /** Act as the caller's database role for what follows (a no-op when it is the connecting role). */
  async actAs(role: string): Promise<void> {
    this.actingAs = role;   // before the query: a SET that fails after reaching the server is reset anyway
    await this.client.query(`SET ROLE ${quoteIdent(role)}`);
  }

  /** A read with bind parameters only (objects/object-audit.catalog.ts keeps its catalog queries there). */
  async read<R extends Record<string, unknown>>(text: string, params: unknown[]): Promise<R[]> {
    return (await this.client.query<R>(text, params)).rows;
  }

  /** Run one statement produced by apply.plan.ts. */
  async run(statement: string): Promise<void> {
    await this.client.query(statement);
  }
}

/** Whether a failed open was the server answering no (authentication, too many connections, no such database) rather than no answer. */
export function refusedByServer(err: unknown): boolean {
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^\d[0-9A-Z]{4}$/.test(code);   // a SQLSTATE, which only a server sends
}
