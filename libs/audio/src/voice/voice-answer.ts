import type { Principal } from '@parley/auth';
import { ChatTurns, ConversationsService } from '@parley/conversation';
import type { CostSubject } from '@parley/cost';
import { CallerAbortedError } from '@parley/llm';
import { randomUUID } from 'node:crypto';
import { AnswerPlayback, type PlaybackOptions, type PlaybackSink } from './answer-playback';
import type { LiveSpeech } from './live-speech.service';
import { SentenceStream } from './sentence-stream';
import type { ServerEvent } from './voice-protocol';

export interface AnswerDeps {
  turns: ChatTurns;
  conversations: ConversationsService;
  speech: LiveSpeech;
}

export interface AnswerSettings {
  principal: Principal;
  conversationId: string;
  language?: string;
  voice?: string;
  model?: string;
  maxTokens?: number;
  playback: PlaybackOptions;
}

/** Moments of one answer, for the latency metrics (wall clock, ms). */
export interface AnswerMarks {
  firstToken?: number;
  firstSentence?: number;
  firstAudio?: number;
}

export type AnswerOutcome =
  | { kind: 'done'; messageId: string | null; status: string }
  | { kind: 'interrupted' }
  | { kind: 'failed'; error: unknown };

/**
 * One spoken answer to one caller turn: the transcript goes through the chat pipeline (its
 * guardrails, retrieval, tools and budgets, stored like any turn), the answer's deltas are
 * cut into sentences as they complete, each sentence is synthesised (one at a time, ahead of
 * playback) and played as paced frames. `interrupt` stops all of it at once, the generation
 * and pending synthesis included, and stores the message as interrupted with what was heard.
 */
export class VoiceAnswer {
  readonly id = randomUUID();
  readonly marks: AnswerMarks = {};
  private readonly abort = new AbortController();
  private readonly playback: AnswerPlayback;
  private interrupted = false;
  private synthesis: Promise<unknown> = Promise.resolve();
  private text = '';

  constructor(
    private readonly deps: AnswerDeps,
    private readonly settings: AnswerSettings,
    private readonly emit: (event: ServerEvent) => void,
    sink: PlaybackSink,
    onFirstAudio: () => void,
    /** Ends the session's part in the answer (a closed socket aborts it too). */
    sessionSignal: AbortSignal,
  ) {
    sessionSignal.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.playback = new AnswerPlayback(settings.playback, sink, () => {
      this.marks.firstAudio = Date.now();
      onFirstAudio();
    });
  }

  get audible(): boolean {
    return this.playback.started;
  }

  pause(): void {
    this.playback.pause();
  }

  resume(): void {
    this.playback.resume();
  }

  /** Runs the answer to `transcript` to its end, its interruption or its failure. */
  async run(transcript: string): Promise<AnswerOutcome> {
    const { principal, conversationId } = this.settings;
    const subject: CostSubject = {
      tenantId: principal.tenantId,
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
    };
    const sentences = new SentenceStream(this.settings.language?.split('-')[0] ?? 'en');
    const speak = (sentence: string) => {
      this.marks.firstSentence ??= Date.now();
      // One synthesis at a time, in order, while earlier sentences play.
      const samples = this.synthesis.then(() =>
        this.deps.speech.synthesize(
          subject,
          sentence,
          { voice: this.settings.voice, language: this.settings.language },
          this.settings.playback.sampleRate,
          this.abort.signal,
        ),
      );
      this.synthesis = samples.catch(() => undefined);
      this.playback.enqueue(sentence, samples);
    };
    this.emit({ type: 'response.started', responseId: this.id });
    let messageId: string | null = null;
    let status = 'complete';
    try {
      for await (const event of this.deps.turns.send(
        principal,
        conversationId,
        {
          content: transcript,
          requestId: this.id,
          model: this.settings.model,
          maxTokens: this.settings.maxTokens,
        },
        this.abort.signal,
      )) {
        if (event.type === 'delta') {
          this.marks.firstToken ??= Date.now();
          this.text += event.text;
          this.emit({ type: 'response.text.delta', responseId: this.id, delta: event.text });
          for (const sentence of sentences.push(event.text)) speak(sentence);
        } else if (event.type === 'done') {
          messageId = event.assistantMessage.id;
          status = event.assistantMessage.status;
        } else if (event.type === 'approval_required') {
          // Nobody can approve a tool call mid-call: the answer ends where it paused.
          messageId = event.messageId;
          status = 'awaiting_approval';
        }
      }
      for (const sentence of sentences.flush()) speak(sentence);
      this.playback.finish();
      await this.playback.done;
    } catch (error) {
      this.playback.stop();
      if (this.interrupted || error instanceof CallerAbortedError || this.abort.signal.aborted)
        return { kind: 'interrupted' };
      this.abort.abort();
      return { kind: 'failed', error };
    }
    if (this.interrupted) return { kind: 'interrupted' };
    this.emit({ type: 'response.done', responseId: this.id, messageId, text: this.text, status });
    return { kind: 'done', messageId, status };
  }

  /**
   * The caller talked over the answer: silence it now, stop the generation and the pending
   * synthesis, and store what was heard. Safe to call once the answer has finished playing.
   */
  async interrupt(): Promise<void> {
    if (this.interrupted) return;
    this.interrupted = true;
    this.playback.stop();
    const spokenText = this.playback.spokenText();
    const lastSequence = this.playback.lastSentSequence;
    this.abort.abort();
    // The pipeline stores the cut-off turn as it unwinds; wait for that before rewriting it.
    await this.settled();
    const messageId = await this.deps.conversations
      .recordInterrupted(this.settings.conversationId, this.id, spokenText)
      .catch(() => undefined);
    this.emit({
      type: 'response.interrupted',
      responseId: this.id,
      messageId: messageId ?? null,
      spokenText,
      lastSequence,
    });
  }

  private running?: Promise<AnswerOutcome>;

  /** Starts run() and remembers it, so interrupt() can wait for the stored turn. */
  start(transcript: string): Promise<AnswerOutcome> {
    this.running = this.run(transcript);
    return this.running;
  }

  private async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
