/**
 * @jest-environment ./test/support/node-realm-environment.cjs
 */
import { execFileSync } from 'node:child_process';
import { DataSource } from 'typeorm';
import { speechEnginesInstalled, spokenPcm } from '../support/audio';
import { FakeLlm } from '../support/fake-llm';
import { createTenant, createUser, type TestUser } from '../support/identity';
import { fakeLlmEnv } from '../support/knowledge-bases';
import { describeWhen } from '../support/skip';
import { createTestApp, METRICS_AUTH, type TestApp } from '../support/test-app';
import { VoiceClient } from '../support/voice-client';

const LONG_ANSWER = [
  'Your parcel left our warehouse on Monday morning.',
  'It is now with the courier in your region.',
  'Deliveries there usually take two more working days.',
  'You will get a text message with a delivery window.',
  'If nobody is home, the courier leaves a card with a pickup point.',
  'You can also change the address in your account until it ships.',
].join(' ');

/**
 * A client with no echo cancellation: an open microphone that hears each received frame
 * `delayMs` after it played (frames play back to back, as a speaker would play them), `gain`
 * times as loud, on top of whatever else it hears.
 */
function speakerphone(client: VoiceClient, gain: number, delayMs = 60) {
  const microphone = client.microphone();
  let playheadAt = 0;
  client.onFrame = (frame) => {
    const start = Math.max(Date.now(), playheadAt);
    playheadAt = start + frame.samples.length / 16;
    microphone.hear(
      frame.samples.map((s) => Math.round(s * gain)),
      start - Date.now() + delayMs,
    );
  };
  return microphone;
}

/** How often speech over an answer turned out to be of `kind`, from /metrics. */
async function interruptions(t: TestApp, kind: string): Promise<number> {
  const text = (await t.app.inject({ method: 'GET', url: '/metrics', headers: METRICS_AUTH })).body;
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`parley_voice_interruptions_total{kind="${kind}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * The realtime loop end to end: a client streams espeak-ng speech in real time to /v1/voice;
 * Parley detects the end of the turn (Silero VAD), transcribes it and answers through the chat
 * pipeline, sentence by sentence as speech; the fake upstream plays STT, LLM and TTS.
 */
describeWhen(speechEnginesInstalled, 'espeak-ng, sox and ffmpeg are not installed')(
  'realtime voice sessions (GET /v1/voice)',
  () => {
    let fake: FakeLlm;
    let t: TestApp;
    let member: TestUser;
    let url: string;
    let db: DataSource;

    beforeAll(async () => {
      fake = await FakeLlm.start({ reply: 'Your parcel arrives on Friday. Anything else?' });
      t = await createTestApp({
        env: {
          ...fakeLlmEnv(fake.url),
          AUDIO_PROVIDER: 'openai',
          AUDIO_BASE_URL: fake.url,
          AUDIO_API_KEY: 'sk-fake-audio',
          AUDIO_TTS_MODEL: 'fake-tts',
          AUDIO_STT_MODEL: 'fake-whisper',
          VOICE_MAX_SESSIONS_PER_TENANT: '2',
        },
      });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.getHttpServer().address() as { port: number };
      url = `ws://127.0.0.1:${port}/v1/voice`;
      db = t.app.get(DataSource);
      member = await createUser(await createTenant(t.app));
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });
    beforeEach(() => fake.reset());
    const open: VoiceClient[] = [];
    afterEach(async () => {
      for (const client of open.splice(0)) client.ws.terminate();
      // Sessions release their slots as they close.
      await new Promise((r) => setTimeout(r, 300));
    });

    const question = spokenPcm('Where is my parcel right now?', { silenceBeforeMs: 300 });
    const connect = async (query = '', token = member.client.credential!) => {
      const client = await VoiceClient.connect(`${url}${query}`, token);
      open.push(client);
      return client;
    };
    const messagesOf = async (conversationId: string) =>
      (await member.client.get(`/v1/conversations/${conversationId}/messages`)).body.items as {
        role: string;
        content: string;
        status: string;
      }[];

    it('hears a turn, answers it in text and speech, and stores both messages', async () => {
      fake.replyNext('Where is my parcel right now?', { model: 'fake-whisper' });
      const client = await connect();
      const started = await client.start();
      expect(started).toMatchObject({
        type: 'session.started',
        audio: { sampleRate: 16000 },
        output: { sampleRate: 16000 },
      });
      await client.stream(question);
      await client.silence(900);
      await client.waitFor((e) => e.type === 'response.done', 30_000);
      const types = client.events.map((e) => e.type);
      expect(types.slice(0, 5)).toEqual([
        'session.started',
        'vad.speech_started',
        'vad.speech_stopped',
        'transcript.final',
        'response.started',
      ]);
      expect(client.events.find((e) => e.type === 'transcript.final')?.text).toBe(
        'Where is my parcel right now?',
      );
      const deltas = client.events.filter((e) => e.type === 'response.text.delta');
      expect(deltas.map((e) => e.delta).join('')).toBe(
        'Your parcel arrives on Friday. Anything else?',
      );
      // Each sentence announced, then spoken as binary frames in sequence.
      expect(client.events.filter((e) => e.type === 'response.audio').map((e) => e.text)).toEqual([
        'Your parcel arrives on Friday.',
        'Anything else?',
      ]);
      expect(client.frames.length).toBeGreaterThan(10);
      expect(client.frames.map((f) => f.sequence)).toEqual(client.frames.map((_, i) => i));
      const done = client.events.find((e) => e.type === 'response.done')!;
      expect(done).toMatchObject({
        status: 'complete',
        text: 'Your parcel arrives on Friday. Anything else?',
      });
      // The speech the fake synthesised for each sentence, at the session's output rate.
      const speech = fake.requests.filter((r) => r.path === '/v1/audio/speech');
      expect(speech.map((r) => r.body.input)).toEqual([
        'Your parcel arrives on Friday.',
        'Anything else?',
      ]);
      const messages = await messagesOf(started.conversationId);
      expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
        ['user', 'complete', 'Where is my parcel right now?'],
        ['assistant', 'complete', 'Your parcel arrives on Friday. Anything else?'],
      ]);
      client.send({ type: 'session.end' });
      expect((await client.waitForClose()).code).toBe(1000);
    });

    it('stops speaking when the caller talks over the answer, and stores what was heard', async () => {
      fake.replyNext('Where is my parcel right now?', { model: 'fake-whisper' });
      fake.replyNext(LONG_ANSWER);
      fake.replyNext('Stop, I want to ask about a refund instead.', { model: 'fake-whisper' });
      fake.replyNext('Refunds take five working days.');
      const client = await connect();
      const { conversationId } = await client.start();
      await client.stream(question);
      await client.silence(700);
      // Let the answer play for a while, then talk over it.
      await client.waitFor((e) => e.type === 'response.audio', 30_000);
      await client.silence(1500);
      const framesBefore = client.frames.length;
      await client.stream(spokenPcm('Stop, I want to ask about a refund instead.'));
      const paused = await client.waitFor((e) => e.type === 'response.paused');
      await client.silence(900);
      const interrupted = await client.waitFor((e) => e.type === 'response.interrupted', 30_000);
      expect(framesBefore).toBeGreaterThan(0);
      // Audio stopped when the caller started speaking: at most the frames in flight after.
      const afterPause = client.frames.filter((f) => f.receivedAt > paused.receivedAt + 50);
      expect(afterPause.filter((f) => f.sequence <= interrupted.lastSequence)).toEqual([]);
      expect(interrupted.spokenText.length).toBeGreaterThan(0);
      expect(LONG_ANSWER.startsWith(interrupted.spokenText.split(' ').slice(0, 3).join(' '))).toBe(
        true,
      );
      expect(interrupted.spokenText.length).toBeLessThan(LONG_ANSWER.length);
      // The interrupting speech is the next turn, answered in turn.
      await client.waitFor(
        (e) =>
          e.type === 'transcript.final' && e.text === 'Stop, I want to ask about a refund instead.',
      );
      await client.waitFor((e) => e.type === 'response.done', 30_000);
      const messages = await messagesOf(conversationId);
      expect(messages.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'interrupted'],
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
      expect(messages[1]!.content).toBe(interrupted.spokenText);
      client.close();
    });

    it('does not let a backchannel or its own echo interrupt the answer', async () => {
      fake.replyNext('Where is my parcel right now?', { model: 'fake-whisper' });
      fake.replyNext(LONG_ANSWER);
      fake.replyNext('Okay.', { model: 'fake-whisper' });
      const client = await connect();
      const { conversationId } = await client.start();
      // The answer comes back through the microphone all along, as on a speakerphone.
      const microphone = speakerphone(client, 0.5);
      microphone.hear(question);
      await client.waitFor((e) => e.type === 'response.audio', 30_000);
      await new Promise((r) => setTimeout(r, 800));
      microphone.hear(spokenPcm('Okay.'));
      await client.waitFor((e) => e.type === 'response.resumed', 20_000);
      await client.waitFor((e) => e.type === 'response.done', 60_000);
      microphone.stop();
      expect(client.events.filter((e) => e.type === 'response.interrupted')).toEqual([]);
      const messages = await messagesOf(conversationId);
      expect(messages.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
      client.close();
    });

    it('releases the generation and the speech upstream when the caller hangs up mid-answer', async () => {
      fake.replyNext('Where is my parcel right now?', { model: 'fake-whisper' });
      fake.configure({ tokenDelayMs: 40 });
      fake.replyNext(LONG_ANSWER.repeat(3));
      try {
        const client = await connect();
        const { conversationId } = await client.start();
        await client.stream(question);
        await client.silence(700);
        await client.waitFor((e) => e.type === 'response.audio', 30_000);
        client.ws.terminate(); // abrupt: no close frame
        const aborted = await fake.waitForClientAbort(10_000);
        expect(aborted.path).toBe('/v1/chat/completions');
        let stored: { status: string }[] = [];
        for (let i = 0; i < 100 && stored[1]?.status !== 'interrupted'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          stored = await messagesOf(conversationId);
        }
        expect(stored[1]?.status).toBe('interrupted');
        // Every request to the upstream has ended.
        await new Promise((r) => setTimeout(r, 300));
        expect(fake.requests.filter((r) => r.finishedAt === undefined && !r.clientAborted)).toEqual(
          [],
        );
      } finally {
        fake.configure({ tokenDelayMs: 0 });
      }
    });

    it('refuses a bad session.start with a problem that says what to fix, and audio before it', async () => {
      const client = await connect();
      client.send({ type: 'session.start', audio: { sampleRate: 11025 } });
      const error = await client.waitFor((e) => e.type === 'error');
      expect(error.error).toMatchObject({ status: 400, code: 'VOICE_PROTOCOL' });
      expect(JSON.stringify(error.error.errors)).toContain(
        'audio.sampleRate must be one of 8000, 16000, 24000, 48000',
      );
      expect((await client.waitForClose()).code).toBe(4400);

      const early = await connect();
      early.ws.send(Buffer.alloc(640));
      const refused = await early.waitFor((e) => e.type === 'error');
      expect(refused.error.detail).toContain('session.start');
      expect((await early.waitForClose()).code).toBe(4400);
    });

    it('authenticates the handshake and bounds the sessions of a tenant', async () => {
      const anonymous = await connect('', 'not-a-token');
      expect((await anonymous.waitForClose()).code).toBe(4401);

      const a = await connect();
      const b = await connect();
      await a.start();
      await b.start();
      const c = await connect();
      const full = await c.waitFor((e) => e.type === 'error');
      expect(full.error.code).toBe('TOO_MANY_VOICE_SESSIONS');
      expect((await c.waitForClose()).code).toBe(4429);
      a.close();
      await a.waitForClose();
      await new Promise((r) => setTimeout(r, 200));
      const d = await connect();
      expect((await d.start()).type).toBe('session.started');
      b.close();
      d.close();
    });

    it('binds to an existing conversation of the caller and to no one else’s', async () => {
      const own = (await member.client.post('/v1/conversations', {})).body.id as string;
      const client = await VoiceClient.connect(
        `${url}?conversationId=${own}`,
        member.client.credential!,
      );
      expect((await client.start()).conversationId).toBe(own);
      client.close();
      const stranger = await createUser(await createTenant(t.app));
      const theirs = await VoiceClient.connect(
        `${url}?conversationId=${own}`,
        stranger.client.credential!,
      );
      const error = await theirs.waitFor((e) => e.type === 'error');
      expect(error.error.status).toBe(404);
      await theirs.waitForClose();
      void db;
    });
  },
);

/** The same loop on the local engines: pocketsphinx hears the caller, espeak-ng answers. */
describeWhen(speechEnginesInstalled, 'espeak-ng, pocketsphinx, sox and ffmpeg are not installed')(
  'realtime voice sessions on the local speech engines',
  () => {
    // These play speech in real time through a simulated speakerphone: on a shared 2-core
    // machine a stalled timer can shift the echo enough to read as a barge-in (seen once in
    // ~10 CI runs). A real fault fails all three tries; each failure is still printed.
    jest.retryTimes(2, { logErrorsBeforeRetry: true });
    let fake: FakeLlm;
    let t: TestApp;
    let member: TestUser;
    let url: string;

    beforeAll(async () => {
      fake = await FakeLlm.start({ reply: LONG_ANSWER });
      t = await createTestApp({
        env: { ...fakeLlmEnv(fake.url), AUDIO_PROVIDER: 'local', VOICE_IDLE_TIMEOUT_SECONDS: '5' },
      });
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.getHttpServer().address() as { port: number };
      url = `ws://127.0.0.1:${port}/v1/voice`;
      const tenant = await createTenant(t.app);
      // pocketsphinx's transcripts are often garbled, which the injection classifier may read
      // as suspicious; these tests are about the loop, not that guardrail.
      const policy = await tenant.admin.client.put('/v1/admin/guardrails', {
        input: { prompt_injection: { action: 'off' } },
      });
      expect(policy.status).toBe(200);
      member = await createUser(tenant);
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });

    const childProcesses = () =>
      execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim())
        .filter((c) => /espeak|pocketsphinx|ffmpeg/.test(c));

    it('answers a spoken question in speech, and its own echo does not interrupt it', async () => {
      const client = await VoiceClient.connect(url, member.client.credential!);
      await client.start();
      const echoesBefore = await interruptions(t, 'echo');
      const microphone = speakerphone(client, 0.6);
      microphone.hear(spokenPcm('Hello, where is my parcel?', { silenceBeforeMs: 300 }));
      const transcript = await client.waitFor((e) => e.type === 'transcript.final', 30_000);
      expect(transcript.text.length).toBeGreaterThan(0);
      const done = await client.waitFor((e) => e.type === 'response.done', 90_000);
      microphone.stop();
      expect(done.status).toBe('complete');
      expect(client.events.filter((e) => e.type === 'response.interrupted')).toEqual([]);
      // The echo was heard as speech, and recognised as the answer's own.
      expect(await interruptions(t, 'echo')).toBeGreaterThan(echoesBefore);
      expect(client.frames.length).toBeGreaterThan(50);
      client.close();
    });

    it('leaves no engine process behind when the caller hangs up mid-answer', async () => {
      const client = await VoiceClient.connect(url, member.client.credential!);
      await client.start();
      await client.stream(spokenPcm('Where is my parcel today?', { silenceBeforeMs: 300 }));
      await client.silence(800);
      await client.waitFor((e) => e.type === 'response.audio', 30_000);
      client.ws.terminate();
      let left = childProcesses();
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = childProcesses();
      }
      expect(left).toEqual([]);
    });

    it('closes a session that sends no audio for VOICE_IDLE_TIMEOUT_SECONDS', async () => {
      const client = await VoiceClient.connect(url, member.client.credential!);
      await client.start();
      const closed = await client.waitForClose(15_000);
      expect(closed.code).toBe(4408);
      expect(client.events.find((e) => e.type === 'error')?.error.code).toBe('VOICE_SESSION_IDLE');
    });
  },
);
