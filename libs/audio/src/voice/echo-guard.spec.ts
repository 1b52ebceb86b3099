import { speechEnginesInstalled, spokenPcm } from '../../../../test/support/audio';
import { describeWhen } from '../../../../test/support/skip';
import { EchoGuard } from './echo-guard';

describeWhen(speechEnginesInstalled, 'espeak-ng and sox are not installed')('EchoGuard', () => {
  const CHUNK = 320; // 20 ms at 16 kHz
  const options = { threshold: 0.8, maxDelayMs: 600, windowMs: 400 };
  const answer = spokenPcm('Your parcel is on its way and should arrive on Friday morning.');
  const caller = spokenPcm('No wait, I asked about my refund instead.');

  /**
   * Plays `sent` and receives `heard` chunk by chunk on a simulated clock; with `burst`, the
   * received chunks are handled that many at a time, as after a busy moment of the event loop.
   */
  const replay = (sent: Int16Array, heard: (i: number) => Int16Array | undefined, burst = 1) => {
    let now = 1_000_000;
    const guard = new EchoGuard(options, 16_000, () => now);
    const waiting: Int16Array[] = [];
    for (let i = 0; i * CHUNK < sent.length; i++) {
      guard.played(sent.subarray(i * CHUNK, (i + 1) * CHUNK), now);
      const input = heard(i);
      if (input) waiting.push(input);
      if (waiting.length >= burst) for (const chunk of waiting.splice(0)) guard.received(chunk);
      now += 20;
    }
    return guard;
  };
  const quieter = (samples: Int16Array, gain: number) => samples.map((s) => Math.round(s * gain));

  it('recognises the answer coming back through the microphone, delayed and quieter', () => {
    const delayChunks = 12; // 240 ms
    const echo = quieter(answer, 0.3);
    const guard = replay(answer, (i) =>
      i >= delayChunks
        ? echo.subarray((i - delayChunks) * CHUNK, (i - delayChunks + 1) * CHUNK)
        : new Int16Array(CHUNK),
    );
    expect(guard.isEcho()).toBe(true);
  });

  it('recognises it when the input is handled in bursts', () => {
    const echo = quieter(answer, 0.3);
    const guard = replay(
      answer,
      (i) => (i >= 5 ? echo.subarray((i - 5) * CHUNK, (i - 4) * CHUNK) : new Int16Array(CHUNK)),
      6,
    );
    expect(guard.isEcho()).toBe(true);
  });

  it('does not take the caller talking over the answer for an echo', () => {
    const guard = replay(answer, (i) => caller.subarray(i * CHUNK, (i + 1) * CHUNK));
    expect(guard.isEcho()).toBe(false);
  });

  it('does not match speech against a steady tone that starts and stops', () => {
    // Tone sentences with gaps: steps from silence to sound match the onset of anything.
    const tone = Int16Array.from({ length: answer.length }, (_, i) =>
      Math.floor(i / 8000) % 2 ? 0 : Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)),
    );
    for (const offset of [0, 1600, 4000, 6400]) {
      const guard = replay(tone, (i) =>
        i * CHUNK >= offset
          ? caller.subarray(i * CHUNK - offset, i * CHUNK - offset + CHUNK)
          : new Int16Array(CHUNK),
      );
      expect(guard.isEcho()).toBe(false);
    }
  });

  it('is never an echo when nothing was played', () => {
    const guard = replay(new Int16Array(answer.length), (i) =>
      caller.subarray(i * CHUNK, (i + 1) * CHUNK),
    );
    expect(guard.isEcho()).toBe(false);
  });
});
