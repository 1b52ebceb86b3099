import { Injectable, Logger } from '@nestjs/common';
import { GEN_AI, AppConfig, AppError, Metrics, openSpan, SpanKind, withSpan } from '@parley/core';
import { BrokenCircuitError } from 'cockatiel';
import { APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { extractiveAnswer } from './extractive-responder';
import {
  LlmRequestRejectedError,
  LlmStreamInterruptedError,
  LlmStreamStalledError,
} from './llm.errors';
import type {
  ChatMessage,
  ChatRequest,
  ChatStreamEvent,
  FinishReason,
  TokenUsage,
} from './llm.types';
import { type ChainEntry, ModelRouter } from './model-router';
import { genAiChatRequest, genAiRequest, recordAnswer } from './gen-ai-spans';
import { isTransient } from './provider-policy';
import { ProviderRegistry } from './provider-registry';
import { countMessageTokens, countTextTokens } from './token-counter';

/**
 * The caller went away; neither a retry nor a breaker failure. If it reaches the error filter
 * (a JSON answer whose client disconnected), it is nginx's 499, logged at info: not a 5xx that
 * would count against the error rate.
 */
export class CallerAbortedError extends AppError {
  constructor() {
    super(
      'CLIENT_CLOSED_REQUEST',
      499,
      'The client closed the request before the answer was complete.',
      {
        logLevel: 'info',
      },
    );
  }
}

export interface EmbeddingResult {
  provider: string;
  model: string;
  vectors: number[][];
  promptTokens: number;
}

type Opened = {
  iterator: AsyncIterator<ChatCompletionChunk>;
  pending: ChatCompletionChunk[];
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
          provider.client.embeddings.create(
            { model: target.model, input: texts, ...(dimensions ? { dimensions } : {}) },
            { signal: signal ? AbortSignal.any([attempt, signal]) : attempt },
          ),
        );
        if (response.usage) span.setAttribute(GEN_AI.inputTokens, response.usage.prompt_tokens);
        return response;
      },
    );
    const vectors = [...result.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    if (vectors.length !== texts.length)
      throw new Error(
        `${target.provider}/${target.model} returned ${vectors.length} embeddings for ${texts.length} texts`,
      );
    return {
      provider: target.provider,
      model: target.model,
      vectors,
      promptTokens:
        result.usage?.prompt_tokens ??
        texts.reduce((n, t) => n + countTextTokens(target.model, t), 0),
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
    const result = await this.providers
      .get(first)
      .client.moderations.create({ model: 'omni-moderation-latest', input: text }, { signal });
    return { ...(result.results[0]?.category_scores as unknown as Record<string, number>) };
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
        if (error instanceof APIError && !isTransient(error))
          throw new LlmRequestRejectedError(entry.provider, error.status ?? 0);
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
    const answer = extractiveAnswer(request.messages, request.passages);
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
        const stream = await provider.client.chat.completions.create(
          {
            model: entry.model,
            messages: request.messages.map(toOpenAiMessage),
            ...toolParams(request),
            stream: true,
            stream_options: { include_usage: true },
            ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
            ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
            ...(request.user ? { user: request.user } : {}),
          },
          { signal: AbortSignal.any([signal, callerSignal, cut.signal]) },
        );
        const iterator = stream[Symbol.asyncIterator]();
        const pending: ChatCompletionChunk[] = [];
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          pending.push(next.value);
          const choice = next.value.choices[0];
          if (
            choice?.delta?.content ||
            choice?.delta?.tool_calls?.length ||
            choice?.finish_reason ||
            next.value.usage
          )
            break;
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
    let finishReason: FinishReason = 'stop';
    let usage: TokenUsage | undefined;
    let text = '';
    const handle = function* (chunk: ChatCompletionChunk): Generator<ChatStreamEvent> {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) {
        text += choice.delta.content;
        yield { type: 'delta', text: choice.delta.content };
      }
      for (const call of choice?.delta?.tool_calls ?? []) {
        text += call.function?.arguments ?? '';
        yield {
          type: 'tool_call',
          index: call.index,
          ...(call.id ? { id: call.id } : {}),
          ...(call.function?.name ? { name: call.function.name } : {}),
          arguments: call.function?.arguments ?? '',
        };
      }
      if (choice?.finish_reason) finishReason = toFinishReason(choice.finish_reason);
      if (chunk.usage)
        usage = {
          promptTokens: chunk.usage.prompt_tokens,
          completionTokens: chunk.usage.completion_tokens,
          cachedPromptTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
        };
    };
    for (const chunk of opened.pending) yield* handle(chunk);
    // A provider that goes silent mid-answer would hold the turn (and its reservation) open
    // forever: each chunk must come within the idle timeout, or the request is cut.
    const idleMs = this.config.llm.streamIdleTimeoutMs;
    let stalled = false;
    try {
      for (;;) {
        const timer = setTimeout(() => {
          stalled = true;
          opened.cut.abort();
        }, idleMs);
        let next: IteratorResult<ChatCompletionChunk>;
        try {
          next = await opened.iterator.next();
        } finally {
          clearTimeout(timer);
        }
        if (next.done) break;
        yield* handle(next.value);
      }
    } catch (error) {
      if (stalled) throw new LlmStreamStalledError(entry.provider, idleMs);
      if (signal.aborted || error instanceof APIUserAbortError) throw new CallerAbortedError();
      throw new LlmStreamInterruptedError(entry.provider);
    }
    if (stalled) throw new LlmStreamStalledError(entry.provider, idleMs);
    // An aborted stream may simply end instead of throwing.
    if (signal.aborted) throw new CallerAbortedError();
    // Some servers send no usage; count it ourselves then.
    usage ??= {
      promptTokens: countMessageTokens(entry.model, request.messages),
      completionTokens: countTextTokens(entry.model, text),
    };
    yield { type: 'done', finishReason, usage };
  }
}

const toFinishReason = (reason: string): FinishReason =>
  reason === 'length' || reason === 'content_filter' || reason === 'tool_calls'
    ? reason
    : reason === 'function_call'
      ? 'tool_calls'
      : 'stop';

/** Parley's message as OpenAI's chat API takes it (tool calls and tool results included). */
function toOpenAiMessage(m: ChatMessage): ChatCompletionMessageParam {
  if (m.role === 'tool')
    return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content };
  if (m.role === 'assistant' && m.toolCalls?.length)
    return {
      role: 'assistant',
      content: m.content || null,
      tool_calls: m.toolCalls.map((c) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  return { role: m.role, content: m.content } as ChatCompletionMessageParam;
}

function toolParams(request: ChatRequest) {
  if (!request.tools?.length) return {};
  const choice = request.toolChoice;
  return {
    tools: request.tools.map((t) => ({
      type: 'function' as const,
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        ...(t.parameters !== undefined ? { parameters: t.parameters } : {}),
        ...(t.strict !== undefined ? { strict: t.strict } : {}),
      },
    })),
    ...(choice === undefined
      ? {}
      : {
          tool_choice:
            typeof choice === 'string'
              ? choice
              : { type: 'function' as const, function: { name: choice.name } },
        }),
    ...(request.parallelToolCalls !== undefined
      ? { parallel_tool_calls: request.parallelToolCalls }
      : {}),
  };
}
