import { QueueService } from '@parley/queue';
import { describeWhen, redisConfigured, servicesMode } from '../support/skip';
import { createTenant, createUser } from '../support/identity';
import { createKnowledgeBase, waitForDocument } from '../support/knowledge-bases';
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

    it('ingests the knowledge-base documents the api queues, and serves no API routes', async () => {
      const member = await createUser(await createTenant(t.app));
      const kb = await createKnowledgeBase(member.client);
      const added = await member.client.post(`/v1/knowledge-bases/${kb.id}/documents`, {
        title: 'Opening hours',
        text: 'The shop opens at nine on Saturdays.',
      });
      expect(added.status).toBe(202);
      const doc = await waitForDocument(member.client, kb.id, added.body.id);
      expect(doc).toMatchObject({ status: 'ready', chunkCount: 1 });
      const port = await worker.listening;
      // Cost and identity run inside the worker's jobs, but their routes stay on the api.
      for (const path of ['/v1/usage', '/v1/admin/budgets', '/v1/auth/login'])
        expect((await fetch(`http://127.0.0.1:${port}${path}`)).status).toBe(404);
    });

    it('exits 0 on SIGTERM', async () => {
      expect(await worker.stop('SIGTERM')).toBe(0);
    });
  },
);
