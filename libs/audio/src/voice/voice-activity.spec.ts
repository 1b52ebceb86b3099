import { VAD_FRAME_MS } from './silero-vad';
import { VoiceActivity } from './voice-activity';

const feed = (activity: VoiceActivity, probabilities: number[]) =>
  probabilities.map((p) => activity.frame(p)?.type ?? '.').join(' ');
const frames = (ms: number) => Math.ceil(ms / VAD_FRAME_MS);

describe('VoiceActivity', () => {
  const options = { threshold: 0.5, negativeThreshold: 0.35, minSilenceMs: 200 };

  it('starts on the first frame at the threshold and ends after the minimum silence', () => {
    const activity = new VoiceActivity(options);
    const silence = Array(frames(200)).fill(0.1);
    expect(feed(activity, [0.1, 0.6, 0.9, ...silence])).toBe(
      ['.', 'speech_start', '.', ...silence.slice(1).map(() => '.'), 'speech_end'].join(' '),
    );
    expect(activity.inSpeech).toBe(false);
  });

  it('does not end a turn on a pause shorter than the minimum silence, nor in the hysteresis band', () => {
    const activity = new VoiceActivity(options);
    activity.frame(0.9);
    const pause = Array(frames(200) - 1).fill(0.1);
    expect(feed(activity, [...pause, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4])).not.toContain(
      'speech_end',
    );
    expect(activity.inSpeech).toBe(true);
  });

  it('counts the speech of the current stretch', () => {
    const activity = new VoiceActivity(options);
    expect(activity.currentSpeechMs).toBe(0);
    feed(activity, [0.9, 0.9, 0.9]);
    expect(activity.currentSpeechMs).toBeCloseTo(3 * VAD_FRAME_MS);
    const end = [...Array(frames(200))].map(() => activity.frame(0)).find(Boolean);
    expect(end).toEqual({ type: 'speech_end', speechMs: 3 * VAD_FRAME_MS });
  });
});
