import type { ResolvedProvider } from '@parley/core';
import type { ChatRequest, FinishReason, TokenUsage } from '../llm.types';

/** A piece of a streamed answer in Parley's terms; one wire chunk gives zero or more. */
export type AnswerPiece =
  | { type: 'delta'; text: string }
  /** A piece of tool call `index`: its first piece carries the id and name. */
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: TokenUsage };

/**
 * One provider's models, as the LLM gateway calls them. The gateway owns everything around a
 * call (the model chain, fallback, retries, the breaker, timeouts, the idle cut-off, metrics and
 * spans); an adapter only speaks the provider's wire format and says what its errors mean.
 * OpenAI-compatible servers are one adapter; a provider with another API is another.
 */
export abstract class ChatModel {
  abstract readonly provider: string;

  /** Opens a streaming chat completion: each step of the iterator is one wire chunk's pieces. */
  abstract stream(
    model: string,
    request: ChatRequest,
    signal: AbortSignal,
  ): Promise<AsyncIterator<AnswerPiece[]>>;

  /** Embeddings of `texts`, in their order, and the tokens the provider reported. */
  abstract embed(
    model: string,
    texts: string[],
    options: { dimensions?: number; signal: AbortSignal },
  ): Promise<{ vectors: number[][]; promptTokens?: number }>;

  /** Moderation category scores in [0, 1], by OpenAI's category names. */
  abstract moderate(text: string, signal?: AbortSignal): Promise<Record<string, number>>;

  /** Worth another try: rate limits, server errors, timeouts, broken connections. */
  abstract isTransient(error: unknown): boolean;

  /** The HTTP status of a refusal that no retry changes (a 4xx), if `error` is one. */
  abstract refusedStatus(error: unknown): number | undefined;

  /** How long the provider asked to wait before the next try (Retry-After), if it did. */
  abstract retryAfterMs(error: unknown): number | undefined;

  /** Whether `error` is the adapter's report of a request it was asked to abort. */
  abstract isAbort(error: unknown): boolean;
}

/** Makes the adapter for each configured provider: the DI token of the LLM lib's port. */
export abstract class ChatModelFactory {
  abstract create(provider: ResolvedProvider): ChatModel;
}
