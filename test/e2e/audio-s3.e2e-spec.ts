import { RetentionProcessor } from '@parley/audio';
import type { QueueJob } from '@parley/queue';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { DataSource } from 'typeorm';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Audio in S3-compatible object storage: s3rver is a real S3 API server (in Node, on
 * loopback), spoken to by the real AWS SDK; speech comes from the fake upstream.
 */
describe('speech jobs with S3-compatible storage', () => {
  let s3: S3rver;
  let endpoint: string;
  let fake: FakeLlm;
  let t: TestApp;
  let db: DataSource;
  let member: TestUser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
    s3 = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: dir,
      configureBuckets: [{ name: 'parley-audio', configs: [] }],
    });
    const { port } = (await s3.run()) as unknown as { port: number };
    endpoint = `http://127.0.0.1:${port}`;
    fake = await FakeLlm.start();
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        AUDIO_PROVIDER: 'openai',
        AUDIO_BASE_URL: fake.url,
        AUDIO_TTS_MODEL: 'fake-tts',
        AUDIO_STT_MODEL: 'fake-whisper',
        AUDIO_STORAGE: 's3',
        AUDIO_S3_BUCKET: 'parley-audio',
        AUDIO_S3_ENDPOINT: endpoint,
        AUDIO_S3_FORCE_PATH_STYLE: 'true',
        // s3rver's fixed credentials.
        AUDIO_S3_ACCESS_KEY_ID: 'S3RVER',
        AUDIO_S3_SECRET_ACCESS_KEY: 'S3RVER',
        AUDIO_URL_EXPIRY_SECONDS: '600',
      },
    });
    db = t.app.get(DataSource);
    member = await createUser(await createTenant(t.app));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores speech in the bucket, links it presigned, serves ranges, and deletes it when expired', async () => {
    const res = await member.client.post('/v1/audio/speech?wait=30', {
      text: 'Stored in a bucket.',
      format: 'wav',
    });
    expect(res.body.status).toBe('completed');
    const { url, urlExpiresAt, bytes } = res.body.result;
    expect(url).toMatch(new RegExp(`^${endpoint}/parley-audio/`));
    expect(url).toContain('X-Amz-Signature=');
    expect(Date.parse(urlExpiresAt) - Date.now()).toBeGreaterThan(500_000);
    const direct = await fetch(url);
    expect(direct.status).toBe(200);
    const audio = Buffer.from(await direct.arrayBuffer());
    expect(audio.length).toBe(bytes);
    expect(audio.subarray(0, 4).toString('ascii')).toBe('RIFF');
    // Through Parley too, by range.
    const part = await t.app.inject({
      method: 'GET',
      url: `/v1/audio/jobs/${res.body.id}/content`,
      headers: { authorization: `Bearer ${member.client.credential}`, range: 'bytes=0-3' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.toString('ascii')).toBe('RIFF');
    const health = JSON.parse((await t.app.inject({ method: 'GET', url: '/health/ready' })).body);
    expect(health.checks.audioStorage.status).toBe('up');

    await db.query(`UPDATE audio_jobs SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
      res.body.id,
    ]);
    await t.app
      .get(RetentionProcessor)
      .process({ data: { kind: 'sweep' } } as QueueJob<'audio.retention'>);
    expect((await fetch(url)).status).toBe(404);
  });
});
