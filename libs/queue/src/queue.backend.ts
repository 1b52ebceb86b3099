import { AppConfig } from '@parley/core';
import { createPostgresBackend, createRedisBackend } from 'bullmq';

/** The BullMQ classes' trailing arguments: connection options and the backend factory. */
export interface BullBackend {
  kind: 'redis' | 'postgres';
  connection: Record<string, unknown>;
  factory: typeof createRedisBackend | typeof createPostgresBackend;
  /** Redis key prefix; the Postgres backend namespaces by schema instead. */
  prefix?: string;
  /** The Postgres schema holding BullMQ's tables. */
  schema?: string;
}

/**
 * The one place that chooses where queues live: Redis when REDIS_URL is set, otherwise
 * BullMQ's PostgreSQL backend on the application database.
 */
export function chooseBackend(config: AppConfig, databaseUrl: string): BullBackend {
  if (config.queue.backend === 'redis') {
    return {
      kind: 'redis',
      // Workers block on Redis; BullMQ requires unlimited retries on their connections.
      connection: { url: config.redis.url!, maxRetriesPerRequest: null },
      factory: createRedisBackend,
      prefix: `${config.redis.keyPrefix}:bull`,
    };
  }
  // PGlite's socket server shares one session between clients, so the per-connection
  // search_path BullMQ sets for its own schema cannot hold there: embedded mode uses public.
  const schema = config.mode === 'embedded' ? 'public' : config.queue.postgresSchema;
  return {
    kind: 'postgres',
    connection: { connectionString: databaseUrl, schema, max: 4 },
    factory: createPostgresBackend,
    schema,
  };
}
