import { speechEnginesInstalled, spokenPcm } from '../../../../test/support/audio';
import { describeWhen } from '../../../../test/support/skip';
import { EchoGuard } from './echo-guard';

describeWhen(speechEnginesInstalled, 'espeak-ng and sox are not installed')('EchoGuard', () => {
  const CHUNK = 320; // 20 ms at 16 kHz
  const options = { threshold: 0.75, maxDelayMs: 600, windowMs: 300 };
  const answer = spokenPcm('Your parcel is on its way and should arrive on Friday morning.');
  const caller = spokenPcm('No wait, I asked about my refund instead.');

  /** Plays `sent` and receives `heard` chunk by chunk on a simulated clock. */
  const replay = (sent: Int16Array, heard: (i: number) => Int16Array | undefined) => {
    let now = 1_000_000;
    const guard = new EchoGuard(options, 16_000, () => now);
    for (let i = 0; i * CHUNK < sent.length; i++) {
      guard.played(sent.subarray(i * CHUNK, (i + 1) * CHUNK));
      const input = heard(i);
      if (input) guard.received(input);
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

  it('does not take the caller talking over the answer for an echo', () => {
    const guard = replay(answer, (i) => caller.subarray(i * CHUNK, (i + 1) * CHUNK));
    expect(guard.isEcho()).toBe(false);
  });

  it('is never an echo when nothing was played', () => {
    const guard = replay(new Int16Array(answer.length), (i) =>
      caller.subarray(i * CHUNK, (i + 1) * CHUNK),
    );
    expect(guard.isEcho()).toBe(false);
  });
});
