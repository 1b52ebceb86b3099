import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDist } from '../support/spawned-process';
import { testEnv } from '../support/test-app';

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'parley-badconfig-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Boot with a bad configuration: the process must exit non-zero with one line naming the key. */
async function bootWith(
  env: Record<string, string>,
): Promise<{ code: number | string; output: string }> {
  const proc = spawnDist(
    'apps/api/src/main.js',
    testEnv({ PGLITE_DATA_DIR: join(dataDir, 'pglite'), ...env }),
  );
  // A configuration error must end the process at once; if it does not, fail with what it printed.
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

describe('bad configuration stops boot', () => {
  it.each([
    [{ PORT: 'eighty' }, /server\.port \(env PORT\): expected a whole number between 0 and 65535/],
    [
      { DATABASE_URL: 'mysql://db/x' },
      /database\.url \(env DATABASE_URL\): expected a URL starting with postgres:\/\//,
    ],
    [{ LOG_LEVEL: 'loud' }, /log\.level \(env LOG_LEVEL\)/],
    [
      { DATABASE_SSL: 'maybe' },
      /database\.ssl\.enabled \(env DATABASE_SSL\): expected true or false/,
    ],
    [{ APP_ENV: '../etc' }, /app\.env: "\.\.\/etc" is not a valid environment name/],
    [
      { WORKER_QUEUES: 'system,nonsense' },
      /queue\.queues \(env WORKER_QUEUES\): unknown queue nonsense/,
    ],
  ])('exits 1 and names the key for %j', async (env, expected) => {
    const { code, output } = await bootWith({ ...env, WORKERS_IN_PROCESS: 'true' });
    expect(code).toBe(1);
    expect(output).toMatch(expected);
    expect(output).not.toMatch(/\n[ \t]+at /); // no stack trace for a configuration mistake
  });
});
