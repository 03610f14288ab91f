/** Who is calling: an API token acting within one project as one database role. */
export interface Principal {
  tokenId: string;
  tokenName: string;
  projectId: string;
  organizationId: string;
  databaseRole: string;
}

/** How the caller is named in the policy history. */
export function actorName(p: Principal): string {
  return `token:${p.tokenName} as ${p.databaseRole}`;
}
