import { spawnDist, type SpawnedProcess } from '../support/spawned-process';
import { testEnv } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('graceful shutdown', () => {
  let database: TestDatabase;
  let api: SpawnedProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = spawnDist(
      'test/support/slow-api.js',
      testEnv({ ...database.env, SHUTDOWN_TIMEOUT_MS: '10000' }),
    );
    await api.listening;
  });
  afterAll(async () => {
    await api?.stop('SIGKILL');
    await database?.drop();
  });

  it('finishes a slow in-flight request after SIGTERM, refuses new ones, and exits 0', async () => {
    const port = await api.listening;
    const inFlight = fetch(`http://127.0.0.1:${port}/test/slow?ms=1500`);
    await new Promise((r) => setTimeout(r, 300));
    api.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ waitedMs: 1500 });
    expect(await api.exited).toBe(0);
    expect(api.output()).toMatch(/shutdown complete/);
  });
});
