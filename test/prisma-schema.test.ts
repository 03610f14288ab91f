/**
 * The hand-written SQL migrations and prisma/schema.prisma must describe the same database: applied
 * to an empty database, the migrations give exactly the tables, columns, types, nullability and
 * unique keys that schema.prisma declares — no more, no less. Also: migrate is idempotent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { migrate } from '../src/base/db/migrate';
import { withDatabase } from '../src/modules/audit-policy/target/target.session';
import { sql, urls } from './support/harness';

interface Column { table: string; column: string; type: string; nullable: boolean }

const SCALAR_TYPES: Record<string, string> = { String: 'text', Boolean: 'bool', Int: 'int4', BigInt: 'int8', DateTime: 'timestamp', Json: 'jsonb', Bytes: 'bytea' };
const DB_TYPES: Record<string, string> = { '@db.Uuid': 'uuid', '@db.Timestamptz': 'timestamptz' };

/** A deliberately small reader of schema.prisma: models, scalar fields, @map/@@map, @db types, unique keys. */
function readPrismaSchema(text: string): { columns: Column[]; uniques: string[] } {
  const columns: Column[] = [];
  const uniques: string[] = [];
  const models = [...text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
  const modelNames = new Set(models.map((m) => m[1]!));
  for (const [, , body] of models) {
    const table = /@@map\("([^"]+)"\)/.exec(body!)![1]!;
    const fieldToColumn = new Map<string, string>();
    for (const line of body!.split('\n').map((l) => l.trim())) {
      const m = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!m || line.startsWith('@@') || line.startsWith('//')) continue;
      const [, field, type, list, optional, attrs] = m;
      if (modelNames.has(type!)) continue; // relation fields have no column
      const column = /@map\("([^"]+)"\)/.exec(attrs!)?.[1] ?? field!;
      fieldToColumn.set(field!, column);
      const dbType = Object.entries(DB_TYPES).find(([attr]) => attrs!.includes(attr))?.[1];
      // a scalar list (String[]) is a PostgreSQL array, whose udt_name is the element's with a leading _
      columns.push({ table, column, type: (list ? '_' : '') + (dbType ?? SCALAR_TYPES[type!]!), nullable: optional === '?' });
      if (/@unique\b/.test(attrs!)) uniques.push(`${table}(${column})`);
      if (/@id\b/.test(attrs!)) uniques.push(`${table}(${column})`);
    }
    for (const u of body!.matchAll(/@@(?:unique|id)\(\[([^\]]+)\]/g)) {
      uniques.push(`${table}(${u[1]!.split(',').map((f) => fieldToColumn.get(f.trim())).join(',')})`);
    }
    // a partial unique index, which Prisma cannot declare: a comment `// partial-unique: (columns) WHERE (predicate)`
    for (const u of body!.matchAll(/^\s*\/\/ partial-unique: \(([^)]+)\) WHERE (.+)$/gm)) {
      uniques.push(`${table}(${u[1]!.replace(/\s/g, '')}) WHERE ${u[2]!.replace(/\s/g, '')}`);
    }
  }
  return { columns: columns.sort(byKey), uniques: uniques.sort() };
}
const byKey = (a: Column, b: Column) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`);

describe('migrations', () => {
  const dbName = `migration_check_${process.pid}`;
  const url = () => withDatabase(urls.plain, dbName);

  beforeAll(async () => {
    await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`);
    await sql(urls.plain, `CREATE DATABASE ${dbName}`);
  });
  afterAll(async () => { await sql(urls.plain, `DROP DATABASE IF EXISTS ${dbName}`); });

  it('apply once, then report everything as already applied', async () => {
    const first = await migrate(url());
    expect(first.applied.length).toBeGreaterThan(0);
    const second = await migrate(url());
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
    const rows = await sql(url(), `SELECT migration_name, finished_at IS NOT NULL AS done FROM "_prisma_migrations"`);
    expect(rows.every((r) => r.done)).toBe(true);
  });

  it('give exactly the tables, columns, types and nullability of schema.prisma', async () => {
    const expected = readPrismaSchema(readFileSync(path.join(__dirname, '../prisma/schema.prisma'), 'utf8'));
    const actual = (await sql<{ table_name: string; column_name: string; udt_name: string; is_nullable: string }>(url(),
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`))
      .map((r) => ({ table: r.table_name, column: r.column_name, type: r.udt_name, nullable: r.is_nullable === 'YES' }))
      .sort(byKey);
    expect(actual).toEqual(expected.columns);
  });

  it('give exactly the unique keys of schema.prisma', async () => {
    const expected = readPrismaSchema(readFileSync(path.join(__dirname, '../prisma/schema.prisma'), 'utf8'));
    const rows = await sql<{ def: string; tbl: string }>(url(),
      `SELECT c.relname AS tbl, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND i.indisunique AND c.relname <> '_prisma_migrations'`);
    const actual = rows.map((r) => {
      const [, columns, predicate] = /USING \w+ \((.*?)\)(?: WHERE (.*))?$/.exec(r.def)!;
      const key = `${r.tbl}(${columns!.replace(/"/g, '').replace(/\s/g, '')})`;
      return predicate === undefined ? key : `${key} WHERE ${predicate.replace(/"/g, '').replace(/\s/g, '')}`;
    }).sort();
    expect(actual).toEqual(expected.uniques);
  });

  it('refuse to run when an applied migration was edited', async () => {
    await sql(url(), `UPDATE "_prisma_migrations" SET checksum = 'edited'`);
    await expect(migrate(url())).rejects.toThrow(/was changed after it was applied/);
  });
});
