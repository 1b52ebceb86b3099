import { z } from 'zod';
import { bool, int, list } from './primitives';

/** The `queue`, `worker` namespaces of the configuration. */
export const queueConfig = {
  queue: z.strictObject({
    workersInProcess: z.union([bool, z.literal('auto')]),
    queues: list,
    concurrency: int(1, 1000),
    postgresSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/, {
      error: 'expected a lower-case SQL identifier',
    }),
    /**
     * How long a worker's hold on a job lasts without renewal, and how often workers look for
     * jobs whose holder died: a killed worker's job runs again after about both.
     */
    lockDurationMs: int(1000, 600_000),
    stalledIntervalMs: int(1000, 600_000),
    /** A job still running after this long is aborted and failed as JOB_TIMED_OUT. */
    jobTimeoutMs: int(1000, 86_400_000),
  }),
  worker: z.strictObject({
    host: z.string().min(1),
    healthPort: int(0, 65535),
  }),
};
