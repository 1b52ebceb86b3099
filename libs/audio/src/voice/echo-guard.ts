/** 10 ms bins of log energy, by wall-clock time. */
const BIN_MS = 10;
/** Input arriving this much later than its timeline says means the client paused sending. */
const RESYNC_MS = 250;

export interface EchoGuardOptions {
  /** Pearson correlation of the energy envelopes at or above which input is our own echo. */
  threshold: number;
  /** How far behind what was sent the echo may arrive (network, playback buffer, room). */
  maxDelayMs: number;
  /** How much of the latest input is compared. */
  windowMs: number;
}

/**
 * Tells the caller's speech from the assistant's own audio coming back through the caller's
 * microphone. The client is expected to cancel echo itself (browsers' echoCancellation, a
 * phone's AEC); this is the second line for clients that do not: the energy envelope of the
 * latest input is compared with that of the audio sent over the last `maxDelayMs`, and input
 * that follows the sent audio closely at some delay is echo, not a barge-in. Envelopes rather
 * than waveforms, because speakers, rooms and codecs change the wave but keep its rhythm.
 */
export class EchoGuard {
  private readonly sent = new Map<number, number>();
  private readonly heard = new Map<number, number>();
  /** Where the input timeline has reached (wall clock, ms). */
  private inputEnd?: number;

  constructor(
    private readonly options: EchoGuardOptions,
    private readonly sampleRate: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Audio sent to the client that starts playing at `playsAt` (wall clock, ms): it is sent
   * ahead of time, so its echo follows the playback, not the sending.
   */
  played(samples: Int16Array, playsAt: number): void {
    this.record(this.sent, samples, playsAt);
  }

  /**
   * Audio that came in from the client, just now. It is placed on the input's own timeline,
   * right after the chunk before it (chunks handled together after a busy moment of the event
   * loop were still recorded in real time by the client), unless the client paused sending.
   */
  received(samples: Int16Array): void {
    const duration = this.durationMs(samples);
    const now = this.now();
    let startsAt = this.inputEnd ?? now - duration;
    const late = now - (startsAt + duration);
    if (late > RESYNC_MS || late < -1000) startsAt = now - duration;
    this.inputEnd = startsAt + duration;
    this.record(this.heard, samples, startsAt);
  }

  /** Whether the latest input is (mostly) an echo of what was sent. */
  isEcho(): boolean {
    const end = Math.floor((this.inputEnd ?? this.now()) / BIN_MS);
    const bins = Math.round(this.options.windowMs / BIN_MS);
    const input: number[] = [];
    for (let b = end - bins; b < end; b++) input.push(this.heard.get(b) ?? SILENCE);
    if (spread(input) < 1e-6) return false;
    for (let lag = 0; lag <= this.options.maxDelayMs / BIN_MS; lag++) {
      const output: number[] = [];
      for (let b = end - bins; b < end; b++) output.push(this.sent.get(b - lag) ?? SILENCE);
      // Only audio with the ups and downs of speech can be recognised: a flat sound, or one
      // step from silence to sound, matches the onset of anything.
      if (!modulated(output)) continue;
      // Smoothed over 30 ms: timing jitter of a few bins (network, a busy event loop) must
      // not undo the match.
      if (pearson(smooth(input), smooth(output)) >= this.options.threshold) return true;
    }
    return false;
  }

  private durationMs(samples: Int16Array): number {
    return (samples.length / this.sampleRate) * 1000;
  }

  private record(into: Map<number, number>, samples: Int16Array, startsAt: number): void {
    const perBin = (this.sampleRate * BIN_MS) / 1000;
    const count = Math.floor(samples.length / perBin);
    const first = Math.floor(startsAt / BIN_MS);
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (let j = i * perBin; j < (i + 1) * perBin; j++) sum += samples[j]! * samples[j]!;
      into.set(first + i, Math.log10(sum / perBin + 1));
    }
    const oldest =
      Math.floor(this.now() / BIN_MS) -
      Math.ceil((this.options.maxDelayMs + this.options.windowMs) / BIN_MS) -
      10;
    for (const bin of into.keys()) if (bin < oldest) into.delete(bin);
  }
}

const SILENCE = 0;

/** Log-energy change (10 dB) that counts as a rise or a fall of the envelope. */
const STEP = 1;

/** Whether the envelope turns (rises, falls, rises) as syllables do. */
function modulated(values: number[]): boolean {
  let turns = 0;
  let direction = 0;
  let pivot = values[0]!;
  for (const v of values) {
    const moved = v - pivot;
    if (Math.abs(moved) < STEP) continue;
    const now = Math.sign(moved);
    if (now !== direction) turns++;
    direction = now;
    pivot = v;
  }
  return turns >= 3;
}

/** A 3-bin moving average. */
function smooth(values: number[]): number[] {
  return values.map((v, i) => (v + (values[i - 1] ?? v) + (values[i + 1] ?? v)) / 3);
}

function spread(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}
