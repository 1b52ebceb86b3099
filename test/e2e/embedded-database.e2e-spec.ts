import { DataSource } from 'typeorm';
import { describeWhen, servicesMode } from '../support/skip';
import { spawnDist } from '../support/spawned-process';
import { createTestApp, testEnv, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describeWhen(
  !servicesMode,
  'the embedded-database suite runs in embedded mode (DATABASE_URL unset)',
)('embedded PostgreSQL (PGlite)', () => {
  let database: TestDatabase;
  let t: TestApp | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('keeps data written through a migration-created table across a restart', async () => {
    t = await createTestApp({ database });
    await t.app
      .get(DataSource)
      .query(`INSERT INTO system_settings (key, value) VALUES ('restart.probe', $1)`, [
        JSON.stringify({ n: 42 }),
      ]);
    await t.close();

    t = await createTestApp({ database });
    const rows = await t.app
      .get(DataSource)
      .query(`SELECT value FROM system_settings WHERE key = 'restart.probe'`);
    expect(rows).toEqual([{ value: { n: 42 } }]);
    const migrations = await t.app.get(DataSource).query('SELECT name FROM migrations');
    expect(migrations.map((m: { name: string }) => m.name)).toContain(
      'SystemSettings1763900000000',
    );
  });

  it('runs many concurrent parameterised queries from several connections without mixing them up', async () => {
    const db = t!.app.get(DataSource);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 4 === 0
          ? db.query(`INSERT INTO system_settings (key, value) VALUES ($1, $2) RETURNING key`, [
              `concurrent.${i}`,
              JSON.stringify({ i }),
            ])
          : db.query('SELECT $1::int AS n, $2::text AS s', [i, `v${i}`]),
      ),
    );
    results.forEach((rows, i) => {
      if (i % 4 === 0) expect(rows).toEqual([{ key: `concurrent.${i}` }]);
      else expect(rows).toEqual([{ n: i, s: `v${i}` }]);
    });
  });

  it('refuses a second process on the same data directory with a clear message, data intact', async () => {
    expect(t).toBeDefined();
    const second = spawnDist(
      'apps/api/src/main.js',
      testEnv({ ...database.env, PGLITE_LOCK_WAIT_MS: '0' }),
    );
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/is in use by another Parley process/);
    const rows = await t!.app
      .get(DataSource)
      .query(`SELECT value FROM system_settings WHERE key = 'restart.probe'`);
    expect(rows).toEqual([{ value: { n: 42 } }]);
  });
});
