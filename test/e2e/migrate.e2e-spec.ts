import { spawn } from 'node:child_process';
import { MIGRATIONS } from '@parley/migrations';
import { Client } from 'pg';
import { describeWhen, servicesMode } from '../support/skip';
import { REPO_ROOT, spawnDist } from '../support/spawned-process';
import { createTestApp, testEnv } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Runs the built migration command, as `npm run migrate` / `migrate:revert` do. */
async function runMigrate(
  database: TestDatabase,
  command: 'run' | 'revert',
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/apps/api/src/migrate.js', command], {
      cwd: REPO_ROOT,
      env: testEnv({ ...database.env, REDIS_URL: '' }),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

describeWhen(
  servicesMode,
  'migrations against a PostgreSQL server need DATABASE_URL (services mode)',
)('npm run migrate', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    database.env.DATABASE_MIGRATE_ON_BOOT = 'false';
  });
  afterAll(() => database?.drop());

  it('refuses to serve a database with pending migrations, and says what to run', async () => {
    const proc = spawnDist('apps/api/src/main.js', testEnv({ ...database.env, REDIS_URL: '' }));
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/pending migrations; run `npm run migrate`/);
  });

  it('applies the migrations and the queue tables, is idempotent, and reverts the last one', async () => {
    const first = await runMigrate(database, 'run');
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/applied: .*SystemSettings/);
    expect(first.output).toMatch(/queue tables ready in schema bullmq/);
    const again = await runMigrate(database, 'run');
    expect(again.output).toMatch(/database schema is up to date/);

    const client = new Client({ connectionString: database.env.DATABASE_URL! });
    client.on('error', () => undefined); // the database is dropped under it at the end
    await client.connect();
    try {
      const applied = await client.query('SELECT name FROM migrations ORDER BY id');
      expect(applied.rows.map((r: { name: string }) => r.name)).toEqual(
        MIGRATIONS.map((m) => m.name),
      );
      const schemas = await client.query(
        `SELECT 1 FROM information_schema.schemata WHERE schema_name = 'bullmq'`,
      );
      expect(schemas.rowCount).toBe(1);

      const t = await createTestApp({ database, env: { REDIS_URL: '' } });
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      await t.close();

      const last = MIGRATIONS[MIGRATIONS.length - 1]!.name;
      const revert = await runMigrate(database, 'revert');
      expect(revert.code).toBe(0);
      expect(revert.output).toContain(`reverted: ${last}`);
      const after = await client.query('SELECT name FROM migrations ORDER BY id');
      expect(after.rows.map((r: { name: string }) => r.name)).toEqual(
        MIGRATIONS.slice(0, -1).map((m) => m.name),
      );
      // and it applies again cleanly
      expect((await runMigrate(database, 'run')).output).toContain(`applied: ${last}`);
    } finally {
      await client.end();
    }
  });
});

describeWhen(
  servicesMode,
  'concurrent migrations against a PostgreSQL server need DATABASE_URL (services mode)',
)('migrations started at the same moment', () => {
  const appliedNames = async (database: TestDatabase) => {
    const client = new Client({ connectionString: database.env.DATABASE_URL! });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query('SELECT name FROM migrations ORDER BY id')).rows.map(
        (r: { name: string }) => r.name,
      );
    } finally {
      await client.end();
    }
  };

  it('two migration commands on an empty database: both succeed, each migration applied once', async () => {
    const database = await createTestDatabase();
    try {
      const runs = await Promise.all([runMigrate(database, 'run'), runMigrate(database, 'run')]);
      expect(runs.map((r) => r.code)).toEqual([0, 0]);
      // One applied everything; the other waited for the lock and found nothing to do.
      expect(runs.filter((r) => /applied: /.test(r.output))).toHaveLength(1);
      expect(runs.filter((r) => /database schema is up to date/.test(r.output))).toHaveLength(1);
      expect(await appliedNames(database)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await database.drop();
    }
  });

  it('two api instances migrating on boot at once: both start and serve', async () => {
    const database = await createTestDatabase();
    const env = testEnv({
      ...database.env,
      REDIS_URL: '',
      PORT: '0',
      DATABASE_MIGRATE_ON_BOOT: 'true',
    });
    const apis = [spawnDist('apps/api/src/main.js', env), spawnDist('apps/api/src/main.js', env)];
    try {
      const ports = await Promise.all(apis.map((a) => a.listening));
      for (const port of ports)
        expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      expect(await appliedNames(database)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await Promise.all(apis.map((a) => a.stop()));
      await database.drop();
    }
  });
});
