import { Injectable } from '@nestjs/common';
import { Metrics } from '@parley/core';

/** The steps of a turn, each timed from the end of the caller's speech. */
export type LatencyStep = 'vad' | 'stt' | 'first_token' | 'first_sentence' | 'first_audio';

/** What the voice loop reports to /metrics. */
@Injectable()
export class VoiceMetrics {
  private readonly latency;
  private readonly sessions;
  private readonly interruptions;
  private readonly closed;

  constructor(metrics: Metrics) {
    this.latency = metrics.histogram({
      name: 'parley_voice_latency_seconds',
      help: 'Time from the end of the caller speaking to each step of the answer (vad: end of turn detected, stt, first_token, first_sentence, first_audio).',
      labelNames: ['step'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    });
    this.sessions = metrics.gauge({
      name: 'parley_voice_sessions',
      help: 'Voice sessions open in this instance.',
    });
    this.interruptions = metrics.counter({
      name: 'parley_voice_interruptions_total',
      help: 'Speech over an answer, by what it turned out to be: barge_in, false (too short or a backchannel), echo (the answer coming back).',
      labelNames: ['kind'],
    });
    this.closed = metrics.counter({
      name: 'parley_voice_sessions_closed_total',
      help: 'Voice sessions ended, by reason (client, idle, max_duration, slow_client, error, shutdown).',
      labelNames: ['reason'],
    });
  }

  step(step: LatencyStep, fromMs: number, atMs: number | undefined): void {
    if (atMs !== undefined && atMs >= fromMs)
      this.latency.observe({ step }, (atMs - fromMs) / 1000);
  }

  opened(): void {
    this.sessions.inc();
  }

  ended(reason: string): void {
    this.sessions.dec();
    this.closed.inc({ reason });
  }

  interruption(kind: 'barge_in' | 'false' | 'echo'): void {
    this.interruptions.inc({ kind });
  }
}
