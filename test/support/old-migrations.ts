/** A gateway database as an older release left it: for the suites that test what `migrate` does to old data. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listMigrations, migrate } from '../../src/base/db/migrate';

/** Applies to `db` only the migrations named before `firstLeftOut`, from a folder of their own. */
export async function migrateBefore(db: string, firstLeftOut: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pga-old-migrations-'));
  try {
    for (const m of (await listMigrations()).filter((m) => m.name < firstLeftOut)) {
      fs.mkdirSync(path.join(dir, m.name));
      fs.writeFileSync(path.join(dir, m.name, 'migration.sql'), m.sql);
    }
    await migrate(db, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
