/** The clusters started by test/support/global-setup.ts are the servers the other tests rely on. */
import { Client } from 'pg';
import { env } from './support/env';

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const one = async (c: Client, sql: string) => (await c.query(sql)).rows[0];

const targets = [
  { name: 'pg15-pgaudit', urlVar: 'TEST_PG15_PGAUDIT_URL', min: 150000, max: Infinity, pgaudit: true },
  { name: 'pg15-plain', urlVar: 'TEST_PG15_PLAIN_URL', min: 150000, max: Infinity, pgaudit: false },
  { name: 'pg10', urlVar: 'TEST_PG10_URL', min: 100000, max: 109999, pgaudit: false },
];

describe.each(targets)('test cluster $name', ({ urlVar, min, max, pgaudit }) => {
  it('runs the expected major version', async () => {
    const row = await withClient(env(urlVar), (c) => one(c, `SELECT current_setting('server_version_num')::int AS v`));
    expect(row.v).toBeGreaterThanOrEqual(min);
    expect(row.v).toBeLessThanOrEqual(max);
  });

  it(`${pgaudit ? 'preloads' : 'does not preload'} pgaudit`, async () => {
    const row = await withClient(env(urlVar), (c) => one(c, 'SHOW shared_preload_libraries'));
    expect(row.shared_preload_libraries.includes('pgaudit')).toBe(pgaudit);
  });

  it('connects as superuser avnadmin', async () => {
    const row = await withClient(env(urlVar), (c) =>
      one(c, `SELECT current_user AS u, rolsuper FROM pg_roles WHERE rolname = current_user`),
    );
    expect(row).toEqual({ u: 'avnadmin', rolsuper: true });
  });
});

describe('pg15-pgaudit', () => {
  it('exposes exactly the 10 pgaudit settings', async () => {
    const rows = await withClient(env('TEST_PG15_PGAUDIT_URL'), async (c) =>
      (await c.query(`SELECT name FROM pg_settings WHERE name LIKE 'pgaudit.%' ORDER BY name`)).rows,
    );
    expect(rows.map((r) => r.name)).toHaveLength(10);
  });

  it('writes its logs to TEST_PG15_PGAUDIT_LOG_DIR', async () => {
    const row = await withClient(env('TEST_PG15_PGAUDIT_URL'), (c) =>
      one(c, `SELECT current_setting('log_directory') AS d, current_setting('log_destination') AS dest`),
    );
    expect(row.d).toBe(env('TEST_PG15_PGAUDIT_LOG_DIR'));
    expect(row.dest).toBe('csvlog,jsonlog');
  });
});

describe('DATABASE_URL', () => {
  it('points at the gateway database on pg15-plain', async () => {
    const url = new URL(env('DATABASE_URL'));
    expect(url.pathname).toBe('/gateway');
    expect(url.port).toBe(new URL(env('TEST_PG15_PLAIN_URL')).port);
    const row = await withClient(env('DATABASE_URL'), (c) => one(c, 'SELECT current_database() AS db'));
    expect(row.db).toBe('gateway');
  });
});
