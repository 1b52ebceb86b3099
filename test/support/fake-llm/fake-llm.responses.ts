/** Response bodies in the shapes the OpenAI API returns. Pure functions, no I/O. */
import type { ModerationResult } from './fake-llm.moderation';

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

/** The error OpenAI would send for a status, used when a status fault gives no body. */
export function faultErrorBody(status: number) {
  if (status === 429) {
    return errorBody('Rate limit reached (fake fault).', 'requests', 'rate_limit_exceeded');
  }
  if (status === 401) {
    return errorBody(
      'Incorrect API key provided (fake fault).',
      'invalid_request_error',
      'invalid_api_key',
    );
  }
  if (status >= 500) {
    return errorBody(`The server had an error (fake fault ${status}).`, 'server_error', null);
  }
  return errorBody(`Fake fault ${status}.`, 'invalid_request_error', null);
}

export interface ChatIdentity {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(
  who: ChatIdentity,
  content: string,
  finishReason: FinishReason,
  tokens: Usage,
) {
  return {
    ...identity(who, 'chat.completion'),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: tokens,
  };
}

/**
 * One streamed chunk. With include_usage every chunk carries `usage: null` and the last one
 * (`choices: []`) the totals, as the real API does.
 */
export function chatChunk(
  who: ChatIdentity,
  choice: { delta: Record<string, unknown>; finishReason: FinishReason | null } | null,
  chunkUsage?: Usage | null,
) {
  const chunk: Record<string, unknown> = {
    ...identity(who, 'chat.completion.chunk'),
    choices: choice
      ? [{ index: 0, delta: choice.delta, logprobs: null, finish_reason: choice.finishReason }]
      : [],
  };
  if (chunkUsage !== undefined) chunk.usage = chunkUsage;
  return chunk;
}

function identity(who: ChatIdentity, object: string) {
  return {
    id: who.id,
    object,
    created: who.created,
    model: who.model,
    system_fingerprint: 'fp_fake',
  };
}

export function sseData(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

export function embeddingList(model: string, vectors: number[][], promptTokens: number) {
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function moderationResponse(id: string, model: string, results: ModerationResult[]) {
  return { id, model, results };
}

export function modelList(ids: string[]) {
  return {
    object: 'list',
    data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-llm' })),
  };
}
