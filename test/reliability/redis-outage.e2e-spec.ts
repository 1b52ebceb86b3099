import { DataSource } from 'typeorm';
import { speechEnginesInstalled } from '../support/audio';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { createKnowledgeBase, waitForDocument } from '../support/knowledge-bases';
import { describeWhen, redisConfigured } from '../support/skip';
import { proxied, type TcpProxy } from '../support/tcp-proxy';
import { createTestApp, type TestApp } from '../support/test-app';
import { within } from './invariants';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Redis goes away (through a proxy the test cuts) while work is submitted, then comes back.
 * Invariants: accepted work is durable and runs once Redis is back (the outbox), requests fail
 * fast or succeed rather than hang, readiness reports the outage, the process recovers alone.
 */
describeWhen(redisConfigured, 'a Redis outage needs REDIS_URL (services mode)')(
  'reliability: Redis down and back',
  () => {
    let t: TestApp;
    let proxy: TcpProxy;
    let member: TestUser;
    let db: DataSource;

    beforeAll(async () => {
      const through = await proxied(process.env.REDIS_URL!, 6379);
      proxy = through.proxy;
      t = await createTestApp({ env: { REDIS_URL: through.url, WORKERS_IN_PROCESS: 'true' } });
      db = t.app.get(DataSource);
      member = await createUser(await createTenant(t.app), 'admin');
    });
    afterAll(async () => {
      proxy?.restore();
      await t?.close();
      await proxy?.stop();
    });

    const ready = async () =>
      (await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode;
    const outboxed = async () =>
      Number((await db.query(`SELECT count(*)::int AS n FROM job_outbox`))[0].n);

    it('accepts work while Redis is down, queues it once Redis is back, and recovers readiness', async () => {
      const kb = await createKnowledgeBase(member.client);
      proxy.cut();
      const downAt = Date.now();
      let status = 200;
      while (status === 200 && Date.now() - downAt < 20_000) {
        status = await ready();
        if (status === 200) await sleep(200);
      }
      expect(status).toBe(503);

      const started = Date.now();
      const added = await member.client.post(`/v1/knowledge-bases/${kb.id}/documents`, {
        title: 'Outage notes',
        text: 'Work accepted during a Redis outage is kept in the outbox and queued later.',
      });
      // Accepted, not hung: the queue's producer fails fast and the outbox keeps the job.
      expect(added.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(added.body.status).toBe('pending');
      expect(await outboxed()).toBe(1);

      proxy.restore();
      const back = Date.now();
      const document = await waitForDocument(member.client, kb.id, added.body.id, 60_000);
      expect(document.status).toBe('ready');
      expect(await outboxed()).toBe(0);
      let recovered = 0;
      while (recovered !== 200 && Date.now() - back < 30_000) {
        recovered = await ready();
        if (recovered !== 200) await sleep(200);
      }
      expect(recovered).toBe(200);
      // One document, ingested once.
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM kb_documents WHERE knowledge_base_id = $1`,
        [kb.id],
      );
      expect(n).toBe(1);
    });

    it('answers within bounds while Redis hangs (connections open, nothing answered)', async () => {
      const kb = await createKnowledgeBase(member.client);
      proxy.hang();
      try {
        const started = Date.now();
        const added = await member.client.post(`/v1/knowledge-bases/${kb.id}/documents`, {
          title: 'Hung',
          text: 'Submitted while Redis held its connections and answered nothing at all.',
        });
        // The rate limiter's Redis commands time out (2 s) and fall back to memory; the hand-
        // over to the queue times out (3 s) and leaves the job in the outbox.
        expect(added.status).toBe(202);
        expect(Date.now() - started).toBeLessThan(15_000);
      } finally {
        proxy.restore();
      }
      const [{ id }] = (await db.query(`SELECT id FROM kb_documents WHERE knowledge_base_id = $1`, [
        kb.id,
      ])) as { id: string }[];
      const document = await waitForDocument(member.client, kb.id, id, 60_000);
      expect(document.status).toBe('ready');
      await within(30_000, async () => (await outboxed()) === 0, 'the outbox drains');
    });

    (speechEnginesInstalled ? it : it.skip)(
      'runs a speech job accepted during the outage exactly once',
      async () => {
        proxy.cut();
        while ((await ready()) === 200) await sleep(200);
        const submitted = await member.client.post('/v1/audio/speech', {
          text: 'Queued after the outage.',
          format: 'wav',
        });
        expect(submitted.status).toBe(202);
        proxy.restore();
        let job = submitted.body;
        const deadline = Date.now() + 60_000;
        while (!['completed', 'failed'].includes(job.status) && Date.now() < deadline) {
          await sleep(250);
          job = (await member.client.get(`/v1/audio/jobs/${job.id}`)).body;
        }
        expect(job).toMatchObject({ status: 'completed', attempts: 1 });
      },
    );
  },
);
