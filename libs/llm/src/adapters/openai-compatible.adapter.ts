import { Injectable } from '@nestjs/common';
import type { ResolvedProvider } from '@parley/core';
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { ChatMessage, ChatRequest, FinishReason } from '../llm.types';
import { type AnswerPiece, ChatModel, ChatModelFactory } from '../ports/chat-model.port';

/**
 * Any server that speaks OpenAI's chat completions API (OpenAI, Azure OpenAI, Ollama, vLLM,
 * llama.cpp, LM Studio, Groq…), through the official `openai` client. Retries and timeouts are
 * the gateway's, where they are counted and bounded, so the client makes none of its own.
 */
export class OpenAiCompatibleModel extends ChatModel {
  readonly provider: string;
  private readonly client: OpenAI;

  constructor(config: ResolvedProvider) {
    super();
    this.provider = config.name;
    this.client = new OpenAI({
      baseURL: config.baseUrl,
      // Local servers (Ollama, vLLM) often need no key; the client insists on one.
      apiKey: config.apiKey ?? 'not-needed',
      maxRetries: 0,
      timeout: config.timeoutMs * 4,
    });
  }

  async stream(
    model: string,
    request: ChatRequest,
    signal: AbortSignal,
  ): Promise<AsyncIterator<AnswerPiece[]>> {
    const stream = await this.client.chat.completions.create(
      {
        model,
        messages: request.messages.map(toOpenAiMessage),
        ...toolParams(request),
        stream: true,
        stream_options: { include_usage: true },
        ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(request.user ? { user: request.user } : {}),
      },
      { signal },
    );
    const chunks = stream[Symbol.asyncIterator]();
    return {
      next: async () => {
        const next = await chunks.next();
        return next.done ? { done: true, value: undefined } : { value: piecesOf(next.value) };
      },
    };
  }

  async embed(
    model: string,
    texts: string[],
    options: { dimensions?: number; signal: AbortSignal },
  ): Promise<{ vectors: number[][]; promptTokens?: number }> {
    const { dimensions, signal } = options;
    const response = await this.client.embeddings.create(
      { model, input: texts, ...(dimensions ? { dimensions } : {}) },
      { signal },
    );
    return {
      vectors: [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding),
      promptTokens: response.usage?.prompt_tokens,
    };
  }

  async moderate(text: string, signal?: AbortSignal): Promise<Record<string, number>> {
    const result = await this.client.moderations.create(
      { model: 'omni-moderation-latest', input: text },
      { signal },
    );
    return { ...(result.results[0]?.category_scores as unknown as Record<string, number>) };
  }

  isTransient(error: unknown): boolean {
    // Connection errors (timeouts included) are APIErrors without a status.
    if (error instanceof APIConnectionError) return true;
    if (!(error instanceof APIError)) return false;
    const { status } = error;
    return status === undefined || status === 408 || status === 429 || status >= 500;
  }

  refusedStatus(error: unknown): number | undefined {
    return error instanceof APIError && !this.isTransient(error) ? (error.status ?? 0) : undefined;
  }

  retryAfterMs(error: unknown): number | undefined {
    if (!(error instanceof APIError) || !error.headers) return undefined;
    const headers = error.headers as Headers;
    const ms = Number(headers.get?.('retry-after-ms'));
    if (Number.isFinite(ms) && ms > 0) return ms;
    const value = headers.get?.('retry-after');
    if (!value) return undefined;
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
  }

  isAbort(error: unknown): boolean {
    return error instanceof APIUserAbortError;
  }
}

/** The default factory: every configured provider is OpenAI-compatible. */
@Injectable()
export class OpenAiCompatibleModels extends ChatModelFactory {
  create(provider: ResolvedProvider): ChatModel {
    return new OpenAiCompatibleModel(provider);
  }
}

/** One wire chunk as Parley's pieces: text, tool-call pieces, the finish reason, usage. */
function piecesOf(chunk: ChatCompletionChunk): AnswerPiece[] {
  const pieces: AnswerPiece[] = [];
  const choice = chunk.choices[0];
  if (choice?.delta?.content) pieces.push({ type: 'delta', text: choice.delta.content });
  for (const call of choice?.delta?.tool_calls ?? [])
    pieces.push({
      type: 'tool_call',
      index: call.index,
      ...(call.id ? { id: call.id } : {}),
      ...(call.function?.name ? { name: call.function.name } : {}),
      arguments: call.function?.arguments ?? '',
    });
  if (choice?.finish_reason)
    pieces.push({ type: 'finish', reason: toFinishReason(choice.finish_reason) });
  if (chunk.usage)
    pieces.push({
      type: 'usage',
      usage: {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        cachedPromptTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
      },
    });
  return pieces;
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
