import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * A job whose provider never answers is stopped at QUEUE_JOB_TIMEOUT_MS, well before the
 * provider's own (longer) timeout: the upstream call is aborted, not left open, and the job
 * ends failed with JOB_TIMED_OUT at its first attempt instead of being retried.
 */
describe('reliability: a job past its deadline', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let member: TestUser;
  const audioDir = mkdtempSync(join(tmpdir(), 'parley-timeout-audio-'));

  beforeAll(async () => {
    fake = await FakeLlm.start();
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        AUDIO_DIR: audioDir,
        AUDIO_PROVIDER: 'openai',
        AUDIO_BASE_URL: fake.url,
        AUDIO_API_KEY: 'sk-fake-audio',
        AUDIO_TTS_MODEL: 'fake-tts',
        AUDIO_STT_MODEL: 'fake-whisper',
        AUDIO_ENGINE_TIMEOUT_MS: '120000',
        AUDIO_JOB_ATTEMPTS: '3',
        QUEUE_JOB_TIMEOUT_MS: '1500',
      },
    });
    member = await createUser(await createTenant(t.app));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    rmSync(audioDir, { recursive: true, force: true });
  });

  it('aborts the hanging provider call and fails the job once, saying why', async () => {
    fake.failNext({ kind: 'hang' }, { times: 5 });
    const started = Date.now();
    const submitted = await member.client.post('/v1/audio/speech', {
      text: 'This provider never answers.',
      format: 'wav',
    });
    expect(submitted.status).toBe(202);

    const aborted = await fake.waitForClientAbort(15_000);
    expect(aborted.path).toBe('/v1/audio/speech');
    let job = submitted.body;
    while (job.status !== 'failed' && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await member.client.get(`/v1/audio/jobs/${submitted.body.id}`)).body;
    }
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('JOB_TIMED_OUT');
    expect(job.error.message).toContain('QUEUE_JOB_TIMEOUT_MS');
    // Stopped by the deadline, not the 120 s provider timeout; and not tried again.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(job.attempts).toBe(1);
    expect(fake.requests.filter((r) => r.path === '/v1/audio/speech')).toHaveLength(1);
  });
});
