/** 10 ms bins of log energy, by wall-clock time. */
const BIN_MS = 10;

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

  constructor(
    private readonly options: EchoGuardOptions,
    private readonly sampleRate: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Audio that went out to the client, just now. */
  played(samples: Int16Array): void {
    this.record(this.sent, samples);
  }

  /** Audio that came in from the client, just now. */
  received(samples: Int16Array): void {
    this.record(this.heard, samples);
  }

  /** Whether the latest input is (mostly) an echo of what was sent. */
  isEcho(): boolean {
    const end = Math.floor(this.now() / BIN_MS);
    const bins = Math.round(this.options.windowMs / BIN_MS);
    const input: number[] = [];
    for (let b = end - bins; b < end; b++) input.push(this.heard.get(b) ?? SILENCE);
    if (spread(input) < 1e-6) return false;
    let best = -1;
    for (let lag = 0; lag <= this.options.maxDelayMs / BIN_MS; lag++) {
      const output: number[] = [];
      for (let b = end - bins; b < end; b++) output.push(this.sent.get(b - lag) ?? SILENCE);
      if (spread(output) < 1e-6) continue; // nothing was playing then
      best = Math.max(best, pearson(input, output));
      if (best >= this.options.threshold) return true;
    }
    return false;
  }

  private record(into: Map<number, number>, samples: Int16Array): void {
    const perBin = (this.sampleRate * BIN_MS) / 1000;
    const count = Math.floor(samples.length / perBin);
    // The chunk has just arrived or gone: its last bin is now.
    const last = Math.floor(this.now() / BIN_MS);
    for (let i = 0; i < count; i++) {
      let sum = 0;
      for (let j = i * perBin; j < (i + 1) * perBin; j++) sum += samples[j]! * samples[j]!;
      into.set(last - (count - 1 - i), Math.log10(sum / perBin + 1));
    }
    const oldest =
      last - Math.ceil((this.options.maxDelayMs + this.options.windowMs) / BIN_MS) - 10;
    for (const bin of into.keys()) if (bin < oldest) into.delete(bin);
  }
}

const SILENCE = 0;

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
