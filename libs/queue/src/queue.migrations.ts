import { runMigrations } from 'bullmq';
import { Client } from 'pg';

/** Creates or upgrades BullMQ's tables in the schema; idempotent and safe to run concurrently. */
export async function migrateQueueSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    await client.end();
  }
}
