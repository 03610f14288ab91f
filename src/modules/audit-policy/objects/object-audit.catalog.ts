/**
 * What object audit reads from one database of a target server (bind parameters only): the auditor role, the
 * relations and columns a request names, the auditor's grants (pg_class.relacl and pg_attribute.attacl through
 * aclexplode) and the database's pgaudit.role. Runs on a connection to that database (TargetLease.withDatabase).
 */
import type { TargetSession } from '../target/target.session';
import { GrantAtom, isObjectPrivilege, OBJECT_PRIVILEGES, sortAtoms } from './object-audit.plan';

/** The relation kinds object audit manages: table, view, materialized view, partitioned table. */
export const AUDITABLE_RELKINDS = ['r', 'v', 'm', 'p'] as const;

export interface AuditorRoleFacts { canLogin: boolean; superuser: boolean }

/** The role's attributes, or null when it does not exist. */
export async function auditorRoleFacts(session: TargetSession, role: string): Promise<AuditorRoleFacts | null> {
  const [row] = await session.read<{ rolcanlogin: boolean; rolsuper: boolean }>(
    `SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = $1`, [role]);
  return row ? { canLogin: row.rolcanlogin, superuser: row.rolsuper } : null;
}

export interface ResolvedRelation { schema: string; relation: string; kind: string | null; columns: Set<string> }

/**
 * Each named relation with its kind (null: no such relation in that schema) and its column names (live columns
 * only). Names are exact, as the catalogs spell them: no case folding, no quoting.
 */
export async function resolveRelations(session: TargetSession, names: readonly { schema: string; relation: string }[])
  : Promise<Map<string, ResolvedRelation>> {
  const out = new Map<string, ResolvedRelation>();
  if (names.length === 0) return out;
  const rows = await session.read<{ schema: string; relation: string; kind: string | null; columns: string[] | null }>(
    `SELECT q.schema, q.relation, c.relkind::text AS kind,
            (SELECT array_agg(a.attname::text) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM unnest($1::text[], $2::text[]) AS q(schema, relation)
       LEFT JOIN pg_namespace n ON n.nspname = q.schema
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = q.relation`,
    [names.map((n) => n.schema), names.map((n) => n.relation)]);
  for (const r of rows) {
    out.set(relationKey(r), { schema: r.schema, relation: r.relation, kind: r.kind, columns: new Set(r.columns ?? []) });
  }
  return out;
}

export const relationKey = (r: { schema: string; relation: string }) => `${r.schema}\u0000${r.relation}`;

/**
 * Every SELECT/INSERT/UPDATE/DELETE the role holds in this database, on auditable relations: on the whole
 * relation (relacl) and on single columns (attacl). Other privileges (TRUNCATE, REFERENCES, TRIGGER) and
 * other kinds of relation (sequences, foreign tables) are not object audit's and are never touched.
 */
export async function auditorGrants(session: TargetSession, role: string): Promise<GrantAtom[]> {
  const rows = await session.read<{ schema: string; relation: string; privilege: string; column: string | null }>(
    `WITH auditor AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT n.nspname::text AS schema, c.relname::text AS relation, acl.privilege_type AS privilege, NULL::text AS column
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL aclexplode(c.relacl) acl
      WHERE acl.grantee = (SELECT oid FROM auditor) AND acl.privilege_type = ANY($2::text[]) AND c.relkind = ANY($3::"char"[])
     UNION
     SELECT n.nspname::text, c.relname::text, acl.privilege_type, a.attname::text
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL aclexplode(a.attacl) acl
      WHERE a.attnum > 0 AND NOT a.attisdropped
        AND acl.grantee = (SELECT oid FROM auditor) AND acl.privilege_type = ANY($2::text[]) AND c.relkind = ANY($3::"char"[])`,
    [role, [...OBJECT_PRIVILEGES], [...AUDITABLE_RELKINDS]]);
  return sortAtoms(rows.filter((r) => isObjectPrivilege(r.privilege))
    .map((r) => ({ schema: r.schema, relation: r.relation, privilege: r.privilege as GrantAtom['privilege'], column: r.column })));
}
