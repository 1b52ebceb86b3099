import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { copyMigratedPglite, createMigratedDatabase } from './migrated-template';

/**
 * A database of its own for one test file: a fresh PGlite directory in embedded mode, or a
 * fresh database on the DATABASE_URL server in services mode. `env` holds the variables that
 * point the app at it; `drop()` removes it.
 */
export interface TestDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * `migratedWith`: start from the migrated template (copied, not migrated again), with the
 * environment the app will run with; without it the database is empty.
 */
export async function createTestDatabase(
  options: { migratedWith?: (database: Record<string, string>) => NodeJS.ProcessEnv } = {},
): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  const suffix = randomBytes(5).toString('hex');
  const { migratedWith } = options;
  if (!base) {
    const dir = mkdtempSync(join(tmpdir(), 'parley-pglite-'));
    if (migratedWith) await copyMigratedPglite(join(dir, 'data'), migratedWith);
    return {
      env: { PGLITE_DATA_DIR: join(dir, 'data') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `parley_test_${suffix}`;
  const urlOf = (database: string) => {
    const url = new URL(base);
    url.pathname = `/${database}`;
    return url.toString();
  };
  await withAdminClient(base, (c) =>
    migratedWith
      ? createMigratedDatabase(c, name, urlOf, migratedWith)
      : c.query(`CREATE DATABASE ${name}`).then(() => undefined),
  );
  return {
    // Migrating at boot stands in for the `npm run migrate` step a deployment runs first.
    env: {
      DATABASE_URL: urlOf(name),
      REDIS_KEY_PREFIX: `parley-test-${suffix}`,
      DATABASE_MIGRATE_ON_BOOT: 'true',
    },
    drop: () =>
      withAdminClient(base, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

async function withAdminClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
