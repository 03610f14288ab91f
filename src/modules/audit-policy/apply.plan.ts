/**
 * Which SQL statements bring one scope of a server from its current pgaudit settings to the desired
 * ones. Pure: no I/O. This is the only place SQL text is built from input; every database name and
 * every value goes through quoteIdent/quoteLiteral, and GUC names come from the fixed PGAUDIT_GUCS.
 */
import {
  AuditSettingsPatch, AuditSettingsValue, formatGuc, gucBelowService, gucTextMatches, parseGucValue, PgauditGuc, PGAUDIT_DEFAULTS,
  PGAUDIT_GUCS, SETTING_LIST,
} from './settings/settings.model';
import { quoteIdent, quoteLiteral } from './sql/quote';

/**
 * Where pgaudit settings live on a server, and how PostgreSQL layers them for a session (later wins):
 * service (postgresql.conf + ALTER SYSTEM) < database < role < role in database.
 */
export type Scope =
  | { kind: 'service' }
  | { kind: 'database'; database: string }
  | { kind: 'role'; role: string }
  | { kind: 'roleInDatabase'; role: string; database: string };

export const serviceScope: Scope = { kind: 'service' };

/** The scope a policy row (or a request) names: '' = not given. */
export function scopeOf(database: string, role = ''): Scope {
  if (role) return database ? { kind: 'roleInDatabase', role, database } : { kind: 'role', role };
  return database ? { kind: 'database', database } : serviceScope;
}

/** The scopes whose settings a session in `scope` inherits, outermost first (the scope itself excluded). */
export function parentScopes(scope: Scope): Scope[] {
  switch (scope.kind) {
    case 'service': return [];
    case 'database': return [serviceScope];
    case 'role': return [serviceScope];
    case 'roleInDatabase': return [serviceScope, { kind: 'database', database: scope.database },
      { kind: 'role', role: scope.role }];
  }
}

/** A scope in words, for messages and logs: `database "sales"`, `role "etl" in database "sales"`. */
export function describeScope(scope: Scope): string {
  switch (scope.kind) {
    case 'service': return 'the service';
    case 'database': return `database "${scope.database}"`;
    case 'role': return `role "${scope.role}"`;
    case 'roleInDatabase': return `role "${scope.role}" in database "${scope.database}"`;
  }
}

/** The GUCs a patch touches, in PGAUDIT_GUCS order. */
export function gucsOfPatch(patch: AuditSettingsPatch): PgauditGuc[] {
  const touched = new Set(SETTING_LIST.filter((d) => patch[d.field] !== undefined).map((d) => d.guc));
  return PGAUDIT_GUCS.filter((g) => touched.has(g));
}

/** A server text value in canonical form, or null if it cannot be parsed. (planSet compares typed values: gucTextMatches.) */
export function canonicalGucText(guc: PgauditGuc, text: string): string | null {
  const parsed = parseGucValue(guc, text);
  if (!parsed.ok) return null;
  return formatGuc({ ...PGAUDIT_DEFAULTS, ...parsed.value }, guc);
}

function target(scope: Scope): string {
  switch (scope.kind) {
    case 'service': return 'ALTER SYSTEM';
    case 'database': return `ALTER DATABASE ${quoteIdent(scope.database)}`;
    case 'role': return `ALTER ROLE ${quoteIdent(scope.role)}`;
    case 'roleInDatabase': return `ALTER ROLE ${quoteIdent(scope.role)} IN DATABASE ${quoteIdent(scope.database)}`;
  }
}

function finish(scope: Scope, statements: string[]): string[] {
  return scope.kind === 'service' && statements.length > 0 ? [...statements, 'SELECT pg_reload_conf()'] : statements;
}

/** Of `gucs`, those the server has and the scope may hold (the session-logging switches are the service level's). */
function gucsAt(scope: Scope, gucs: readonly PgauditGuc[], serverGucs: ReadonlySet<string>): PgauditGuc[] {
  return gucs.filter((g) => serverGucs.has(g) && (scope.kind === 'service' || gucBelowService(g)));
}

/**
 * SET each of `gucs` whose value at this scope (`current`: what the scope holds explicitly; for the
 * service scope, its effective values) differs from `desired`. GUCs the server lacks are skipped:
 * validation has already refused any non-default value for them. A GUC `desired` leaves unset (a
 * session-logging switch that is off) is RESET where the scope holds it.
 */
export function planSet(scope: Scope, current: ReadonlyMap<string, string>, desired: AuditSettingsValue,
  gucs: readonly PgauditGuc[], serverGucs: ReadonlySet<string>): string[] {
  const statements: string[] = [];
  for (const guc of gucsAt(scope, gucs, serverGucs)) {
    const value = formatGuc(desired, guc);
    const now = current.get(guc);
    if (value === null) {
      if (now !== undefined) statements.push(`${target(scope)} RESET ${guc}`);
      continue;
    }
    if (now !== undefined && gucTextMatches(guc, now, desired)) continue;
    statements.push(`${target(scope)} SET ${guc} = ${quoteLiteral(value)}`);
  }
  return finish(scope, statements);
}

/** RESET every pgaudit GUC the server has, at this scope: back to pgaudit's defaults (or, below the service, to what the scope inherits). */
export function planReset(scope: Scope, serverGucs: ReadonlySet<string>): string[] {
  return finish(scope, gucsAt(scope, PGAUDIT_GUCS, serverGucs).map((g) => `${target(scope)} RESET ${g}`));
}

/** Statements that put `gucs` back to what the scope held before (`before`: explicit values; absent = RESET). */
export function planRestore(scope: Scope, before: ReadonlyMap<string, string>, gucs: readonly PgauditGuc[],
  serverGucs: ReadonlySet<string>): string[] {
  const statements = gucsAt(scope, gucs, serverGucs).map((g) => {
    const value = before.get(g);
    return value === undefined ? `${target(scope)} RESET ${g}` : `${target(scope)} SET ${g} = ${quoteLiteral(value)}`;
  });
  return finish(scope, statements);
}
