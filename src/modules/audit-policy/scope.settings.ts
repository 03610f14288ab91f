/**
 * What a scope holds on a live server, read on one target session: its own entries, and what a session in it
 * gets with every layer PostgreSQL applies (service < database < role < role in database). Used by the apply
 * protocol (plan, read-back, restore), the policy view and drift.
 */
import { Scope } from './apply.plan';
import { layeredSettings, layersOf } from './policy.change';
import { AuditSettingsValue, gucBelowService, PgauditGuc } from './settings/settings.model';
import type { TargetSession } from './target/target.session';

/** What one scope holds explicitly: for the service, its effective service-level values (postgresql.conf + ALTER SYSTEM). */
export function explicitSettings(session: TargetSession, scope: Scope): Promise<Map<string, string>> {
  switch (scope.kind) {
    case 'service': return session.serviceSettings();
    case 'database': return session.roleSettings(scope.database, null);
    case 'role': return session.roleSettings(null, scope.role);
    case 'roleInDatabase': return session.roleSettings(scope.database, scope.role);
  }
}

/** What the scope must put back on failure: postgresql.auto.conf for the service, its own entries below it. */
export function restorableSettings(session: TargetSession, scope: Scope): Promise<Map<string, string>> {
  return scope.kind === 'service' ? session.systemSettings() : explicitSettings(session, scope);
}

/** The settings a session in `scope` gets now: every layer, the scope's own last. */
export function scopeSettings(session: TargetSession, scope: Scope): Promise<AuditSettingsValue> {
  return layered(session, scope, layersOf(scope));
}

/** The settings a session in `scope` would get without the scope's own entries (what a RESET there leaves). */
export function inheritedSettings(session: TargetSession, scope: Scope): Promise<AuditSettingsValue> {
  return layered(session, scope, layersOf(scope).slice(0, -1));
}

/**
 * scopeSettings and inheritedSettings together, from ONE read of each layer: what to compare when a scope must
 * hold nothing of its own (a RESET read back, drift of a disabled narrower policy). Read apart, each reads the
 * layers above again, and another change may move one in between (a service-level policy's ALTER SYSTEM RESET
 * shows in pg_file_settings at once, and in the session after the reload): the two views then differ although
 * the scope holds nothing, and a RESET that took effect looked failed (APPLY_FAILED, undone). Only the scope's
 * own entries can make these two differ.
 */
export async function scopeAndInheritedSettings(session: TargetSession, scope: Scope)
  : Promise<{ settings: AuditSettingsValue; inherited: AuditSettingsValue }> {
  const layers = await readLayers(session, scope, layersOf(scope));
  return { settings: layeredSettings(layers), inherited: layeredSettings(layers.slice(0, -1)) };
}

/** The layers `from` merged as seen from `scope`. */
async function layered(session: TargetSession, scope: Scope, from: readonly Scope[]): Promise<AuditSettingsValue> {
  return layeredSettings(await readLayers(session, scope, from));
}

/**
 * The layers `from` as seen from `scope`, outermost first. Below the service, the service level's session-logging
 * switches are left out (their defaults show): a database or role policy cannot hold them, so they are never its settings.
 */
async function readLayers(session: TargetSession, scope: Scope, from: readonly Scope[]): Promise<Map<string, string>[]> {
  const layers: Map<string, string>[] = [];
  for (const s of from) {
    const own = await explicitSettings(session, s);
    layers.push(scope.kind === 'service' ? own : new Map([...own].filter(([g]) => gucBelowService(g as PgauditGuc))));
  }
  return layers;
}
