/**
 * The vocabulary of one change to a policy (enable, configure, disable): what a caller asks, what it gets back,
 * and the context the steps of a change share once the policy row is locked. Pure helpers only; no I/O.
 */
import type { Logger } from '../../base/logger';
import type { EntitlementCheckResult } from '../entitlements/entitlement.checks';
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { AuditUserError } from './audit-policy.errors';
import { parentScopes, Scope } from './apply.plan';
import type { PolicyRow, RevisionRow, SettingChange, Tx } from './policy.repository';
import { AuditSettingsPatch, AuditSettingsValue, settingsFromGucs } from './settings/settings.model';
import type { TargetLease } from './target/target.lease';
import type { ServerFacts, TargetSession } from './target/target.session';

export type Operation = 'enable' | 'configure' | 'disable'
  | 'reconcile' | 'adopt';   // drift (policy.drift.ts): put the applied settings back / take the live ones as applied
export const ACTION = { enable: 'ENABLED', configure: 'CONFIGURED', disable: 'DISABLED',
  reconcile: 'RECONCILED', adopt: 'ADOPTED' } as const satisfies Record<Operation, string>;

export interface ChangeRequest {
  operation: Operation;
  principal: Principal;
  serviceId: string;
  database?: string | null;
  /** A role: ALTER ROLE r [IN DATABASE d] SET. */
  role?: string | null;
  /**
   * pgaudit.targetDatabases of a service-level policy: undefined = not given (enable: the whole service;
   * configure: keep), null = the whole service, a list = exactly those databases.
   */
  targetDatabases?: readonly string[] | null;
  /** enable: absent = the predefined settings, present = pgaudit defaults + these; configure: the fields to change. */
  settings?: AuditSettingsPatch | null;
  expectedVersion?: number | null;
  reason?: string | null;
  idempotencyKey?: string | null;
  dryRun?: boolean | null;
  /** The request's logger (it carries the request id); the service's own logger when absent. */
  logger?: Logger;
}

export enum SettingsSource { SERVER = 'SERVER', LAST_APPLIED = 'LAST_APPLIED' }

export interface PolicyView {
  id: string; serviceId: string; database: string | null; role: string | null; targetDatabases: string[] | null;
  enabled: boolean; version: number;
  settings: AuditSettingsValue; settingsSource: SettingsSource; updatedAt: Date; updatedBy: string;
}

export interface ChangeResult {
  policy: PolicyView | null;
  revision: RevisionRow | null;
  statements: string[];
  userErrors: AuditUserError[];
  /** A dry run's diff: what its revision would record (empty otherwise: the revision holds what changed). */
  plannedChanges: SettingChange[];
}

export interface Eligibility { eligible: boolean; checks: EntitlementCheckResult[] }

/** Everything the steps of one change share, from the moment the live server's facts are known. */
export interface ChangeContext {
  req: ChangeRequest;
  service: ServiceRecord;
  /** The request's connection to the service's default database, acting as the caller's role. */
  session: TargetSession;
  /** What the request holds of the targets (the scope's database is reached through it). */
  targets: TargetLease;
  facts: ServerFacts;
  /** '' for the service level (and a role in every database). */
  database: string;
  /** '' unless the scope is a role. */
  role: string;
  scope: Scope;
  /** The idempotency key, null for a dry run or a call without one. */
  key: string | null;
  requestHash: string;
}

/** The change inside its gateway transaction, once the policy row is locked. */
export interface LockedChange extends ChangeContext { tx: Tx }

export const refused = (userErrors: AuditUserError[]): ChangeResult => ({ policy: null, revision: null, statements: [], userErrors, plannedChanges: [] });

/** Could name a PostgreSQL database or role: 1 to 63 bytes, no NUL. ("" is not "the whole service".) */
export function isIdentifier(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 63 && !name.includes('\u0000');
}
export const isDatabaseName = isIdentifier;

export { scopeOf } from './apply.plan';

export function view(row: PolicyRow, settings: AuditSettingsValue, settingsSource: SettingsSource): PolicyView {
  return { id: row.id, serviceId: row.serviceId, database: row.database || null, role: row.role || null,
    targetDatabases: row.targetDatabases.length > 0 ? [...row.targetDatabases] : null, enabled: row.enabled, version: row.version,
    settings, settingsSource, updatedAt: row.updatedAt, updatedBy: row.updatedBy };
}

/** Service values overlaid with a database's own values, parsed. */
export function effectiveSettings(serviceValues: ReadonlyMap<string, string>, databaseValues: ReadonlyMap<string, string>): AuditSettingsValue {
  return settingsFromGucs(new Map([...serviceValues, ...databaseValues]));
}

/** What a session in `scope` gets: each layer (service first, the scope's own last) overlaid, parsed. */
export function layeredSettings(layers: readonly ReadonlyMap<string, string>[]): AuditSettingsValue {
  return settingsFromGucs(new Map(layers.flatMap((l) => [...l])));
}

/** The scopes to read for a session in `scope`, outermost first, the scope itself last. */
export function layersOf(scope: Scope): Scope[] {
  return [...parentScopes(scope), scope];
}

/** Where a policy's sessions are read: a service-level policy with target databases shows its first one's (each holds the same). */
export function viewScope(scope: Scope, targets: readonly string[]): Scope {
  return scope.kind === 'service' && targets.length > 0 ? { kind: 'database', database: targets[0]! } : scope;
}

/** A target list as the history shows it (null: the whole service). */
export function targetsText(targets: readonly string[]): string | null {
  return targets.length > 0 ? JSON.stringify(targets) : null;
}

/** The databases a service-level policy's target list names, deduplicated and sorted (the stored form); [] = the whole service. */
export function normalTargets(list: readonly string[] | null | undefined): string[] {
  return [...new Set(list ?? [])].sort();
}
