import { SlowClientError } from '../audio.errors';
export interface PlaybackOptions {
  sampleRate: number;
  frameMs: number;
  /** How far ahead of real time audio may be sent (what the client buffers). */
  leadMs: number;
  maxBufferedBytes: number;
  slowClientMs: number;
}

export interface PlaybackSink {
  /** Sends one frame of samples that plays at `playsAt` (wall clock); returns its sequence. */
  send(samples: Int16Array, playsAt: number): number;
  /** Bytes handed to the socket that the client has not read yet. */
  buffered(): number;
  /** A sentence's frames start now, at this sequence number. */
  sentence(text: string, firstSequence: number): void;
}

interface Spoken {
  text: string;
  startMs: number;
  durationMs: number;
}

/**
 * Plays an answer's sentences, in order, as paced audio frames: never more than `leadMs`
 * ahead of real time, so that stopping (a barge-in) silences the caller within the lead and
 * what was heard can be told from what was merely generated. The playhead model: the client
 * plays what it has without gaps, starting when the first frame arrives; if it ran dry (the
 * next sentence was still being synthesised), it resumes when audio arrives again.
 */
export class AnswerPlayback {
  private readonly queue: { text: string; samples: Promise<Int16Array> }[] = [];
  private finished = false;
  private stopped = false;
  private paused = false;
  private wake?: () => void;
  private readonly spoken: Spoken[] = [];
  private sentMs = 0;
  /** When position 0 of the audio timeline played (or would have), on the wall clock. */
  private anchor?: number;
  private lastSequence = -1;
  readonly done: Promise<void>;

  constructor(
    private readonly options: PlaybackOptions,
    private readonly sink: PlaybackSink,
    private readonly onFirstAudio: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.done = this.run();
    this.done.catch(() => undefined);
  }

  /** Queues a sentence whose audio is on its way. */
  enqueue(text: string, samples: Promise<Int16Array>): void {
    samples.catch(() => undefined); // read in order by run(); not an unhandled rejection meanwhile
    this.queue.push({ text, samples });
    this.poke();
  }

  /** No more sentences will come. */
  finish(): void {
    this.finished = true;
    this.poke();
  }

  /** Holds the audio (speech over the answer that may be an interruption). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.poke();
  }

  /** Stops for good: nothing more is sent. */
  stop(): void {
    this.stopped = true;
    this.poke();
  }

  get started(): boolean {
    return this.anchor !== undefined;
  }

  get lastSentSequence(): number {
    return this.lastSequence;
  }

  /** Milliseconds of audio the client has played by now (under the playhead model). */
  playedMs(): number {
    if (this.anchor === undefined) return 0;
    return Math.min(this.sentMs, Math.max(0, this.now() - this.anchor));
  }

  /** The text the caller has heard: whole sentences, and the share of words of the current one. */
  spokenText(): string {
    const at = this.playedMs();
    const parts: string[] = [];
    for (const s of this.spoken) {
      if (at >= s.startMs + s.durationMs) parts.push(s.text);
      else if (at > s.startMs) {
        const words = s.text.split(/\s+/);
        const heard = Math.floor((words.length * (at - s.startMs)) / s.durationMs);
        if (heard > 0) parts.push(words.slice(0, heard).join(' '));
        break;
      } else break;
    }
    return parts.join(' ');
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForChange(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) setTimeout(resolve, Math.max(1, ms));
    });
  }

  private async run(): Promise<void> {
    const frameSamples = Math.round((this.options.sampleRate * this.options.frameMs) / 1000);
    for (;;) {
      while (!this.stopped && this.queue.length === 0 && !this.finished) await this.waitForChange();
      if (this.stopped) return;
      const next = this.queue.shift();
      if (!next) break; // finished, and everything queued was played
      const samples = await next.samples;
      if (this.stopped) return;
      if (samples.length === 0) continue;
      let first = true;
      for (let at = 0; at < samples.length; at += frameSamples) {
        await this.waitForTurn();
        if (this.stopped) return;
        const frame = samples.subarray(at, at + frameSamples);
        // A client that ran dry starts playing again when this frame arrives.
        if (this.anchor === undefined) {
          this.anchor = this.now();
          this.onFirstAudio();
        } else if (this.now() - this.anchor > this.sentMs) this.anchor = this.now() - this.sentMs;
        const sequence = this.sink.send(frame, this.anchor + this.sentMs);
        if (first) {
          this.sink.sentence(next.text, sequence);
          this.spoken.push({
            text: next.text,
            startMs: this.sentMs,
            durationMs: (samples.length / this.options.sampleRate) * 1000,
          });
          first = false;
        }
        this.lastSequence = sequence;
        this.sentMs += (frame.length / this.options.sampleRate) * 1000;
      }
    }
    // Finished: wait until the client has played it all, so turn-taking knows when it ends.
    while (!this.stopped && this.anchor !== undefined && this.playedMs() < this.sentMs) {
      await this.waitForChange(this.sentMs - this.playedMs());
    }
  }

  /** Waits while paused, while ahead of real time by the lead, and while the client lags. */
  private async waitForTurn(): Promise<void> {
    let slowSince: number | undefined;
    for (;;) {
      if (this.stopped) return;
      if (this.paused) {
        await this.waitForChange();
        continue;
      }
      if (this.sink.buffered() > this.options.maxBufferedBytes) {
        slowSince ??= this.now();
        if (this.now() - slowSince > this.options.slowClientMs)
          throw new SlowClientError(Math.round(this.options.slowClientMs / 1000));
        await this.waitForChange(20);
        continue;
      }
      const ahead = this.anchor === undefined ? 0 : this.sentMs - (this.now() - this.anchor);
      if (ahead <= this.options.leadMs) return;
      await this.waitForChange(ahead - this.options.leadMs);
    }
  }
}
