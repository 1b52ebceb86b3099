import { Logger } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { type AppConfig, AppError, openSpan, toAppError, toProblem } from '@parley/core';
import { VoiceProtocolError, VoiceSessionExpiredError } from '../audio.errors';
import { EchoGuard } from './echo-guard';
import type { LiveSpeech } from './live-speech.service';
import { FrameBuffer, Pcm16Reader, resample } from './pcm';
import type { SileroVadModel } from './silero-vad';
import { VAD_FRAME_MS, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE } from './silero-vad';
import { type AnswerDeps, VoiceAnswer } from './voice-answer';
import { VoiceActivity } from './voice-activity';
import type { VoiceMetrics } from './voice.metrics';
import type { ServerEvent, SessionStart } from './voice-protocol';
import { VoiceStateMachine } from './voice-state';

/**
 * How long before the end-of-turn silence is complete the utterance is sent to transcription,
 * so that the transcript is (mostly) back when the turn ends. Speech that resumes cancels it.
 */
const EARLY_TRANSCRIPTION_MS = 200;

/** Speech over the answer longer than this is no backchannel: it interrupts without a transcript. */
const BACKCHANNEL_MAX_MS = 1500;

export interface VoiceTransport {
  json(event: ServerEvent): void;
  binary(bytes: Buffer): void;
  buffered(): number;
  close(code: number, reason: string): void;
}

export interface VoiceSessionDeps extends AnswerDeps {
  vad: SileroVadModel;
  speech: LiveSpeech;
  metrics: VoiceMetrics;
  config: AppConfig['voice'];
  /**
   * Checks the caller again (a revoked key or disabled user ends the session) and counts the
   * turn against its chat rate limit (throws 429); returns the caller as it stands now.
   */
  admitTurn: (principal: Principal) => Promise<Principal>;
}

/** Close codes in the private range (like HTTP statuses), so a client can tell why. */
export const VOICE_CLOSE = { protocol: 4400, timeout: 4408, slow: 4409 } as const;

/**
 * One live voice conversation on one socket. Audio comes in, is resampled to 16 kHz and read
 * by the VAD frame by frame (in order, on one promise chain); the caller's turns become
 * answers (VoiceAnswer); speech over an answer pauses its audio at once and, once it is known
 * to be a real interruption (long enough, not a backchannel, not our own echo), stops it.
 * Every step moves the VoiceStateMachine; closing releases every resource the session holds.
 */
export class VoiceSession {
  private readonly logger = new Logger('VoiceSession');
  // Idle time counts only while the session listens: an answer being given is activity.
  private readonly machine = new VoiceStateMachine((_from, to) => {
    if (to === 'listening') this.touch();
    else clearTimeout(this.idleTimer);
  });
  private readonly lifetime = new AbortController();
  private options!: SessionStart;
  private activity!: VoiceActivity;
  private vadStream!: { probability(frame: Int16Array): Promise<number> };
  private echo!: EchoGuard;
  private frames = new FrameBuffer(VAD_FRAME_SAMPLES);
  private readonly reader = new Pcm16Reader();
  private chain: Promise<void> = Promise.resolve();
  private preroll: Int16Array[] = [];
  private utterance: Int16Array[] = [];
  private inputMs = 0;
  private lastVoiceAt = 0;
  /**
   * Speech over an answer: `candidate` until it has lasted minSpeechMs, then `echo` (the
   * answer's own audio coming back: ignored) or `paused` (the answer's audio holds until the
   * speech is known to be a real interruption), or `interrupted` once it is.
   */
  private overlap?: 'candidate' | 'echo' | 'paused' | 'interrupted';
  private answer?: VoiceAnswer;
  private pendingTurn?: { utterance: Int16Array[]; abort: AbortController };
  /** A transcription started while the caller's silence was not yet the end of their turn. */
  private early?: { text: Promise<string>; abort: AbortController };
  /** A barge-in being wound up (the cut-off turn is stored before the next one starts). */
  private interrupting: Promise<void> = Promise.resolve();
  private sequence = 0;
  private idleTimer?: NodeJS.Timeout;
  private maxTimer?: NodeJS.Timeout;
  private readonly work = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: VoiceSessionDeps,
    private principal: Principal,
    readonly conversationId: string,
    readonly id: string,
    private readonly transport: VoiceTransport,
  ) {}

  get state() {
    return this.machine.state;
  }

  /** session.start: the formats are set, the timers run, and the session listens. */
  start(options: SessionStart): void {
    if (this.machine.state !== 'idle')
      throw new VoiceProtocolError('session.start was already sent.');
    const config = this.deps.config;
    this.options = options;
    this.activity = new VoiceActivity({
      threshold: config.vad.threshold,
      negativeThreshold: Math.min(config.vad.negativeThreshold, config.vad.threshold),
      minSilenceMs: config.vad.minSilenceMs,
    });
    this.vadStream = this.deps.vad.stream();
    this.echo = new EchoGuard(
      {
        threshold: config.bargeIn.echo.threshold,
        maxDelayMs: config.bargeIn.echo.maxDelayMs,
        windowMs: 400,
      },
      VAD_SAMPLE_RATE,
    );
    this.machine.apply('start');
    this.maxTimer = setTimeout(
      () =>
        this.expire(
          'VOICE_SESSION_TOO_LONG',
          `The session reached its maximum length of ${config.maxDurationSeconds} s (VOICE_MAX_DURATION_SECONDS).`,
        ),
      config.maxDurationSeconds * 1000,
    );
    this.transport.json({
      type: 'session.started',
      sessionId: this.id,
      conversationId: this.conversationId,
      audio: { sampleRate: options.audio.sampleRate, frameMs: VAD_FRAME_MS },
      output: { sampleRate: options.output.sampleRate, frameMs: config.outputFrameMs },
    });
  }

  /** A binary frame of caller audio. */
  audio(bytes: Buffer): void {
    if (this.machine.state === 'idle')
      throw new VoiceProtocolError('Send session.start before any audio.');
    if (this.machine.state === 'closed') return;
    this.touch();
    const samples = resample(
      this.reader.read(bytes),
      this.options.audio.sampleRate,
      VAD_SAMPLE_RATE,
    );
    this.echo.received(samples);
    const frames = this.frames.push(samples);
    if (frames.length === 0) return;
    this.chain = this.chain
      .then(async () => {
        for (const frame of frames) {
          if (this.machine.state === 'closed') return;
          await this.onFrame(frame);
        }
      })
      .catch((error: unknown) => this.fail(error));
  }

  /** response.cancel: the client stops the answer itself. */
  cancel(): void {
    if (this.answer) void this.track(this.interruptAnswer());
  }

  /** Ends the session and everything it started; safe to call more than once. */
  async close(reason: string): Promise<void> {
    if (this.machine.state === 'closed') return;
    this.machine.apply('close');
    clearTimeout(this.idleTimer);
    clearTimeout(this.maxTimer);
    this.lifetime.abort();
    this.pendingTurn?.abort.abort();
    this.early?.abort.abort();
    if (this.answer) await this.answer.interrupt().catch(() => undefined);
    await Promise.allSettled([...this.work]);
    this.deps.metrics.ended(reason);
  }

  private async onFrame(frame: Int16Array): Promise<void> {
    const probability = await this.vadStream.probability(frame);
    this.inputMs += VAD_FRAME_MS;
    if (probability >= this.deps.config.vad.negativeThreshold) this.lastVoiceAt = Date.now();
    const wasSpeaking = this.activity.inSpeech;
    const event = this.activity.frame(probability);
    if (!wasSpeaking && !event) {
      this.keepPreroll(frame);
      return;
    }
    if (event?.type === 'speech_start') {
      this.utterance = [...this.preroll, frame];
      this.preroll = [];
      this.onSpeechStart();
      return;
    }
    this.utterance.push(frame);
    if (event?.type === 'speech_end') return this.onSpeechEnd(event.speechMs);
    this.transcribeEarly();
    this.onSpeech(this.activity.currentSpeechMs);
  }

  /** Starts (or, if speech resumed, cancels) the transcription of a turn about to end. */
  private transcribeEarly(): void {
    const silence = this.activity.currentSilenceMs;
    if (silence === 0) {
      this.early?.abort.abort();
      this.early = undefined;
      return;
    }
    const minSilence = this.deps.config.vad.minSilenceMs;
    const startAt = Math.max(minSilence / 2, minSilence - EARLY_TRANSCRIPTION_MS);
    if (this.early || this.overlap || this.machine.state !== 'listening' || silence < startAt)
      return;
    const abort = new AbortController();
    const text = this.transcribe(
      [...this.utterance],
      AbortSignal.any([abort.signal, this.lifetime.signal]),
    );
    text.catch(() => undefined);
    this.early = { text, abort };
  }

  private keepPreroll(frame: Int16Array): void {
    this.preroll.push(frame);
    const keep = Math.ceil(this.deps.config.vad.prerollMs / VAD_FRAME_MS);
    while (this.preroll.length > keep) this.preroll.shift();
  }

  private onSpeechStart(): void {
    const answering = this.machine.state === 'thinking' || this.machine.state === 'speaking';
    if (answering && this.answer) {
      this.overlap = 'candidate';
      this.onSpeech(VAD_FRAME_MS);
      if ((this.overlap as string) === 'echo') return; // onSpeech may have judged it
    } else if (this.pendingTurn) {
      // The caller goes on after a pause while their last words are being transcribed: one
      // turn, not two.
      this.pendingTurn.abort.abort();
      this.utterance = [...this.pendingTurn.utterance, ...this.utterance];
      this.pendingTurn = undefined;
      this.machine.apply('barge_in');
      this.machine.apply('resume_listening');
    }
    this.transport.json({ type: 'vad.speech_started', atMs: Math.round(this.inputMs) });
  }

  /**
   * Speech goes on. Over an answer, once it has lasted minSpeechMs it is either the answer's
   * echo (judged on that much audio, which is enough to correlate) or it pauses the answer's
   * audio at once; long speech is no backchannel and interrupts without waiting for words.
   */
  private onSpeech(speechMs: number): void {
    if (this.cutLongUtterance()) return;
    const { minSpeechMs, minWords } = this.deps.config.bargeIn;
    const answer = this.answer;
    if (!answer) return;
    // Judged on every frame until minSpeechMs: one clear match is enough to call it echo.
    if (this.overlap === 'candidate' && answer.audible && this.echo.isEcho()) {
      this.overlap = 'echo';
      this.deps.metrics.interruption('echo');
      return;
    }
    if (speechMs < minSpeechMs) return;
    if (this.overlap === 'candidate') {
      this.overlap = 'paused';
      answer.pause();
      if (answer.audible) this.transport.json({ type: 'response.paused', responseId: answer.id });
    }
    if (this.overlap === 'paused' && (minWords === 0 || speechMs >= BACKCHANNEL_MAX_MS)) {
      this.overlap = 'interrupted';
      void this.track(this.interruptAnswer());
    }
  }

  /** A turn longer than maxUtteranceSeconds is ended where it stands. */
  private cutLongUtterance(): boolean {
    if (this.utterance.length * VAD_FRAME_MS < this.deps.config.maxUtteranceSeconds * 1000)
      return false;
    this.activity.reset();
    void this.onSpeechEnd(this.deps.config.maxUtteranceSeconds * 1000);
    return true;
  }

  private async onSpeechEnd(speechMs: number): Promise<void> {
    const utterance = this.utterance;
    this.utterance = [];
    const early = this.early;
    this.early = undefined;
    const overlap = this.overlap;
    this.overlap = undefined;
    if (overlap === 'echo') return;
    this.transport.json({ type: 'vad.speech_stopped', atMs: Math.round(this.inputMs) });
    const speechEndAt = this.lastVoiceAt;
    const detectedAt = Date.now();
    if (overlap === 'candidate') {
      // Shorter than minSpeechMs: the answer never paused, and nothing changes.
      this.deps.metrics.interruption('false');
      return;
    }
    if (overlap === 'paused' && this.answer) {
      void this.track(this.decideOverlap(utterance, speechMs, speechEndAt, detectedAt));
      return;
    }
    // After a barge-in, the interrupting speech is the next turn once the old one is stored.
    await this.interrupting;
    if (this.machine.state !== 'listening') return early?.abort.abort();
    this.turn(utterance, speechEndAt, detectedAt, early?.text);
  }

  /** Speech over the answer has ended: a real interruption, or a false one. */
  private async decideOverlap(
    utterance: Int16Array[],
    speechMs: number,
    speechEndAt: number,
    detectedAt: number,
  ): Promise<void> {
    const answer = this.answer!;
    const { minSpeechMs, minWords, backchannels } = this.deps.config.bargeIn;
    let text: string | undefined;
    let real = speechMs >= minSpeechMs;
    if (real && (minWords > 0 || backchannels.length > 0)) {
      text = await this.transcribe(utterance, this.lifetime.signal);
      const words = text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
        .trim();
      const backchannel = backchannels.some((b) => b.toLowerCase() === words);
      real = !backchannel && words.split(/\s+/).filter(Boolean).length >= minWords;
    }
    if (this.answer !== answer || this.machine.state === 'closed') return;
    if (!real) {
      this.deps.metrics.interruption('false');
      if (this.deps.config.bargeIn.falseInterruption === 'resume') {
        answer.resume();
        if (answer.audible)
          this.transport.json({ type: 'response.resumed', responseId: answer.id });
      } else await this.interruptAnswer();
      return;
    }
    await this.interruptAnswer();
    if (this.machine.state === 'listening') this.turn(utterance, speechEndAt, detectedAt, text);
  }

  /** Barge-in: the answer stops, is stored as interrupted, and the session listens again. */
  private interruptAnswer(): Promise<void> {
    const answer = this.answer;
    if (!answer || !this.machine.can('barge_in')) return this.interrupting;
    this.machine.apply('barge_in');
    this.answer = undefined;
    this.deps.metrics.interruption('barge_in');
    this.interrupting = answer.interrupt().finally(() => {
      if (this.machine.can('resume_listening')) this.machine.apply('resume_listening');
    });
    return this.interrupting;
  }

  /** A caller turn: transcribed (unless already), answered, and back to listening. */
  private turn(
    utterance: Int16Array[],
    speechEndAt: number,
    detectedAt: number,
    known?: string | Promise<string>,
  ): void {
    this.machine.apply('end_of_turn');
    const abort = new AbortController();
    this.pendingTurn = { utterance, abort };
    void this.track(this.answerTurn(utterance, abort, speechEndAt, detectedAt, known));
  }

  private async answerTurn(
    utterance: Int16Array[],
    abort: AbortController,
    speechEndAt: number,
    detectedAt: number,
    known: string | Promise<string> | undefined,
  ): Promise<void> {
    const metrics = this.deps.metrics;
    const span = openSpan('parley.voice.turn', {
      attributes: {
        'parley.voice.session_id': this.id,
        'parley.conversation.id': this.conversationId,
      },
    });
    try {
      await span.within(async () => {
        const signal = AbortSignal.any([abort.signal, this.lifetime.signal]);
        // An early transcription that failed is done again now.
        const text =
          known === undefined
            ? await this.transcribe(utterance, signal)
            : await Promise.resolve(known).catch(() => this.transcribe(utterance, signal));
        if (abort.signal.aborted) return; // merged into a longer turn
        const transcribedAt = Date.now();
        this.transport.json({ type: 'transcript.final', text });
        if (!text) {
          this.pendingTurn = undefined;
          this.machine.apply('answered');
          return;
        }
        this.principal = await this.deps.admitTurn(this.principal);
        if (abort.signal.aborted) return;
        this.pendingTurn = undefined;
        const answer = new VoiceAnswer(
          this.deps,
          {
            principal: this.principal,
            conversationId: this.conversationId,
            language: this.options.language,
            voice: this.options.voice,
            model: this.options.model,
            maxTokens: this.options.maxTokens,
            playback: {
              sampleRate: this.options.output.sampleRate,
              frameMs: this.deps.config.outputFrameMs,
              leadMs: this.deps.config.playbackLeadMs,
              maxBufferedBytes: this.deps.config.maxBufferedBytes,
              slowClientMs: this.deps.config.slowClientSeconds * 1000,
            },
          },
          (event) => this.transport.json(event),
          {
            send: (samples, playsAt) => this.sendAudio(samples, playsAt),
            buffered: () => this.transport.buffered(),
            sentence: (sentence, firstSequence) =>
              this.transport.json({
                type: 'response.audio',
                responseId: answer.id,
                firstSequence,
                text: sentence,
              }),
          },
          () => {
            if (this.machine.can('first_audio')) this.machine.apply('first_audio');
          },
          this.lifetime.signal,
        );
        this.answer = answer;
        const outcome = await answer.start(text);
        if (this.answer === answer) this.answer = undefined;
        metrics.step('vad', speechEndAt, detectedAt);
        metrics.step('stt', speechEndAt, typeof known === 'string' ? undefined : transcribedAt);
        metrics.step('first_token', speechEndAt, answer.marks.firstToken);
        metrics.step('first_sentence', speechEndAt, answer.marks.firstSentence);
        metrics.step('first_audio', speechEndAt, answer.marks.firstAudio);
        span.span.setAttributes({
          'parley.voice.outcome': outcome.kind,
          ...(answer.marks.firstAudio
            ? { 'parley.voice.first_audio_ms': answer.marks.firstAudio - speechEndAt }
            : {}),
        });
        if (outcome.kind === 'failed') throw outcome.error;
        if (outcome.kind === 'done' && this.machine.can('answered')) this.machine.apply('answered');
      });
    } catch (error) {
      if (this.pendingTurn?.abort === abort) this.pendingTurn = undefined;
      if (this.machine.state === 'closed' || abort.signal.aborted) return;
      span.fail(error);
      this.report(error);
      if (this.machine.can('answered')) this.machine.apply('answered');
      if (error instanceof AppError && error.code === 'VOICE_CLIENT_TOO_SLOW')
        this.transport.close(VOICE_CLOSE.slow, 'client too slow');
    } finally {
      span.span.end();
    }
  }

  private transcribe(utterance: Int16Array[], signal: AbortSignal): Promise<string> {
    const joined = new Int16Array(utterance.length * VAD_FRAME_SAMPLES);
    utterance.forEach((frame, i) => joined.set(frame, i * VAD_FRAME_SAMPLES));
    const { tenantId, userId, apiKeyId } = this.principal;
    return this.deps.speech.transcribe(
      { tenantId, userId, apiKeyId },
      joined,
      this.options.language,
      signal,
    );
  }

  private sendAudio(samples: Int16Array, playsAt: number): number {
    const sequence = this.sequence++;
    const frame = Buffer.alloc(4 + samples.length * 2);
    frame.writeUInt32BE(sequence, 0);
    for (let i = 0; i < samples.length; i++) frame.writeInt16LE(samples[i]!, 4 + i * 2);
    this.transport.binary(frame);
    this.echo.played(resample(samples, this.options.output.sampleRate, VAD_SAMPLE_RATE), playsAt);
    return sequence;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.machine.state !== 'listening') return;
    const seconds = this.deps.config.idleTimeoutSeconds;
    this.idleTimer = setTimeout(
      () =>
        this.expire(
          'VOICE_SESSION_IDLE',
          `No audio arrived for ${seconds} s (VOICE_IDLE_TIMEOUT_SECONDS); the session was closed.`,
        ),
      seconds * 1000,
    );
  }

  private expire(code: string, message: string): void {
    this.report(new VoiceSessionExpiredError(code, message));
    this.transport.close(
      VOICE_CLOSE.timeout,
      code === 'VOICE_SESSION_IDLE' ? 'idle' : 'max duration',
    );
  }

  private report(error: unknown): void {
    const problem = toAppError(error);
    if (problem.status >= 500)
      this.logger.warn(`voice session ${this.id}: ${(error as Error).message}`);
    this.transport.json({ type: 'error', error: toProblem(problem, this.id) as never });
  }

  private fail(error: unknown): void {
    this.report(error);
    this.transport.close(1011, 'internal error');
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise)).catch(() => undefined);
    return promise;
  }
}
