import 'reflect-metadata';
import { loadConfigOrExit, runOrExit } from '@parley/core';
import { DatabaseEndpoint, dataSourceOptions, withMigrationLock } from '@parley/database';
import { MIGRATIONS } from '@parley/migrations';
import { chooseBackend, migrateQueueSchema } from '@parley/queue';
import { DataSource } from 'typeorm';

/**
 * `npm run migrate` applies pending migrations (TypeORM's and BullMQ's Postgres schema);
 * `npm run migrate:revert` undoes the last TypeORM migration. Works in both modes: in embedded
 * mode it opens the PGlite data directory itself, so the server must be stopped first.
 */
void runOrExit(async () => {
  const command = process.argv[2];
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate run|revert');
  const config = loadConfigOrExit();
  const endpoint = new DatabaseEndpoint(config);
  await endpoint.start();
  const dataSource = new DataSource(dataSourceOptions(config, endpoint.url, MIGRATIONS));
  try {
    await dataSource.initialize();
    // Several replicas (or a Job and a migrateOnBoot api) may run this at once: one at a time.
    const locked = <T>(fn: () => Promise<T>) =>
      withMigrationLock(dataSource, config.mode === 'embedded', fn);
    if (command === 'run') {
      await locked(async () => {
        const applied = await dataSource.runMigrations({ transaction: 'each' });
        console.log(
          applied.length
            ? `applied: ${applied.map((m) => m.name).join(', ')}`
            : 'database schema is up to date',
        );
        const backend = chooseBackend(config, endpoint.url);
        if (backend.kind === 'postgres') {
          await migrateQueueSchema(endpoint.url, backend.schema!);
          console.log(`queue tables ready in schema ${backend.schema}`);
        }
      });
    } else {
      const before = await dataSource.query('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
      await locked(() => dataSource.undoLastMigration({ transaction: 'each' }));
      console.log(before.length ? `reverted: ${before[0].name}` : 'nothing to revert');
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.onApplicationShutdown();
  }
});
