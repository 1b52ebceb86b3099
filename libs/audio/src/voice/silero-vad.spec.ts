/**
 * @jest-environment ./test/support/node-realm-environment.cjs
 */
import { speechEnginesInstalled, spokenPcm } from '../../../../test/support/audio';
import { describeWhen } from '../../../../test/support/skip';
import { FrameBuffer } from './pcm';
import { packagedVadModel, SileroVadModel, VAD_FRAME_MS, VAD_FRAME_SAMPLES } from './silero-vad';
import { VoiceActivity } from './voice-activity';

/** The real Silero model on onnxruntime-node, fed espeak-ng speech between silences. */
describeWhen(speechEnginesInstalled, 'espeak-ng and sox are not installed')('Silero VAD', () => {
  const model = new SileroVadModel(packagedVadModel());

  const run = async (samples: Int16Array) => {
    const stream = model.stream();
    const activity = new VoiceActivity({
      threshold: 0.5,
      negativeThreshold: 0.35,
      minSilenceMs: 500,
    });
    const events: { type: string; atMs: number }[] = [];
    const frames = new FrameBuffer(VAD_FRAME_SAMPLES).push(samples);
    for (const [i, frame] of frames.entries()) {
      const event = activity.frame(await stream.probability(frame));
      if (event) events.push({ type: event.type, atMs: i * VAD_FRAME_MS });
    }
    return events;
  };

  it('finds one turn in a spoken sentence with silence around it', async () => {
    const speech = spokenPcm('Hello, I would like to know where my parcel is.', {
      silenceBeforeMs: 1000,
      silenceAfterMs: 1500,
    });
    const events = await run(speech);
    expect(events.map((e) => e.type)).toEqual(['speech_start', 'speech_end']);
    expect(events[0]!.atMs).toBeGreaterThan(900);
    expect(events[0]!.atMs).toBeLessThan(1300);
    // espeak-ng ends its file with some silence of its own: find the last loud sample.
    let last = speech.length - 1;
    while (last > 0 && Math.abs(speech[last]!) < 1000) last--;
    const speechEndsMs = last / 16;
    // Ended after the minimum silence, not before the speech did.
    expect(events[1]!.atMs).toBeGreaterThan(speechEndsMs + 400);
    expect(events[1]!.atMs).toBeLessThan(speechEndsMs + 900);
  });

  it('hears nothing in silence or in low white noise', async () => {
    const noise = new Int16Array(16_000 * 2);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.round((Math.random() * 2 - 1) * 600);
    expect(await run(new Int16Array(16_000 * 2))).toEqual([]);
    expect(await run(noise)).toEqual([]);
  });

  it('keeps each stream apart on the one shared model', async () => {
    const speech = spokenPcm('Good morning.', { silenceBeforeMs: 500, silenceAfterMs: 1000 });
    const [a, b] = await Promise.all([run(speech), run(new Int16Array(speech.length))]);
    expect(a.map((e) => e.type)).toEqual(['speech_start', 'speech_end']);
    expect(b).toEqual([]);
  });
});
