/**
 * Object audit, pure (no I/O): the grants of the auditor role as a set of atoms (relation, privilege, column or
 * the whole relation), what a request asks for, the GRANT / REVOKE statements from one to the other, and the
 * state and history text made from a set. Every identifier in SQL goes through quoteIdent.
 */
import { quoteIdent, quoteLiteral } from '../sql/quote';

export const OBJECT_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
export type ObjectPrivilege = (typeof OBJECT_PRIVILEGES)[number];

/** The auditor role used when the request names none. */
export const DEFAULT_AUDITOR_ROLE = 'pgaudit_auditor';
export const OBJECT_AUDIT_ACTION = 'OBJECT_AUDIT_CONFIGURED';

/** One object of a request (or of a state): privileges on the whole relation (columns null) or on those columns. */
export interface ObjectAuditEntry {
  schema: string;
  relation: string;
  privileges: ObjectPrivilege[];
  columns: string[] | null;
}

/** What object audit holds in one database: stored on the policy row and in revisions (jsonb), shown by the API. */
export interface ObjectAuditState {
  auditorRole: string;
  /** Canonical: sorted by schema, relation, whole relation first, then by column list; privileges in OBJECT_PRIVILEGES order. */
  objects: ObjectAuditEntry[];
}

/** One privilege the auditor holds (or should hold): on the whole relation (column null) or on one column. */
export interface GrantAtom { schema: string; relation: string; privilege: ObjectPrivilege; column: string | null }

const SEP = '\u0000';   // never inside a name (refused at the door): a safe key separator
const relKey = (a: { schema: string; relation: string }) => `${a.schema}${SEP}${a.relation}`;
const atomKey = (a: GrantAtom) => `${relKey(a)}${SEP}${a.privilege}${SEP}${a.column ?? ''}${SEP}${a.column === null ? 'T' : 'C'}`;
const privOrder = (p: ObjectPrivilege) => OBJECT_PRIVILEGES.indexOf(p);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function isObjectPrivilege(p: string): p is ObjectPrivilege {
  return (OBJECT_PRIVILEGES as readonly string[]).includes(p);
}

/** The atoms a request asks for (entries naming one relation twice add up). */
export function desiredAtoms(objects: readonly ObjectAuditEntry[]): GrantAtom[] {
  const out = new Map<string, GrantAtom>();
  for (const o of objects) {
    for (const privilege of o.privileges) {
      const columns = o.columns && o.columns.length > 0 ? o.columns : [null];
      for (const column of columns) {
        const atom = { schema: o.schema, relation: o.relation, privilege, column };
        out.set(atomKey(atom), atom);
      }
    }
  }
  return sortAtoms([...out.values()]);
}

export function sortAtoms(atoms: readonly GrantAtom[]): GrantAtom[] {
  return [...atoms].sort((a, b) => cmp(a.schema, b.schema) || cmp(a.relation, b.relation)
    || (a.column === null ? 0 : 1) - (b.column === null ? 0 : 1) || privOrder(a.privilege) - privOrder(b.privilege)
    || cmp(a.column ?? '', b.column ?? ''));
}

export function sameAtoms(a: readonly GrantAtom[], b: readonly GrantAtom[]): boolean {
  const ka = new Set(a.map(atomKey));
  const kb = new Set(b.map(atomKey));
  return ka.size === kb.size && [...ka].every((k) => kb.has(k));
}

/**
 * The statements that take the auditor from `current` to exactly `desired`: REVOKEs first, then GRANTs, one statement
 * per relation and privilege set (whole relation) or per relation, privilege and column list.
 * PostgreSQL's REVOKE on a whole relation also revokes that privilege on each of its columns: those column grants
 * are counted as gone, and granted again where still wanted.
 */
export function planGrants(auditorRole: string, current: readonly GrantAtom[], desired: readonly GrantAtom[]): string[] {
  const want = new Set(desired.map(atomKey));
  const revoke = current.filter((a) => !want.has(atomKey(a)));
  const tableRevoked = new Set(revoke.filter((a) => a.column === null).map((a) => `${relKey(a)}${SEP}${a.privilege}`));
  const gone = (a: GrantAtom) => tableRevoked.has(`${relKey(a)}${SEP}${a.privilege}`);
  const revokes = revoke.filter((a) => a.column === null || !gone(a));
  const held = new Set(current.filter((a) => a.column === null || !gone(a)).map(atomKey));
  const grants = desired.filter((a) => !held.has(atomKey(a)));
  const role = quoteIdent(auditorRole);
  return [
    ...statements(revokes).map((s) => `REVOKE ${s} FROM ${role}`),
    ...statements(grants).map((s) => `GRANT ${s} TO ${role}`),
  ];
}

/** `SELECT, UPDATE ON TABLE "s"."r"` / `UPDATE ("a", "b") ON TABLE "s"."r"`, grouped per relation. */
function statements(atoms: readonly GrantAtom[]): string[] {
  const out: string[] = [];
  for (const rel of byRelation(atoms)) {
    const target = `ON TABLE ${quoteIdent(rel.schema)}.${quoteIdent(rel.relation)}`;
    const whole = rel.atoms.filter((a) => a.column === null).map((a) => a.privilege);
    if (whole.length > 0) out.push(`${whole.join(', ')} ${target}`);
    for (const privilege of OBJECT_PRIVILEGES) {
      const columns = rel.atoms.filter((a) => a.column !== null && a.privilege === privilege).map((a) => a.column!);
      if (columns.length > 0) out.push(`${privilege} (${columns.map(quoteIdent).join(', ')}) ${target}`);
    }
  }
  return out;
}

function byRelation(atoms: readonly GrantAtom[]): { schema: string; relation: string; atoms: GrantAtom[] }[] {
  const groups = new Map<string, { schema: string; relation: string; atoms: GrantAtom[] }>();
  for (const a of sortAtoms(atoms)) {
    const g = groups.get(relKey(a)) ?? { schema: a.schema, relation: a.relation, atoms: [] };
    g.atoms.push(a);
    groups.set(relKey(a), g);
  }
  return [...groups.values()];
}

/** The canonical state of a set of atoms: per relation, the whole-relation privileges, then one entry per column list. */
export function stateOf(auditorRole: string, atoms: readonly GrantAtom[]): ObjectAuditState {
  const objects: ObjectAuditEntry[] = [];
  for (const rel of byRelation(atoms)) {
    const whole = rel.atoms.filter((a) => a.column === null).map((a) => a.privilege);
    if (whole.length > 0) objects.push({ schema: rel.schema, relation: rel.relation, privileges: whole, columns: null });
    const perColumnSet = new Map<string, { columns: string[]; privileges: ObjectPrivilege[] }>();
    for (const privilege of OBJECT_PRIVILEGES) {
      const columns = rel.atoms.filter((a) => a.column !== null && a.privilege === privilege).map((a) => a.column!).sort(cmp);
      if (columns.length === 0) continue;
      const key = columns.join(SEP);
      const g = perColumnSet.get(key) ?? { columns, privileges: [] };
      g.privileges.push(privilege);
      perColumnSet.set(key, g);
    }
    for (const g of [...perColumnSet.values()].sort((a, b) => cmp(a.columns.join(SEP), b.columns.join(SEP)))) {
      objects.push({ schema: rel.schema, relation: rel.relation, privileges: g.privileges, columns: g.columns });
    }
  }
  return { auditorRole, objects };
}

/** How the history shows one relation's grants: `SELECT, UPDATE (amount)`; null for none. */
export function grantsText(atoms: readonly GrantAtom[]): string | null {
  if (atoms.length === 0) return null;
  const whole = sortAtoms(atoms).filter((a) => a.column === null).map((a) => a.privilege);
  const parts: string[] = [...whole];
  for (const privilege of OBJECT_PRIVILEGES) {
    const columns = atoms.filter((a) => a.column !== null && a.privilege === privilege).map((a) => a.column!).sort(cmp);
    if (columns.length > 0) parts.push(`${privilege} (${columns.join(', ')})`);
  }
  return parts.join(', ');
}

/** One history change per relation whose grants differ: setting `object schema.relation`. */
export function grantChanges(before: readonly GrantAtom[], after: readonly GrantAtom[]): { setting: string; from: string | null; to: string | null }[] {
  const rels = byRelation([...before, ...after]);
  const of = (atoms: readonly GrantAtom[], r: { schema: string; relation: string }) => atoms.filter((a) => relKey(a) === relKey(r));
  return rels.flatMap((r) => {
    const from = of(before, r);
    const to = of(after, r);
    return sameAtoms(from, to) ? [] : [{ setting: `object ${r.schema}.${r.relation}`, from: grantsText(from), to: grantsText(to) }];
  });
}

/** What the database's pgaudit.role must become: SET to the auditor, RESET, or left alone (null). */
export function planDatabaseRole(database: string, auditorRole: string, removing: boolean,
  effectiveRole: string | null, explicitRole: string | null): string[] {
  const db = `ALTER DATABASE ${quoteIdent(database)}`;
  if (!removing) return effectiveRole === auditorRole ? [] : [`${db} SET pgaudit.role = ${quoteLiteral(auditorRole)}`];
  // removing: only a database-level value that is the auditor is object audit's to take back
  return explicitRole === auditorRole ? [`${db} RESET pgaudit.role`] : [];
}

export const createRole = (auditorRole: string) => `CREATE ROLE ${quoteIdent(auditorRole)} NOLOGIN`;

/** The role names CREATE ROLE refuses or that mean something else in GRANT (refused before anything runs). */
export function reservedRoleName(name: string): boolean {
  return name.startsWith('pg_') || ['public', 'none', 'current_role', 'current_user', 'session_user'].includes(name.toLowerCase());
}

/** The object-audit role of a stored state that has objects: the settings policy keeps pgaudit.role at it. */
export function activeAuditorRole(objects: unknown): string | null {
  if (!objects || typeof objects !== 'object') return null;
  const s = objects as Partial<ObjectAuditState>;
  return typeof s.auditorRole === 'string' && Array.isArray(s.objects) && s.objects.length > 0 ? s.auditorRole : null;
}
