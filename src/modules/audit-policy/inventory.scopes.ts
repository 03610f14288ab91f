/**
 * Every scope of a live server that holds pgaudit settings, however they were set (through the gateway or by
 * hand): the service (configuration files and ALTER SYSTEM), each database (ALTER DATABASE ... SET), each role
 * (ALTER ROLE ... SET) and each role in a database (ALTER ROLE ... IN DATABASE ... SET). Pure: built from what
 * target.session.ts reads and from the gateway's policy rows.
 */
import { AuditSettingsValue, gucTextMatches, PGAUDIT_GUCS, PgauditGuc, settingsFromGucs } from './settings/settings.model';

export enum AuditScopeKind {
  SERVICE = 'SERVICE',
  DATABASE = 'DATABASE',
  ROLE = 'ROLE',
  ROLE_IN_DATABASE = 'ROLE_IN_DATABASE',
}

/** The most scopes one answer lists (the service first, then databases, roles, roles in databases; each by name). */
export const MAX_SCOPES = 1000;

/** One row of pg_db_role_setting as target.session.ts reads it: '' = no database (a role's) / no role (a database's). */
export interface RoleDatabaseSetting { database: string; role: string; entries: readonly string[] }

/** A gateway policy row: its scope ('' = none; `role` absent before policies had roles), id and state. */
export interface ScopePolicy { id: string; database: string; role?: string | null; enabled: boolean }

export interface ScopeValue { setting: string; value: string }

export interface ScopeView {
  kind: AuditScopeKind;
  database: string | null;
  role: string | null;
  values: ScopeValue[];
  /** the scope's effective settings (the levels below it overlaid: service < database < role < role in database); null if a value does not parse */
  settings: AuditSettingsValue | null;
  managed: boolean;
  policyId: string | null;
}

/** The one key of a scope, for the server's scopes and the gateway's policies alike: '' = no database / no role. */
export function scopeKey(database: string, role: string): string {
  return JSON.stringify([database, role]);
}

export function kindOf(database: string, role: string): AuditScopeKind {
  if (database && role) return AuditScopeKind.ROLE_IN_DATABASE;
  if (database) return AuditScopeKind.DATABASE;
  if (role) return AuditScopeKind.ROLE;
  return AuditScopeKind.SERVICE;
}

/** The pgaudit entries of a setconfig array (`name=value`), by lower-case name; every other entry is left out. */
export function pgauditEntries(entries: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq).toLowerCase();
    if (name.startsWith('pgaudit.')) out.set(name, entry.slice(eq + 1));
  }
  return out;
}

/** The service-level values that differ from pgaudit's boot values (`defaults`, fitted to the server); a value that does not parse differs. */
export function serviceScopeValues(serviceValues: ReadonlyMap<string, string>, defaults: AuditSettingsValue): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of serviceValues) {
    const known = (PGAUDIT_GUCS as readonly string[]).includes(name);
    if (!known || !gucTextMatches(name as PgauditGuc, value, defaults)) out.set(name, value);
  }
  return out;
}

/** The values in PGAUDIT_GUCS order, then any other pgaudit.* name (a server's own additions) by name. */
export function orderedValues(values: ReadonlyMap<string, string>): ScopeValue[] {
  const known = PGAUDIT_GUCS.filter((g) => values.has(g));
  const others = [...values.keys()].filter((n) => !(PGAUDIT_GUCS as readonly string[]).includes(n)).sort();
  return [...known, ...others].map((setting) => ({ setting, value: values.get(setting)! }));
}

function parsed(values: ReadonlyMap<string, string>): AuditSettingsValue | null {
  try { return settingsFromGucs(values); } catch { return null; }
}

/**
 * The scopes, in order: the service (if any of its values differs from pgaudit's boot values), then `settings`
 * (pg_db_role_setting rows, already in the order databases, roles, roles in databases), at most MAX_SCOPES.
 * `managed`: an enabled gateway policy exists for exactly that scope; `policyId`: the gateway's policy of that
 * scope (enabled or not), if it has one.
 */
export function buildScopes(input: {
  serviceValues: ReadonlyMap<string, string>;
  defaults: AuditSettingsValue;
  settings: readonly RoleDatabaseSetting[];
  policies: readonly ScopePolicy[];
}): ScopeView[] {
  const policies = new Map(input.policies.map((p) => [scopeKey(p.database, p.role ?? ''), p]));
  const own = new Map<string, Map<string, string>>();
  for (const s of input.settings) {
    const values = pgauditEntries(s.entries);
    if (values.size > 0) own.set(scopeKey(s.database, s.role), values);
  }
  const service = serviceScopeValues(input.serviceValues, input.defaults);
  const scopes: [string, string, Map<string, string>][] = [];
  if (service.size > 0) scopes.push(['', '', service]);
  for (const s of input.settings) {
    const values = own.get(scopeKey(s.database, s.role));
    if (values && s.database + s.role !== '') scopes.push([s.database, s.role, values]);
  }
  return scopes.slice(0, MAX_SCOPES).map(([database, role, values]) => {
    // PostgreSQL's precedence: role in database > role > database > the server's configuration
    const layers: ReadonlyMap<string, string>[] = [input.serviceValues];
    if (database) layers.push(own.get(scopeKey(database, '')) ?? new Map());
    if (role) layers.push(own.get(scopeKey('', role)) ?? new Map());
    if (database && role) layers.push(values);
    else if (database || role) layers[layers.length - 1] = values;
    const policy = policies.get(scopeKey(database, role));
    return {
      kind: kindOf(database, role), database: database || null, role: role || null, values: orderedValues(values),
      settings: parsed(new Map(layers.flatMap((l) => [...l]))),
      managed: policy?.enabled ?? false, policyId: policy?.id ?? null,
    };
  });
}
