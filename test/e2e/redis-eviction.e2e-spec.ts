import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { onPath } from '../support/audio';
import { describeWhen } from '../support/skip';
import { spawnDist } from '../support/spawned-process';
import { createTestApp, testEnv } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/**
 * BullMQ's production requirement: a Redis that may evict keys loses jobs, so Parley refuses
 * to start on one and says how to fix it. A Redis server of the test's own, with the policy
 * under test (the machine's shared one is left alone).
 */
describeWhen(
  onPath('redis-server'),
  'redis-server is not installed (apt-get install redis-server)',
)('Redis eviction policy check at boot', () => {
  let redis: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const up = await fetch(`http://127.0.0.1:${port}`).then(
        () => true,
        (e: Error & { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(() => redis?.kill());

  it('refuses to start on allkeys-lru, naming the policy and the fix', async () => {
    const database = await createTestDatabase();
    try {
      const api = spawnDist(
        'apps/api/src/main.js',
        testEnv({ ...database.env, REDIS_URL: url, PORT: '0' }),
      );
      expect(await api.exited).toBe(1);
      expect(api.output()).toMatch(/maxmemory-policy is allkeys-lru; queues need noeviction/);
      expect(api.output()).toMatch(/maxmemory-policy noeviction/);
    } finally {
      await database.drop();
    }
  });

  it('starts once the server says noeviction', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.quit();
    const t = await createTestApp({ env: { REDIS_URL: url } });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
