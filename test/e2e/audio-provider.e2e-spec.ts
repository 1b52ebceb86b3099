import { DataSource } from 'typeorm';
import { WebSocket } from 'ws';
import { toneWav } from '../support/audio';
import { FakeLlm } from '../support/fake-llm';
import {
  Client,
  createApiKey,
  createTenant,
  createUser,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { multipart } from '../support/multipart';
import { createTestApp, type TestApp } from '../support/test-app';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Frames a WebSocket receives, as {event, data}. */
function listen(url: string, token: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const frames: { event: string; data: any }[] = [];
  // Open once the server says `ready`: its credential is checked and its events are filed.
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw));
      frames.push(frame);
      if (frame.event === 'ready') resolve();
    });
    ws.on('error', reject);
  });
  return { ws, frames, opened };
}

describe('speech jobs through an OpenAI-compatible provider', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let db: DataSource;
  let tenant: TestTenant;
  let member: TestUser;
  let audioDir: string;

  beforeAll(async () => {
    fake = await FakeLlm.start();
    audioDir = mkdtempSync(join(tmpdir(), 'parley-audio-'));
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        AUDIO_DIR: audioDir,
        AUDIO_PROVIDER: 'openai',
        AUDIO_BASE_URL: fake.url,
        AUDIO_API_KEY: 'sk-fake-audio',
        AUDIO_TTS_MODEL: 'fake-tts',
        AUDIO_STT_MODEL: 'fake-whisper',
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    db = t.app.get(DataSource);
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    rmSync(audioDir, { recursive: true, force: true });
  });
  beforeEach(() => fake.reset());

  const audioCalls = () => fake.requests.filter((r) => r.path.startsWith('/v1/audio/'));
  const transcribe = async (bytes: Buffer, fields: Record<string, string> = {}) => {
    const { payload, headers } = await multipart({ file: { bytes, filename: 'a.wav' }, ...fields });
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/audio/transcriptions?wait=30',
      payload,
      headers: { ...headers, authorization: `Bearer ${member.client.credential}` },
    });
    return JSON.parse(res.body);
  };

  it('speaks through /audio/speech with the configured model, voice and key', async () => {
    const res = await member.client.post('/v1/audio/speech?wait=30', {
      text: 'Your claim is approved.',
      format: 'wav',
      speed: 1.25,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'completed',
      result: { provider: 'openai', model: 'fake-tts', contentType: 'audio/wav' },
    });
    const [call] = audioCalls();
    expect(call!.body).toMatchObject({
      model: 'fake-tts',
      voice: 'alloy',
      input: 'Your claim is approved.',
      response_format: 'wav',
      speed: 1.25,
    });
    expect(call!.headers.authorization).toBe('Bearer sk-fake-audio');
    const audio = await t.app.inject({
      method: 'GET',
      url: `/v1/audio/jobs/${res.body.id}/content`,
      headers: { authorization: `Bearer ${member.client.credential}` },
    });
    expect(audio.rawPayload.subarray(0, 4).toString('ascii')).toBe('RIFF');
    // 23 characters at $15 per million.
    const [ledger] = await db.query(
      `SELECT model, cost_usd FROM usage_ledger WHERE tenant_id = $1 AND kind = 'text_to_speech'`,
      [tenant.id],
    );
    expect(ledger).toEqual({ model: 'fake-tts', cost_usd: '0.000345000' });
  });

  it('transcribes through /audio/transcriptions, priced per minute', async () => {
    const job = await transcribe(toneWav(2), { language: 'en', prompt: 'claims' });
    expect(job).toMatchObject({
      status: 'completed',
      result: { text: 'fake transcription', language: 'en', durationMs: 2000 },
    });
    const [call] = audioCalls();
    expect(call!.body.fields).toMatchObject({
      model: 'fake-whisper',
      language: 'en',
      prompt: 'claims',
      response_format: 'verbose_json',
    });
    const rows: { cost_usd: string }[] = await db.query(
      `SELECT cost_usd FROM usage_ledger WHERE tenant_id = $1 AND kind = 'speech_to_text'`,
      [tenant.id],
    );
    // Two seconds at $0.006 a minute (to the nano-dollar the ledger rounds to).
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.cost_usd)).toBeCloseTo(0.0002, 8);
  });

  it('retries a provider outage with backoff, and fails a refusal at once', async () => {
    fake.failNext({ kind: 'status', status: 503 });
    const retried = await transcribe(toneWav(1));
    expect(retried).toMatchObject({ status: 'completed', attempts: 2 });
    expect(audioCalls()).toHaveLength(2);
    fake.reset();
    fake.failNext({ kind: 'status', status: 400 }, { times: 5 });
    const refused = await transcribe(toneWav(1));
    expect(refused).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'SPEECH_PROVIDER_REJECTED' },
    });
    expect(audioCalls()).toHaveLength(1);
    // A failed job is kept for inspection, for longer than a finished one.
    expect(Date.parse(refused.expiresAt) - Date.parse(refused.finishedAt)).toBe(168 * 3600_000);
  });

  it('keeps an Idempotency-Key to its caller: same key, same request, each caller its own job', async () => {
    const colleague = await createUser(tenant);
    const key = await createApiKey(member.client, ['audio']);
    const machine = new Client(t.app, key.key);
    const headers = { 'idempotency-key': 'greeting-1' };
    const body = { text: 'Good morning.', format: 'wav' };
    const speak = (client: Client) => client.post('/v1/audio/speech?wait=30', body, headers);
    const mine = await speak(member.client);
    expect(mine.status).toBe(200);
    // A colleague (and an API key) of the same tenant sending the same key and body is not
    // answered with the member's job: each gets a job of its own, run for them.
    const theirs = await speak(colleague.client);
    const keyed = await speak(machine);
    expect([theirs.status, keyed.status]).toEqual([200, 200]);
    expect(new Set([mine.body.id, theirs.body.id, keyed.body.id]).size).toBe(3);
    expect(audioCalls()).toHaveLength(3);
    const owners = await db.query(
      `SELECT owner_user_id, owner_api_key_id FROM audio_jobs
        WHERE tenant_id = $1 AND idempotency_key = 'greeting-1' ORDER BY created_at`,
      [tenant.id],
    );
    expect(owners).toEqual([
      { owner_user_id: member.id, owner_api_key_id: null },
      { owner_user_id: colleague.id, owner_api_key_id: null },
      { owner_user_id: null, owner_api_key_id: key.id },
    ]);
    // Each caller repeating the request gets its own stored job back, without a new call.
    for (const [client, first] of [
      [member.client, mine],
      [colleague.client, theirs],
      [machine, keyed],
    ] as const) {
      const again = await speak(client);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    }
    expect(audioCalls()).toHaveLength(3);
    // The key is still the caller's to misuse: another request with it is refused.
    const reused = await colleague.client.post('/v1/audio/speech', { text: 'Other.' }, headers);
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('pushes job events to the owner’s WebSockets and to no one else', async () => {
    const address = t.app.getHttpServer().address() as { port: number };
    const url = `ws://127.0.0.1:${address.port}/v1/ws`;
    const colleague = await createUser(tenant);
    const mine = listen(url, member.client.credential!);
    const theirs = listen(url, colleague.client.credential!);
    await Promise.all([mine.opened, theirs.opened]);
    const res = await member.client.post('/v1/audio/speech', { text: 'Ping.', format: 'wav' });
    for (let i = 0; i < 100; i++) {
      if (mine.frames.some((f) => f.event === 'audio.job.completed')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const completed = mine.frames.find((f) => f.event === 'audio.job.completed');
    expect(completed?.data.job).toMatchObject({ id: res.body.id, status: 'completed' });
    expect(completed?.data.job.result.url).toBe(`/v1/audio/jobs/${res.body.id}/content`);
    // Announced once, after any progress.
    expect(mine.frames.filter((f) => f.event === 'audio.job.completed')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(theirs.frames.filter((f) => f.event.startsWith('audio.'))).toEqual([]);
    mine.ws.close();
    theirs.ws.close();
  });
});
