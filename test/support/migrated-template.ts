import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@parley/core';
import { DatabaseEndpoint, dataSourceOptions } from '@parley/database';
import { MIGRATIONS } from '@parley/migrations';
import { chooseBackend, migrateQueueSchema } from '@parley/queue';
import type { Client } from 'pg';
import lockfile from 'proper-lockfile';
import { DataSource } from 'typeorm';

/**
 * Test databases that start migrated: the schema is built once per run (and per change of it)
 * into a template, and each test app's database is a copy of it: a PGlite data directory copied
 * in embedded mode, `CREATE DATABASE … TEMPLATE` in services mode. Booting on a fresh database
 * ran every migration each time (about 3 of a test app's 4 seconds); the app still migrates on
 * boot, so a template that lacks something is completed, never trusted blindly.
 */

const REPO_ROOT = join(__dirname, '..', '..');

let hashed: string | undefined;

/**
 * What the schema is made of: a template is reused only while none of it has changed. Read
 * once per Jest worker (the lockfile is large).
 */
function schemaHash(): string {
  if (hashed) return hashed;
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(join(REPO_ROOT, 'migrations'))
      .sort()
      .map((f) => join('migrations', f)),
    join('libs', 'queue', 'src', 'queue.migrations.ts'),
    'package-lock.json',
  ];
  for (const file of files) hash.update(file).update(readFileSync(join(REPO_ROOT, file)));
  hashed = hash.digest('hex').slice(0, 12);
  return hashed;
}

/** Runs the migrations (TypeORM's and the Postgres queue schema) as `npm run migrate` does. */
async function migrate(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig({ env, isTty: false });
  const endpoint = new DatabaseEndpoint(config);
  await endpoint.start();
  const dataSource = new DataSource(dataSourceOptions(config, endpoint.url, MIGRATIONS));
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    const backend = chooseBackend(config, endpoint.url);
    if (backend.kind === 'postgres') await migrateQueueSchema(endpoint.url, backend.schema!);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.onApplicationShutdown();
  }
}

/** Copies a migrated PGlite data directory to `target`, building the template first if needed. */
export async function copyMigratedPglite(
  target: string,
  envFor: (database: Record<string, string>) => NodeJS.ProcessEnv,
): Promise<void> {
  const root = join(tmpdir(), `parley-pglite-template-${schemaHash()}`);
  const data = join(root, 'data');
  const ready = join(root, 'ready');
  if (!existsSync(ready)) {
    mkdirSync(root, { recursive: true });
    // Jest's workers start together: one builds, the others wait for it.
    const release = await lockfile.lock(root, {
      retries: { retries: 1200, minTimeout: 100, maxTimeout: 200 },
      stale: 120_000,
    });
    try {
      if (!existsSync(ready)) {
        rmSync(data, { recursive: true, force: true });
        await migrate(envFor({ PGLITE_DATA_DIR: data }));
        writeFileSync(ready, new Date().toISOString());
      }
    } finally {
      await release();
    }
  }
  cpSync(data, target, { recursive: true });
}

/** Creates database `name` on the server of `admin` as a copy of the migrated template. */
export async function createMigratedDatabase(
  admin: Client,
  name: string,
  urlOf: (database: string) => string,
  envFor: (database: Record<string, string>) => NodeJS.ProcessEnv,
): Promise<void> {
  const template = `parley_template_${schemaHash()}`;
  // One session at a time: building the template, and copying it (a template being copied
  // must have no other session on it).
  await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (rows.length === 0) {
      const building = `${template}_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${building}`);
      try {
        await migrate(
          envFor({ DATABASE_URL: urlOf(building), REDIS_KEY_PREFIX: `parley-test-${building}` }),
        );
        await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        throw error;
      }
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [template]);
  }
}
