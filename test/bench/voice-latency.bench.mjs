// End of the caller's speech → first byte of the answer's audio, over a voice session at
// /v1/voice, for --turns turns (20), in two setups:
//   fake:  STT, LLM and TTS from the fake upstream, each with a fixed latency (--upstream-ms,
//          50): what remains after the configured end-of-turn silence and the upstream's own
//          time on the critical path is Parley's overhead (VAD, pipeline, sentence cutting,
//          resampling, framing, the WebSocket).
//   local: pocketsphinx and espeak-ng on this machine (the LLM still the fake).
// The caller is espeak-ng speech streamed in real time; speech end is when its last voiced
// 20 ms chunk was sent. Prints JSON with p50/p95 of each figure.
// The caller's speech needs espeak-ng and sox; the local setup also pocketsphinx and ffmpeg.
// A turn that fails fails the bench.
//   node test/bench/voice-latency.bench.mjs [--turns 20] [--upstream-ms 50] [--min-silence-ms 300] [--only fake|local]
//     [--quick]   (one turn per setup)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  benchArgs,
  check,
  login,
  partlySkipped,
  quantile,
  root,
  skip,
  startServer,
  withTempDir,
} from './support.mjs';

const args = benchArgs({
  turns: { type: 'number', integer: true, min: 1, default: 20, quick: 1 },
  'upstream-ms': { type: 'number', default: 50 },
  'min-silence-ms': { type: 'number', integer: true, min: 1, default: 300 },
  only: { type: 'choice', choices: ['fake', 'local'] },
});
const TURNS = args.turns;
const UPSTREAM_MS = args['upstream-ms'];
const MIN_SILENCE_MS = args['min-silence-ms'];

const missing = (...commands) =>
  commands.filter(([command, flag]) => spawnSync(command, [flag]).error).map(([c]) => c);
const callerMissing = missing(['espeak-ng', '--version'], ['sox', '--version']);
if (callerMissing.length) skip(`the caller's speech needs ${callerMissing.join(' and ')}`);
const localMissing = missing(['pocketsphinx_continuous', '-h'], ['ffmpeg', '-version']);
const SETUPS = ['fake', 'local'].filter((setup) => !args.only || args.only === setup);
if (SETUPS.includes('local') && localMissing.length) {
  partlySkipped(`the local setup needs ${localMissing.join(' and ')}`);
  SETUPS.pop();
  if (!SETUPS.length) skip(`the local setup needs ${localMissing.join(' and ')}`);
}

const { FakeLlm } = await import(join(root, 'dist/test/support/fake-llm/index.js'));
// CommonJS modules built by swc: their exports are on `default` when Node cannot list them.
const load = async (path) => {
  const module = await import(join(root, path));
  return { ...module.default, ...module };
};
const { VoiceClient } = await load('dist/test/support/voice-client.js');
const { spokenPcm } = await load('dist/test/support/audio.js');

const QUESTIONS = [
  'Where is my parcel right now?',
  'How long does a refund take?',
  'Can I change my delivery address?',
  'What does the warranty cover?',
  'Do you ship to Switzerland?',
];
const REPLY = 'Sure, I can help with that. It usually takes two working days.';

const stats = (values) => {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return { n: s.length, p50: Math.round(quantile(s, 0.5)), p95: Math.round(quantile(s, 0.95)) };
};

/** The samples without espeak-ng's trailing silence, so that speech end is the last sound. */
function trimmed(samples) {
  let last = samples.length - 1;
  while (last > 0 && Math.abs(samples[last]) < 300) last--;
  return samples.subarray(0, last + 1);
}

/** Total time covered by the upstream's requests in [from, to] (overlaps counted once). */
function upstreamTime(requests, from, to) {
  const spans = requests
    .map((r) => [Math.max(from, r.receivedAt), Math.min(to, r.finishedAt ?? to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** One setup's turns; the setups run one after the other on one embedded database. */
async function run(data, setup, fake) {
  const server = startServer({
    PGLITE_DATA_DIR: join(data, 'db'),
    LLM_BASE_URL: fake.url,
    LLM_MODEL: 'fake-model',
    LLM_API_KEY: 'sk-bench',
    RATE_LIMIT_CHAT: '1000000/60',
    RATE_LIMIT_AUTH: '1000000/60',
    COST_UNKNOWN_MODEL_INPUT_PER_MTOK: '0.15',
    COST_UNKNOWN_MODEL_OUTPUT_PER_MTOK: '0.60',
    VOICE_MIN_SILENCE_MS: String(MIN_SILENCE_MS),
    AUDIO_DIR: join(data, `audio-${setup}`),
    ...(setup === 'fake'
      ? {
          AUDIO_PROVIDER: 'openai',
          AUDIO_BASE_URL: fake.url,
          AUDIO_API_KEY: 'sk-bench',
          // Names config/pricing.yaml prices; the fake answers whatever the name.
          AUDIO_TTS_MODEL: 'tts-1',
          AUDIO_STT_MODEL: 'whisper-1',
        }
      : { AUDIO_PROVIDER: 'local' }),
  });
  try {
    const port = await server.listening;
    const base = `http://127.0.0.1:${port}`;
    const accessToken = await login(base);
    const client = await VoiceClient.connect(`ws://127.0.0.1:${port}/v1/voice`, accessToken);
    const started = await client.start();
    check(started.type === 'session.started', `session.start answered ${JSON.stringify(started)}`);
    const turns = [];
    for (let i = 0; i < TURNS; i++) {
      const question = QUESTIONS[i % QUESTIONS.length];
      if (setup === 'fake') fake.replyNext(question, { model: 'whisper-1' });
      fake.replyNext(REPLY);
      const before = client.events.length;
      const framesBefore = client.frames.length;
      const speechEnd = await client.stream(trimmed(spokenPcm(question, { silenceBeforeMs: 200 })));
      const silence = client.silence(MIN_SILENCE_MS + 600);
      await client.waitFor(
        (e) =>
          client.events.indexOf(e) >= before && (e.type === 'response.done' || e.type === 'error'),
        60_000,
      );
      await silence;
      const events = client.events.slice(before);
      const at = (type) => events.find((e) => e.type === type)?.receivedAt;
      const firstAudio = client.frames[framesBefore]?.receivedAt;
      const error = events.find((e) => e.type === 'error');
      turns.push({
        error: error?.error?.code,
        endOfTurn: at('vad.speech_stopped') - speechEnd,
        transcript: at('transcript.final') - speechEnd,
        firstDelta: at('response.text.delta') - speechEnd,
        firstAudio: firstAudio - speechEnd,
        // The upstream's time while Parley waited for it: from the end of the turn (an early
        // transcription that overlapped the end-of-turn silence is not counted twice).
        upstream:
          setup === 'fake' && firstAudio
            ? upstreamTime(fake.requests, speechEnd + MIN_SILENCE_MS, firstAudio)
            : undefined,
      });
      // Let the answer finish playing and the session listen again.
      await new Promise((r) => setTimeout(r, 300));
    }
    client.send({ type: 'session.end' });
    const ok = turns.filter((t) => !t.error && Number.isFinite(t.firstAudio));
    return {
      setup,
      turns: turns.length,
      failedTurns: turns.length - ok.length,
      errors: [...new Set(turns.map((t) => t.error).filter(Boolean))],
      msFromSpeechEnd: {
        endOfTurnDetected: stats(ok.map((t) => t.endOfTurn)),
        transcript: stats(ok.map((t) => t.transcript)),
        firstTextDelta: stats(ok.map((t) => t.firstDelta)),
        firstAudioByte: stats(ok.map((t) => t.firstAudio)),
      },
      ...(setup === 'fake'
        ? {
            upstreamOnCriticalPathMs: stats(ok.map((t) => t.upstream)),
            // What is left once the configured end-of-turn silence and the upstream's time are
            // taken out: Parley's own share of the wait.
            parleyOverheadMs: stats(ok.map((t) => t.firstAudio - MIN_SILENCE_MS - t.upstream)),
          }
        : {}),
    };
  } finally {
    await server.stop();
  }
}

const fake = await FakeLlm.start({ ttftMs: UPSTREAM_MS, reply: REPLY });
const results = [];
try {
  await withTempDir('voice', async (data) => {
    for (const setup of SETUPS) results.push(await run(data, setup, fake));
  });
} finally {
  await fake.close();
}
console.log(
  JSON.stringify(
    {
      node: process.version,
      turns: TURNS,
      upstreamLatencyMs: UPSTREAM_MS,
      minSilenceMs: MIN_SILENCE_MS,
      note: 'speech end = last voiced chunk sent; the caller, Parley and the fake share the 2 cores',
      results,
    },
    null,
    2,
  ),
);
for (const r of results)
  check(
    r.failedTurns === 0,
    `${r.setup}: ${r.failedTurns} of ${r.turns} turns failed (${r.errors.join(', ') || 'no audio'})`,
  );
process.exit(0);
