/** What the integration globalSetup hands the test processes: the servers' URLs, through process.env. */
export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the integration globalSetup did not run`);
  return v;
}

export const urls = {
  get pgaudit() { return env('TEST_PG15_PGAUDIT_URL'); },
  get plain() { return env('TEST_PG15_PLAIN_URL'); },
  get pg10() { return env('TEST_PG10_URL'); },
  get gatewayDb() { return env('DATABASE_URL'); },
};
