import { appendFileSync } from 'node:fs';

/**
 * `describe` when the condition holds; otherwise the suite is skipped and the reason recorded,
 * so `npm test` prints what this machine could not run and why.
 */
export function describeWhen(condition: boolean, reason: string): jest.Describe {
  if (condition) return describe;
  const log = process.env.PARLEY_SKIP_LOG;
  if (log) appendFileSync(log, `${expect.getState().testPath ?? ''}: ${reason}\n`);
  return describe.skip;
}

export const servicesMode = Boolean(process.env.DATABASE_URL);
export const redisConfigured = Boolean(process.env.REDIS_URL);
