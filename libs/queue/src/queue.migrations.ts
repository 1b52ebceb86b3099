import { assertSchemaCompatibility, runMigrations } from 'bullmq';
import { Client } from 'pg';

async function withClient<T>(databaseUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates or upgrades BullMQ's tables in the schema; idempotent and safe to run concurrently. */
export async function migrateQueueSchema(databaseUrl: string, schema: string): Promise<void> {
  await withClient(databaseUrl, (client) => runMigrations(client, schema));
}

/**
 * Fails with a message that says what to run when BullMQ's schema is missing or older than
 * this BullMQ (a worker would otherwise retry the failing query forever).
 */
export async function assertQueueSchema(databaseUrl: string, schema: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    try {
      await assertSchemaCompatibility(client, schema);
    } catch (error) {
      throw new Error(
        `the queue tables in schema "${schema}" are not migrated (${(error as Error).name}); ` +
          'run `npm run migrate` or set DATABASE_MIGRATE_ON_BOOT=true',
        { cause: error },
      );
    }
  });
}
