import { RetentionProcessor } from '@parley/audio';
import { type QueueJob, QueueService } from '@parley/queue';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { speechEnginesInstalled, toneWav } from '../support/audio';
import {
  createApiKey,
  createTenant,
  createUser,
  login,
  type TestTenant,
  type TestUser,
} from '../support/identity';
import { multipart } from '../support/multipart';
import { describeWhen } from '../support/skip';
import { createTestApp, ROOT, type TestApp } from '../support/test-app';
import { wordErrorRate } from '../support/wer';

const LIBRISPEECH = join(__dirname, '..', '..', '..', 'shared', 'data', 'speech', 'LibriSpeech');

/** Every clip of the shared LibriSpeech sample with its reference transcript. */
function libriSpeechClips(): { file: string; reference: string }[] {
  const clips: { file: string; reference: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.trans.txt'))
        for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
          const [id, ...text] = line.split(' ');
          clips.push({ file: join(dir, `${id}.flac`), reference: text.join(' ') });
        }
    }
  };
  if (existsSync(LIBRISPEECH)) walk(LIBRISPEECH);
  return clips;
}

describeWhen(
  speechEnginesInstalled,
  'espeak-ng, pocketsphinx and ffmpeg are not installed (apt-get install espeak-ng pocketsphinx pocketsphinx-en-us ffmpeg; .ci/run does)',
)('speech jobs with the local engines', () => {
  let t: TestApp;
  let db: DataSource;
  let tenant: TestTenant;
  let member: TestUser;
  let audioDir: string;

  beforeAll(async () => {
    audioDir = mkdtempSync(join(tmpdir(), 'parley-audio-'));
    t = await createTestApp({
      env: {
        WORKERS_IN_PROCESS: 'true',
        AUDIO_DIR: audioDir,
        AUDIO_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
        AUDIO_MAX_DURATION_SECONDS: '30',
        AUDIO_MAX_TEXT_CHARS: '500',
      },
    });
    db = t.app.get(DataSource);
    tenant = await createTenant(t.app);
    member = await createUser(tenant);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(audioDir, { recursive: true, force: true });
  });

  const speak = (body: Record<string, unknown>, query = '?wait=30', headers = {}) =>
    member.client.post(`/v1/audio/speech${query}`, body, headers);
  const transcribe = async (
    bytes: Buffer,
    fields: Record<string, string> = {},
    query = '?wait=60',
    filename = 'clip.wav',
  ) => {
    const { payload, headers } = await multipart({ file: { bytes, filename }, ...fields });
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/audio/transcriptions${query}`,
      payload,
      headers: { ...headers, authorization: `Bearer ${member.client.credential}` },
    });
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  const content = (id: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'GET',
      url: `/v1/audio/jobs/${id}/content`,
      headers: { authorization: `Bearer ${member.client.credential}`, ...headers },
    });

  it('speaks text into a stored file, served whole or by range, and meters it', async () => {
    const res = await speak({ text: 'Your parcel arrives on Monday.', format: 'mp3' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'speech',
      status: 'completed',
      progress: 100,
      attempts: 1,
      error: null,
      result: { format: 'mp3', contentType: 'audio/mpeg', provider: 'local', model: 'espeak-ng' },
    });
    expect(res.body.result.url).toBe(`/v1/audio/jobs/${res.body.id}/content`);
    const whole = await content(res.body.id);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/mpeg');
    expect(whole.rawPayload.length).toBe(res.body.result.bytes);
    // An MPEG audio frame or an ID3 tag, not a WAV.
    expect(whole.rawPayload.subarray(0, 3).toString('latin1')).toMatch(/^(ID3|\xff[\xe0-\xff])/);
    const part = await content(res.body.id, { range: 'bytes=10-19' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${res.body.result.bytes}`);
    expect(part.rawPayload).toEqual(whole.rawPayload.subarray(10, 20));
    const beyond = await content(res.body.id, { range: `bytes=${res.body.result.bytes + 10}-` });
    expect(beyond.statusCode).toBe(416);
    const ledger: { kind: string; model: string; status: string }[] = await db.query(
      `SELECT kind, model, status FROM usage_ledger WHERE tenant_id = $1 AND kind = 'text_to_speech'`,
      [tenant.id],
    );
    expect(ledger).toEqual([{ kind: 'text_to_speech', model: 'espeak-ng', status: 'complete' }]);
  });

  it('answers 202 at once without wait, and the job can be polled to completion', async () => {
    const res = await speak({ text: 'Polling works too.', format: 'wav' }, '');
    expect(res.status).toBe(202);
    expect(['queued', 'active', 'completed']).toContain(res.body.status);
    let job = res.body;
    for (let i = 0; i < 100 && job.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await member.client.get(`/v1/audio/jobs/${res.body.id}`)).body;
    }
    expect(job).toMatchObject({ status: 'completed', result: { contentType: 'audio/wav' } });
    expect(job.finishedAt).not.toBeNull();
    // Another member of the tenant cannot see it.
    const other = await createUser(tenant);
    expect((await other.client.get(`/v1/audio/jobs/${res.body.id}`)).status).toBe(404);
  });

  it('recovers part of espeak-ng speech with pocketsphinx (synthetic voice: a loose bound)', async () => {
    const sentences = [
      'Where is my parcel? It was sent on Monday.',
      'I would like to check the status of my insurance claim.',
      'Please call me back tomorrow morning.',
    ];
    const pairs = [];
    for (const text of sentences) {
      const spoken = await speak({ text, format: 'wav', voice: 'en-us', speed: 0.75 });
      expect(spoken.body.status).toBe('completed');
      const audio = (await content(spoken.body.id)).rawPayload;
      const heard = await transcribe(audio);
      expect(heard.body).toMatchObject({ status: 'completed', result: { language: 'en' } });
      pairs.push({ reference: text, hypothesis: heard.body.result.text as string });
    }
    const wer = wordErrorRate(pairs);
    process.stdout.write(
      `espeak-ng → pocketsphinx WER ${wer.toFixed(3)} over ${pairs.length} sentences: ${JSON.stringify(pairs.map((p) => p.hypothesis))}\n`,
    );
    // Measured 0.92 here through the API (0.69–1.2 across espeak rates and voices in a side
    // run): espeak's formant voice is far from pocketsphinx's acoustic model. The bound is that
    // plus a margin; and some words of the sentences must come through.
    expect(wer).toBeLessThanOrEqual(0.97);
    const recovered = pairs.flatMap((p) => {
      const said = new Set(
        p.reference
          .toLowerCase()
          .replace(/[^a-z ]/g, '')
          .split(' '),
      );
      return p.hypothesis.split(' ').filter((w) => said.has(w));
    });
    expect(recovered.length).toBeGreaterThanOrEqual(2);
  });

  const clips = libriSpeechClips();
  (clips.length > 0 ? it : it.skip)(
    `transcribes the LibriSpeech clips in ../shared/data/speech with a bounded word error rate`,
    async () => {
      const pairs = [];
      for (const clip of clips) {
        const heard = await transcribe(
          readFileSync(clip.file),
          { language: 'en' },
          '?wait=60',
          'clip.flac',
        );
        expect(heard.body.status).toBe('completed');
        expect(heard.body.result.durationMs).toBeGreaterThan(1000);
        pairs.push({ reference: clip.reference, hypothesis: heard.body.result.text as string });
      }
      const wer = wordErrorRate(pairs);
      process.stdout.write(`LibriSpeech WER ${wer.toFixed(3)} over ${pairs.length} clips\n`);
      expect(wer).toBeLessThanOrEqual(0.5);
      const ledger: { n: number }[] = await db.query(
        `SELECT count(*)::int AS n FROM usage_ledger WHERE tenant_id = $1 AND kind = 'speech_to_text' AND model = 'pocketsphinx'`,
        [tenant.id],
      );
      expect(ledger[0]!.n).toBeGreaterThanOrEqual(clips.length);
    },
  );

  it('refuses bad uploads before queueing anything, each with its own code', async () => {
    const before = await db.query(
      `SELECT count(*)::int AS n FROM audio_jobs WHERE tenant_id = $1`,
      [tenant.id],
    );
    const tooBig = await transcribe(toneWav(70));
    expect([tooBig.status, tooBig.body.code]).toEqual([413, 'AUDIO_TOO_LARGE']);
    const notAudio = await transcribe(Buffer.from('%PDF-1.7\n1 0 obj\n'), {}, '', 'clip.wav');
    expect([notAudio.status, notAudio.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const tooLong = await transcribe(toneWav(40, 0));
    expect([tooLong.status, tooLong.body.code]).toEqual([422, 'AUDIO_TOO_LONG']);
    const tooShort = await transcribe(toneWav(0.05));
    expect([tooShort.status, tooShort.body.code]).toEqual([422, 'AUDIO_TOO_SHORT']);
    const empty = await transcribe(Buffer.alloc(0));
    expect([empty.status, empty.body.code]).toEqual([422, 'AUDIO_TOO_SHORT']);
    const german = await transcribe(toneWav(1), { language: 'de' });
    expect([german.status, german.body.code]).toEqual([422, 'UNSUPPORTED_LANGUAGE']);
    const voice = await speak({ text: 'Hi', voice: 'zz-no-such-voice' });
    expect([voice.status, voice.body.code]).toEqual([400, 'INVALID_VOICE']);
    const format = await speak({ text: 'Hi', format: 'flac' });
    expect(format.status).toBe(400);
    expect(format.body.errors[0].messages).toContain('format must be wav, mp3 or opus');
    const text = await speak({ text: 'x'.repeat(501) });
    expect([text.status, text.body.code]).toEqual([413, 'TEXT_TOO_LONG']);
    const after = await db.query(`SELECT count(*)::int AS n FROM audio_jobs WHERE tenant_id = $1`, [
      tenant.id,
    ]);
    expect(after[0].n).toBe(before[0].n);
    expect(
      readdirSync(audioDir).includes(tenant.id) ? readdirSync(join(audioDir, tenant.id)) : [],
    ).toHaveLength(before[0].n);
  });

  it('makes one job per Idempotency-Key, and refuses the key for another request', async () => {
    const key = { 'idempotency-key': `speech-${Date.now()}` };
    const first = await speak({ text: 'Only once.', format: 'wav' }, '', key);
    const again = await speak({ text: 'Only once.', format: 'wav' }, '', key);
    expect(first.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const rows = await db.query(`SELECT count(*)::int AS n FROM audio_jobs WHERE id = $1`, [
      first.body.id,
    ]);
    expect(rows[0].n).toBe(1);
    const reused = await speak({ text: 'Something else.', format: 'wav' }, '', key);
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('deletes expired jobs and their files with the retention job', async () => {
    const res = await speak({ text: 'Soon forgotten.', format: 'wav' });
    const [row] = await db.query(`SELECT output_key FROM audio_jobs WHERE id = $1`, [res.body.id]);
    const file = join(audioDir, row.output_key);
    expect(existsSync(file)).toBe(true);
    await db.query(`UPDATE audio_jobs SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
      res.body.id,
    ]);
    // The sweep the schedule runs every 15 minutes, run now (in embedded mode a worker waits
    // for the next scheduled run before it looks at a job added by hand).
    const schedulers = await t.app.get(QueueService).queue('audio.retention').getJobSchedulers();
    expect(schedulers).toEqual([
      expect.objectContaining({ key: 'audio-retention', every: 15 * 60_000 }),
    ]);
    const swept = await t.app
      .get(RetentionProcessor)
      .process({ data: { kind: 'sweep' } } as QueueJob<'audio.retention'>);
    expect(swept.deleted).toBeGreaterThanOrEqual(1);
    expect(existsSync(file)).toBe(false);
    const left = await db.query(`SELECT count(*)::int AS n FROM audio_jobs WHERE id = $1`, [
      res.body.id,
    ]);
    expect(left[0].n).toBe(0);
    expect((await member.client.get(`/v1/audio/jobs/${res.body.id}`)).status).toBe(404);
  });

  it('fails a job that stopped making progress as JOB_LOST, unless it still waits in the outbox', async () => {
    const lost = (await speak({ text: 'Lost on the way.', format: 'wav' })).body.id as string;
    const waiting = (await speak({ text: 'Waiting for the queue.', format: 'wav' })).body.id;
    // As if a worker had died on the first with its retries gone, and the queue backend had
    // been down since the second was accepted (its intent still in the outbox).
    await db.query(
      `UPDATE audio_jobs SET status = 'active', finished_at = NULL,
              updated_at = now() - interval '2 hours' WHERE id = $1`,
      [lost],
    );
    await db.query(
      `UPDATE audio_jobs SET status = 'queued', finished_at = NULL,
              updated_at = now() - interval '2 hours' WHERE id = $1`,
      [waiting],
    );
    const outboxId = '01a23400-0000-7000-8000-000000000001';
    await db.query(
      `INSERT INTO job_outbox (id, kind, spec, next_attempt_at)
       VALUES ($1, 'job', $2, now() + interval '1 hour')`,
      [outboxId, JSON.stringify({ queue: 'audio.tts', data: { audioJobId: waiting } })],
    );
    try {
      expect(await t.app.get(RetentionProcessor).failLost()).toBe(1);
      const view = (await member.client.get(`/v1/audio/jobs/${lost}`)).body;
      expect(view).toMatchObject({ status: 'failed', error: { code: 'JOB_LOST' } });
      expect(view.finishedAt).not.toBeNull();
      expect((await member.client.get(`/v1/audio/jobs/${waiting}`)).body.status).toBe('queued');
    } finally {
      await db.query(`DELETE FROM job_outbox WHERE id = $1`, [outboxId]);
    }
  });

  it('turns a spoken message into a reply and its audio: a voice turn', async () => {
    const conversation = (await member.client.post('/v1/conversations', {})).body;
    const clip = clips[0] ?? { file: '', reference: '' };
    const bytes = clip.file ? readFileSync(clip.file) : toneWav(1);
    const { payload, headers } = await multipart({
      file: { bytes, filename: 'question.flac' },
      format: 'wav',
    });
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversation.id}/voice?wait=60`,
      payload,
      headers: { ...headers, authorization: `Bearer ${member.client.credential}` },
    });
    const job = JSON.parse(res.body);
    expect(res.statusCode).toBe(200);
    expect(job).toMatchObject({
      kind: 'voice',
      status: 'completed',
      conversationId: conversation.id,
    });
    const { transcript, reply, audio } = job.result;
    expect(transcript.text.length).toBeGreaterThan(0);
    expect(reply.content.length).toBeGreaterThan(0);
    expect(audio).toMatchObject({
      contentType: 'audio/wav',
      url: `/v1/audio/jobs/${job.id}/content`,
    });
    const messages = (await member.client.get(`/v1/conversations/${conversation.id}/messages`)).body
      .items;
    expect(messages.map((m: { id: string; content: string }) => [m.id, m.content])).toEqual([
      [reply.userMessageId, transcript.text],
      [reply.messageId, reply.content],
    ]);
    expect((await content(job.id)).statusCode).toBe(200);
    // Someone else's conversation is not found.
    const outsider = await createUser(await createTenant(t.app));
    const theirs = await t.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversation.id}/voice`,
      payload,
      headers: { ...headers, authorization: `Bearer ${outsider.client.credential}` },
    });
    expect(theirs.statusCode).toBe(404);
    // A voice turn is a chat turn: an API key needs both scopes.
    const audioOnly = await createApiKey(member.client, ['audio']);
    const keyed = await t.app.inject({
      method: 'POST',
      url: `/v1/conversations/${conversation.id}/voice`,
      payload,
      headers: { ...headers, authorization: `Bearer ${audioOnly.key}` },
    });
    expect(keyed.statusCode).toBe(403);
  });

  it('lists the engines in the health details, and the queues for superadmins only', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(JSON.parse(health.body).details.speech.local).toEqual({
      'espeak-ng': true,
      pocketsphinx: true,
      ffmpeg: true,
    });
    expect((await tenant.admin.client.get('/v1/admin/queues')).status).toBe(403);
    const board = await t.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: `Bearer ${tenant.admin.client.credential}` },
    });
    expect(board.statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
    const root = (await login(t.app, ROOT.email, ROOT.password)).accessToken;
    const queues = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/queues',
      headers: { authorization: `Bearer ${root}` },
    });
    const tts = JSON.parse(queues.body).items.find((q: { name: string }) => q.name === 'audio.tts');
    expect(tts.counts).toEqual(
      expect.objectContaining({ waiting: expect.any(Number), completed: expect.any(Number) }),
    );
    // A browser signs in to the board with Basic authentication, the token as password.
    const basic = Buffer.from(`root:${root}`).toString('base64');
    const page = await t.app.inject({
      method: 'GET',
      url: '/admin/queues',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await t.app.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(JSON.parse(api.body).queues.map((q: { name: string }) => q.name)).toContain('audio.stt');
  });
});
