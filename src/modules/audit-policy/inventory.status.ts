/**
 * What the inventory says of a service's audit logging without asking the server: computed from the gateway's
 * policy rows alone (policy.inventory.ts reads them for a whole page of services in one query). Pure.
 */

/** The parts of a policy row the status needs; `role` '' (or absent, before policies had roles) = no role. */
export interface StatusRow {
  database: string;
  role?: string | null;
  enabled: boolean;
  version: number;
  updatedAt: Date;
  updatedBy: string;
  /** the action of the row's newest revision; null when that revision is missing from the history */
  lastAction: string | null;
}

export interface LastChange {
  at: Date;
  actor: string;
  action: string | null;
  /** null: the service level */
  database: string | null;
  /** null: no role */
  role: string | null;
  version: number;
}

export interface AuditStatus {
  enabled: boolean;
  enabledScopes: number;
  lastChange: LastChange | null;
}

/** Newest first: by time, then the higher version, then the scope (database, role), so that ties always pick the same row. */
function newer(a: StatusRow, b: StatusRow): boolean {
  const t = a.updatedAt.getTime() - b.updatedAt.getTime();
  if (t !== 0) return t > 0;
  if (a.version !== b.version) return a.version > b.version;
  const ka = `${a.database}\u0000${a.role ?? ''}`;
  const kb = `${b.database}\u0000${b.role ?? ''}`;
  return ka < kb;
}

/** Enabled when any scope is; the last change is the most recently updated policy's last revision. Rows without a history (version 0) do not count. */
export function auditStatus(rows: readonly StatusRow[]): AuditStatus {
  const withHistory = rows.filter((r) => r.version > 0);
  const enabledScopes = withHistory.filter((r) => r.enabled).length;
  let last: StatusRow | null = null;
  for (const r of withHistory) if (last === null || newer(r, last)) last = r;
  return {
    enabled: enabledScopes > 0,
    enabledScopes,
    lastChange: last && {
      at: last.updatedAt, actor: last.updatedBy, action: last.lastAction, database: last.database || null,
      role: last.role || null, version: last.version,
    },
  };
}
