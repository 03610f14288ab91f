import type { Scope } from './scope';

/** Who is calling: an API token acting within one project as one database role, with what it may do. */
export interface Principal {
  tokenId: string;
  tokenName: string;
  projectId: string;
  organizationId: string;
  databaseRole: string;
  /** What the token may do (src/api/scopes.ts maps each root field to the scope it needs). */
  scopes: readonly Scope[];
  /** null: never expires. Checked on every request, cached or not. */
  expiresAt: Date | null;
}

/** How the caller is named in the policy history. */
export function actorName(p: Principal): string {
  return `token:${p.tokenName} as ${p.databaseRole}`;
}
