import { z } from 'zod';
import { bool, int, optionalString, url } from './primitives';

/** The `database`, `redis` namespaces of the configuration. */
export const databaseConfig = {
  database: z.strictObject({
    url: url(['postgres:', 'postgresql:']),
    poolSize: int(1, 500),
    statementTimeoutMs: int(0, 3_600_000),
    connectTimeoutMs: int(100, 600_000),
    ssl: z.strictObject({
      enabled: bool,
      rejectUnauthorized: bool,
      ca: optionalString,
    }),
    migrateOnBoot: z.union([bool, z.literal('auto')]),
    embedded: z.strictObject({
      dataDir: z.string().min(1),
      lockWaitMs: int(0, 600_000),
      /** PostgreSQL's buffer cache in the embedded PGlite, e.g. 128MB or 1GB. */
      sharedBuffers: z
        .string()
        .regex(/^[0-9]{1,6}(kB|MB|GB)$/, { error: 'expected a size such as 128MB or 1GB' }),
    }),
  }),
  redis: z.strictObject({
    url: url(['redis:', 'rediss:']),
    keyPrefix: z.string(),
  }),
};
