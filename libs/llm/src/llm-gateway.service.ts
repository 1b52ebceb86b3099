import { Injectable, Logger } from '@nestjs/common';
import { GEN_AI, AppConfig, Metrics, openSpan, SpanKind, withSpan } from '@parley/core';
import { BrokenCircuitError } from 'cockatiel';
import { extractiveAnswer } from './extractive-responder';
import {
  CallerAbortedError,
  LlmRequestRejectedError,
  LlmStreamInterruptedError,
  LlmStreamStalledError,
} from './llm.errors';
import type { ChatRequest, ChatStreamEvent, FinishReason, TokenUsage } from './llm.types';
import { type ChainEntry, ModelRouter } from './model-router.service';
import { genAiChatRequest, genAiRequest, recordAnswer } from './gen-ai-spans';
import type { AnswerPiece } from './ports/chat-model.port';
import { type Provider, ProviderRegistry } from './provider.registry';
import { countMessageTokens, countTextTokens } from './token-counter';

export interface EmbeddingResult {
  provider: string;
  model: string;
  vectors: number[][];
  promptTokens: number;
}

type Opened = {
  iterator: AsyncIterator<AnswerPiece[]>;
  /** The pieces read before the first content (the part of the stream that may be retried). */
  pending: AnswerPiece[];
  /** Aborts the upstream request (a stalled stream). */
  cut: AbortController;
};

/**
 * The LLM gateway: resolves the model chain, calls each provider through its policy (timeout,
 * retries, breaker), falls back along the chain, and when nothing can answer, hands over to
 * the extractive responder. Streaming is retried only until the first token; after that a
 * failure ends the stream. Knows nothing of conversations.
 */
@Injectable()
export class LlmGateway {
  private readonly logger = new Logger('Llm');

  private readonly requests;
  private readonly firstToken;
  private readonly fallbacks;

  constructor(
    private readonly router: ModelRouter,
    private readonly providers: ProviderRegistry,
    metrics: Metrics,
    private readonly config: AppConfig,
  ) {
    this.requests = metrics.histogram({
      name: 'parley_llm_request_duration_seconds',
      help: 'Chat completion duration, from the call to the last token, by provider, model and outcome.',
      labelNames: ['provider', 'model', 'outcome'],
    });
    this.firstToken = metrics.histogram({
      name: 'parley_llm_time_to_first_token_seconds',
      help: 'Time to the first streamed content, retries included, by provider and model.',
      labelNames: ['provider', 'model'],
    });
    this.fallbacks = metrics.counter({
      name: 'parley_llm_fallbacks_total',
      help: 'Times a deployment could not answer and the next one (or the extractive responder) was tried.',
      labelNames: ['from_provider', 'from_model', 'to'],
    });
  }

  /**
   * The deployments that may answer a model name, primary first; empty when no provider is
   * configured (the extractive responder answers). Throws for a name nothing serves.
   */
  chain(model: string): ChainEntry[] {
    return this.router.resolve(model);
  }

  /** Whether an embedding model is configured (EMBEDDING_MODEL). */
  get canEmbed(): boolean {
    return this.router.embeddingTarget() !== undefined;
  }

  /** Embeddings of texts, in order, from EMBEDDING_MODEL. Throws when none is configured. */
  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return (await this.embedWith(undefined, texts, signal)).vectors;
  }

  /**
   * Embeddings from `model` (an alias, `provider/model` or model name; EMBEDDING_MODEL when
   * absent), through the provider's policy: retried on 429/5xx/timeouts, counted by its breaker.
   * Returns what answered and the tokens it reported (counted here when it reports none).
   */
  async embedWith(
    model: string | undefined,
    texts: string[],
    signal?: AbortSignal,
  ): Promise<EmbeddingResult> {
    const target = this.router.embeddingTarget(model);
    if (!target) throw new Error('no embedding model is configured (EMBEDDING_MODEL)');
    const provider = this.providers.get(target.provider);
    const dimensions = this.router.embeddingDimensions;
    const result = await withSpan(
      `embeddings ${target.model}`,
      { kind: SpanKind.CLIENT, attributes: genAiRequest('embeddings', target) },
      async (span) => {
        const response = await provider.policy.execute(({ signal: attempt }) =>
          provider.model.embed(target.model, texts, {
            dimensions,
            signal: signal ? AbortSignal.any([attempt, signal]) : attempt,
          }),
        );
        if (response.promptTokens !== undefined)
          span.setAttribute(GEN_AI.inputTokens, response.promptTokens);
        return response;
      },
    );
    const { vectors } = result;
    if (vectors.length !== texts.length)
      throw new Error(
        `${target.provider}/${target.model} returned ${vectors.length} embeddings for ${texts.length} texts`,
      );
    return {
      provider: target.provider,
      model: target.model,
      vectors,
      promptTokens:
        result.promptTokens ?? texts.reduce((n, t) => n + countTextTokens(target.model, t), 0),
    };
  }

  /**
   * The first provider's moderation endpoint: category scores in [0, 1] by OpenAI's category
   * names. Throws when no provider is configured or the call fails; the caller decides what a
   * failure means.
   */
  async moderate(text: string, signal?: AbortSignal): Promise<Record<string, number>> {
    const first = this.router.firstProvider();
    if (!first) throw new Error('no provider is configured for moderation');
    return this.providers.get(first).model.moderate(text, signal);
  }

  async *stream(
    request: ChatRequest,
    signal: AbortSignal = new AbortController().signal,
  ): AsyncGenerator<ChatStreamEvent> {
    const chain = this.router.resolve(request.model);
    for (const [index, entry] of chain.entries()) {
      let opened: Opened;
      const started = performance.now();
      const labels = { provider: entry.provider, model: entry.model };
      // One GenAI client span per deployment tried: retries inside it, fallbacks beside it.
      const call = openSpan(`chat ${entry.model}`, {
        kind: SpanKind.CLIENT,
        attributes: genAiChatRequest(entry, request),
      });
      try {
        opened = await call.within(() => this.open(entry, request, signal));
        this.firstToken.observe(labels, (performance.now() - started) / 1000);
      } catch (error) {
        call.fail(error);
        call.span.end();
        this.requests.observe(
          { ...labels, outcome: 'unavailable' },
          (performance.now() - started) / 1000,
        );
        if (error instanceof CallerAbortedError || signal.aborted) throw new CallerAbortedError();
        const refused = this.providers.get(entry.provider).model.refusedStatus(error);
        if (refused !== undefined) throw new LlmRequestRejectedError(entry.provider, refused);
        const reason =
          error instanceof BrokenCircuitError ? 'circuit open' : (error as Error).message;
        this.logger.warn(
          `${entry.provider}/${entry.model} unavailable (${reason}); ${index + 1 < chain.length ? 'falling back' : 'no fallback left'}`,
        );
        const next = chain[index + 1];
        this.fallbacks.inc({
          from_provider: entry.provider,
          from_model: entry.model,
          to: next ? `${next.provider}/${next.model}` : 'extractive',
        });
        continue;
      }
      yield {
        type: 'start',
        responder: { provider: entry.provider, model: entry.model, extractive: false },
      };
      let outcome = 'error';
      try {
        yield* recordAnswer(call.span, entry.model, this.relay(entry, request, opened, signal));
        outcome = 'complete';
      } catch (error) {
        if (error instanceof CallerAbortedError) outcome = 'aborted';
        call.fail(error);
        throw error;
      } finally {
        this.requests.observe({ ...labels, outcome }, (performance.now() - started) / 1000);
        call.span.end();
      }
      return;
    }
    const answer = extractiveAnswer(request.messages, request.passages, request.question);
    const extractive = openSpan(`chat ${answer.model}`, {
      attributes: genAiChatRequest(answer, request),
    });
    extractive.span.setAttributes({
      [GEN_AI.responseModel]: answer.model,
      [GEN_AI.finishReasons]: ['stop'],
      [GEN_AI.inputTokens]: answer.usage.promptTokens,
      [GEN_AI.outputTokens]: answer.usage.completionTokens,
    });
    extractive.span.end();
    yield {
      type: 'start',
      responder: { provider: answer.provider, model: answer.model, extractive: true },
    };
    yield { type: 'delta', text: answer.text };
    yield { type: 'done', finishReason: 'stop', usage: answer.usage };
  }

  /** Opens the stream and waits for its first content, inside the provider's policy. */
  private open(
    entry: ChainEntry,
    request: ChatRequest,
    callerSignal: AbortSignal,
  ): Promise<Opened> {
    const provider = this.providers.get(entry.provider);
    return provider.policy.execute(async ({ signal }) => {
      const cut = new AbortController();
      try {
        const iterator = await provider.model.stream(
          entry.model,
          request,
          AbortSignal.any([signal, callerSignal, cut.signal]),
        );
        const pending: AnswerPiece[] = [];
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          pending.push(...next.value);
          // Anything but nothing: content, a tool call, the finish or the usage.
          if (next.value.length > 0) break;
        }
        return { iterator, pending, cut };
      } catch (error) {
        // An abort caused by the per-attempt timeout stays a (retryable) timeout.
        if (callerSignal.aborted) throw new CallerAbortedError();
        throw error;
      }
    });
  }

  /** Passes the stream on; from here nothing is retried. */
  private async *relay(
    entry: ChainEntry,
    request: ChatRequest,
    opened: Opened,
    signal: AbortSignal,
  ): AsyncGenerator<ChatStreamEvent> {
    const answer: { finishReason: FinishReason; usage?: TokenUsage; text: string } = {
      finishReason: 'stop',
      text: '',
    };
    yield* eventsOf(opened.pending, answer);
    const provider = this.providers.get(entry.provider);
    try {
      for await (const pieces of this.rest(opened, entry.provider)) yield* eventsOf(pieces, answer);
    } catch (error) {
      if (error instanceof LlmStreamStalledError) throw error;
      if (signal.aborted || provider.model.isAbort(error)) throw new CallerAbortedError();
      throw new LlmStreamInterruptedError(entry.provider);
    }
    // An aborted stream may simply end instead of throwing.
    if (signal.aborted) throw new CallerAbortedError();
    // Some servers send no usage; count it ourselves then.
    const usage = answer.usage ?? {
      promptTokens: countMessageTokens(entry.model, request.messages),
      completionTokens: countTextTokens(entry.model, answer.text),
    };
    yield { type: 'done', finishReason: answer.finishReason, usage };
  }

  /**
   * The rest of the stream, chunk by chunk. A provider that goes silent mid-answer would hold
   * the turn (and its reservation) open forever: each chunk must come within the idle timeout,
   * or the request is cut.
   */
  private async *rest(opened: Opened, provider: Provider['name']): AsyncGenerator<AnswerPiece[]> {
    const idleMs = this.config.llm.streamIdleTimeoutMs;
    let stalled = false;
    try {
      for (;;) {
        const timer = setTimeout(() => {
          stalled = true;
          opened.cut.abort();
        }, idleMs);
        let next: IteratorResult<AnswerPiece[]>;
        try {
          next = await opened.iterator.next();
        } finally {
          clearTimeout(timer);
        }
        if (next.done) break;
        yield next.value;
      }
    } catch (error) {
      if (stalled) throw new LlmStreamStalledError(provider, idleMs);
      throw error;
    }
    if (stalled) throw new LlmStreamStalledError(provider, idleMs);
  }
}

/** Pieces as the gateway's events (the finish and usage are kept for the closing `done`). */
function* eventsOf(
  pieces: AnswerPiece[],
  answer: { finishReason: FinishReason; usage?: TokenUsage; text: string },
): Generator<ChatStreamEvent> {
  for (const piece of pieces) {
    if (piece.type === 'delta') {
      answer.text += piece.text;
      yield piece;
    } else if (piece.type === 'tool_call') {
      answer.text += piece.arguments;
      yield piece;
    } else if (piece.type === 'finish') answer.finishReason = piece.reason;
    else answer.usage = piece.usage;
  }
}
