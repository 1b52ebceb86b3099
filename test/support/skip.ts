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

/** Whether this run is CI (`CI=true`, as .ci/run and hosted CI services set it). */
export const inCi = process.env.CI === 'true';

/**
 * `describeWhen` for what CI must always run: outside CI a missing requirement skips the suite
 * (with its reason, as `describeWhen`); in CI it fails it, so CI never goes green by skipping.
 */
export function describeRequiredInCi(condition: boolean, reason: string): jest.Describe {
  if (condition || !inCi) return describeWhen(condition, reason);
  const failing = (name: string) =>
    describe(name, () => {
      it('has what CI must provide', () => {
        throw new Error(`CI must run this suite, but it cannot run here: ${reason}`);
      });
    });
  return failing as unknown as jest.Describe;
}
