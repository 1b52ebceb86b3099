import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { describeWhen, servicesMode } from '../support/skip';
import { type SpawnedProcess, spawnDist } from '../support/spawned-process';
import { createTestApp, type TestApp, testEnv } from '../support/test-app';

/**
 * Speech jobs run by separate worker processes, as in production: killed mid-job, stopped with
 * SIGTERM, several side by side. The speech provider is the fake upstream, so a job can be
 * held mid-call for as long as the test needs.
 */
describeWhen(servicesMode, 'separate worker processes need a shared database (services mode)')(
  'speech jobs across worker processes',
  () => {
    let fake: FakeLlm;
    let t: TestApp;
    let db: DataSource;
    let member: TestUser;
    let audioDir: string;
    let env: Record<string, string>;
    const workers: SpawnedProcess[] = [];

    beforeAll(async () => {
      fake = await FakeLlm.start();
      audioDir = mkdtempSync(join(tmpdir(), 'parley-audio-'));
      env = {
        AUDIO_DIR: audioDir,
        AUDIO_PROVIDER: 'openai',
        AUDIO_BASE_URL: fake.url,
        AUDIO_TTS_MODEL: 'fake-tts',
        AUDIO_STT_MODEL: 'fake-whisper',
        // A dead worker's job is found again within a few seconds, not a minute.
        QUEUE_LOCK_DURATION_MS: '2000',
        QUEUE_STALLED_INTERVAL_MS: '1000',
      };
      t = await createTestApp({ env: { ...env, WORKERS_IN_PROCESS: 'false' } });
      db = t.app.get(DataSource);
      member = await createUser(await createTenant(t.app));
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop('SIGKILL')));
      await t?.close();
      await fake?.close();
      rmSync(audioDir, { recursive: true, force: true });
    });
    beforeEach(() => fake.reset());

    const startWorker = async () => {
      const worker = spawnDist(
        'apps/worker/src/main.js',
        testEnv({
          ...t.database.env,
          ...env,
          WORKER_HEALTH_PORT: '0',
          WORKER_QUEUES: 'audio.tts,audio.stt',
        }),
      );
      workers.push(worker);
      await worker.listening;
      return worker;
    };
    const speechCalls = () => fake.requests.filter((r) => r.path === '/v1/audio/speech');
    const until = async (condition: () => boolean, ms = 20_000) => {
      for (const end = Date.now() + ms; !condition() && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 50));
      expect(condition()).toBe(true);
    };
    const job = (id: string) => member.client.get(`/v1/audio/jobs/${id}`);

    it('runs a job again on another worker when its worker is killed, and completes it once', async () => {
      const first = await startWorker();
      fake.failNext({ kind: 'hang' });
      const res = await member.client.post('/v1/audio/speech', { text: 'Kill me.', format: 'wav' });
      await until(() => speechCalls().length === 1);
      expect((await job(res.body.id)).body.status).toBe('active');
      const second = await startWorker();
      first.child.kill('SIGKILL');
      await first.exited;
      await until(() => speechCalls().length === 2);
      for (let i = 0; i < 100 && (await job(res.body.id)).body.status !== 'completed'; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await job(res.body.id)).body).toMatchObject({
        status: 'completed',
        result: { provider: 'openai' },
      });
      // Paid once: the killed attempt's reservation was never settled into the ledger.
      const ledger: { status: string }[] = await db.query(
        `SELECT status FROM usage_ledger WHERE kind = 'text_to_speech'
            AND tenant_id = (SELECT tenant_id FROM audio_jobs WHERE id = $1)`,
        [res.body.id],
      );
      expect(ledger).toEqual([{ status: 'complete' }]);
      expect(speechCalls()).toHaveLength(2);
      await second.stop('SIGTERM');
    });

    it('never gives one job to two workers', async () => {
      await Promise.all([startWorker(), startWorker()]);
      const texts = Array.from({ length: 24 }, (_, i) => `Job number ${i}.`);
      const ids: string[] = [];
      for (const text of texts)
        ids.push((await member.client.post('/v1/audio/speech', { text, format: 'wav' })).body.id);
      await until(() => speechCalls().length >= texts.length, 30_000);
      for (const id of ids)
        for (let i = 0; i < 100 && (await job(id)).body.status !== 'completed'; i++)
          await new Promise((r) => setTimeout(r, 100));
      const said = speechCalls().map((r) => r.body.input as string);
      expect(said.sort()).toEqual([...texts].sort());
      const rows: { status: string; attempts: number }[] = await db.query(
        `SELECT status, attempts FROM audio_jobs WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      expect(rows.every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
      await Promise.all(workers.splice(0).map((w) => w.stop('SIGTERM')));
    });

    it('finishes its current job on SIGTERM before it exits', async () => {
      const worker = await startWorker();
      fake.configure({ ttftMs: 1500 });
      const res = await member.client.post('/v1/audio/speech', {
        text: 'Finish me.',
        format: 'wav',
      });
      await until(() => speechCalls().length === 1);
      expect(await worker.stop('SIGTERM')).toBe(0);
      expect((await job(res.body.id)).body.status).toBe('completed');
      fake.configure({ ttftMs: 0 });
    });
  },
);
