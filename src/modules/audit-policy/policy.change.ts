/**
 * The vocabulary of one change to a policy (enable, configure, disable): what a caller asks, what it gets back,
 * and the context the steps of a change share once the policy row is locked. Pure helpers only; no I/O.
 */
import type { Logger } from '../../base/logger';
import type { EntitlementCheckResult } from '../entitlements/entitlement.checks';
import type { Principal } from '../tenancy/principal';
import type { ServiceRecord } from '../tenancy/tenancy.repository';
import type { AuditUserError } from './audit-policy.errors';
import type { Scope } from './apply.plan';
import type { PolicyRow, RevisionRow, Tx } from './policy.repository';
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
  id: string; serviceId: string; database: string | null; enabled: boolean; version: number;
  settings: AuditSettingsValue; settingsSource: SettingsSource; updatedAt: Date; updatedBy: string;
}

export interface ChangeResult {
  policy: PolicyView | null;
  revision: RevisionRow | null;
  statements: string[];
  userErrors: AuditUserError[];
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
  /** '' for the service level. */
  database: string;
  scope: Scope;
  /** The idempotency key, null for a dry run or a call without one. */
  key: string | null;
  requestHash: string;
}

/** The change inside its gateway transaction, once the policy row is locked. */
export interface LockedChange extends ChangeContext { tx: Tx }

export const refused = (userErrors: AuditUserError[]): ChangeResult => ({ policy: null, revision: null, statements: [], userErrors });

/** Could name a PostgreSQL database: 1 to 63 bytes, no NUL. ("" is not "the whole service".) */
export function isDatabaseName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 63 && !name.includes('\u0000');
}

export function scopeOf(database: string): Scope {
  return database ? { kind: 'database', database } : { kind: 'service' };
}

export function view(row: PolicyRow, settings: AuditSettingsValue, settingsSource: SettingsSource): PolicyView {
  return { id: row.id, serviceId: row.serviceId, database: row.database || null, enabled: row.enabled, version: row.version,
    settings, settingsSource, updatedAt: row.updatedAt, updatedBy: row.updatedBy };
}

/** Service values overlaid with a database's own values, parsed. */
export function effectiveSettings(serviceValues: ReadonlyMap<string, string>, databaseValues: ReadonlyMap<string, string>): AuditSettingsValue {
  return settingsFromGucs(new Map([...serviceValues, ...databaseValues]));
}
