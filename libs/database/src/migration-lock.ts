import type { DataSource } from 'typeorm';

/** One key for every Parley process migrating this database (pg advisory locks are per db). */
const MIGRATION_LOCK_KEY = "hashtext('parley.migrations')";

/**
 * Runs `fn` (the migrations) while holding a PostgreSQL session advisory lock, so that replicas
 * starting at once, or a migration Job beside a migrateOnBoot api, apply the migrations one
 * after another: the second finds them applied. The lock lives on a connection of its own and
 * goes with it if the process dies. Embedded mode has one process per data directory already.
 */
export async function withMigrationLock<T>(
  dataSource: DataSource,
  embedded: boolean,
  fn: () => Promise<T>,
): Promise<T> {
  if (embedded) return fn();
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  try {
    await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      return await fn();
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => undefined);
    }
  } finally {
    await holder.release();
  }
}
