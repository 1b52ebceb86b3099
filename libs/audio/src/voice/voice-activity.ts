import { VAD_FRAME_MS } from './silero-vad';

export interface VoiceActivityOptions {
  /** Probability at or above which a frame is speech. */
  threshold: number;
  /** Probability below which a frame counts towards silence (hysteresis: below threshold). */
  negativeThreshold: number;
  /** Silence this long after speech ends the caller's turn. */
  minSilenceMs: number;
}

export type VoiceActivityEvent =
  { type: 'speech_start' } | { type: 'speech_end'; speechMs: number };

/**
 * Turns per-frame speech probabilities into speech start and end: speech starts on the first
 * frame at the threshold, and ends after `minSilenceMs` of frames below the lower threshold
 * (frames in between neither start nor end anything), so a breath between two sentences is
 * not the end of a turn.
 */
export class VoiceActivity {
  private speaking = false;
  private silentMs = 0;
  private speechMs = 0;

  constructor(private readonly options: VoiceActivityOptions) {}

  get inSpeech(): boolean {
    return this.speaking;
  }

  /** Silence so far since the last speech of the current stretch (0 outside speech). */
  get currentSilenceMs(): number {
    return this.speaking ? this.silentMs : 0;
  }

  /** Speech so far in the current stretch (0 outside speech). */
  get currentSpeechMs(): number {
    return this.speaking ? this.speechMs : 0;
  }

  frame(probability: number): VoiceActivityEvent | undefined {
    if (!this.speaking) {
      if (probability < this.options.threshold) return undefined;
      this.speaking = true;
      this.silentMs = 0;
      this.speechMs = VAD_FRAME_MS;
      return { type: 'speech_start' };
    }
    if (probability >= this.options.negativeThreshold) {
      this.silentMs = 0;
      this.speechMs += VAD_FRAME_MS;
      return undefined;
    }
    this.silentMs += VAD_FRAME_MS;
    if (this.silentMs < this.options.minSilenceMs) return undefined;
    this.speaking = false;
    const speechMs = this.speechMs;
    this.speechMs = 0;
    return { type: 'speech_end', speechMs };
  }

  reset(): void {
    this.speaking = false;
    this.silentMs = 0;
    this.speechMs = 0;
  }
}
