import { QueueService } from '@parley/queue';
import { describeWhen, redisConfigured, servicesMode } from '../support/skip';
import { spawnDist } from '../support/spawned-process';
import { createTestApp, testEnv, type TestApp } from '../support/test-app';

async function waitForResult(queues: QueueService, id: string): Promise<unknown> {
  for (let i = 0; i < 100; i++) {
    const job = await queues.getJob('system', id);
    if (job?.finishedOn) return job.returnvalue;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

const backends: [string, Record<string, string>, boolean][] = [
  // REDIS_URL empty = unset, so the queues go to PostgreSQL (PGlite or DATABASE_URL).
  ['PostgreSQL', { REDIS_URL: '' }, true],
  ['Redis', {}, redisConfigured],
];

for (const [name, env, available] of backends) {
  describeWhen(available, `the ${name} queue backend needs REDIS_URL`)(
    `jobs on the ${name} backend`,
    () => {
      let t: TestApp;

      beforeAll(async () => {
        t = await createTestApp({ env: { ...env, WORKERS_IN_PROCESS: 'true' } });
      });
      afterAll(() => t?.close());

      it('processes a job added through libs/queue', async () => {
        const queues = t.app.get(QueueService);
        const sentAt = new Date().toISOString();
        const job = await queues.add('system', { kind: 'ping', sentAt });
        expect(await waitForResult(queues, job.id!)).toEqual({
          pong: true,
          sentAt,
          processedBy: process.pid,
        });
      });
    },
  );
}

describeWhen(servicesMode, 'a separate worker process needs a shared database (services mode)')(
  'the worker app',
  () => {
    let t: TestApp;
    let worker: ReturnType<typeof spawnDist>;

    beforeAll(async () => {
      t = await createTestApp({ env: { WORKERS_IN_PROCESS: 'false' } });
      worker = spawnDist(
        'apps/worker/src/main.js',
        testEnv({ ...t.database.env, WORKER_HEALTH_PORT: '0' }),
      );
      await worker.listening;
    });
    afterAll(async () => {
      await worker?.stop();
      await t?.close();
    });

    it('serves its own health probes and processes jobs the api enqueues', async () => {
      const port = await worker.listening;
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);

      const queues = t.app.get(QueueService);
      const job = await queues.add('system', { kind: 'ping', sentAt: 'now' });
      const result = (await waitForResult(queues, job.id!)) as { processedBy: number };
      expect(result.processedBy).toBe(worker.child.pid);
    });

    it('exits 0 on SIGTERM', async () => {
      expect(await worker.stop('SIGTERM')).toBe(0);
    });
  },
);
