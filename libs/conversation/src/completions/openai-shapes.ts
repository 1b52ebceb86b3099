import { ValidationFailedError } from '@parley/core';
import type {
  ChatMessage,
  ChatRequest,
  Responder,
  TokenUsage,
  ToolCall,
  ToolChoice,
} from '@parley/llm';
import { MessageTooLongError } from '../conversation.errors';
import type {
  ChatCompletionMessageDto,
  ChatCompletionRequestDto,
} from '../dto/chat-completions.dto';

/**
 * OpenAI's chat completions shapes ↔ Parley's: request messages and tools in, the completion
 * object (and its replay for an idempotent repeat) out.
 */

/** What the endpoint relays, from the model or from a stored completion. */
export type Event =
  | { type: 'start'; responder: Responder }
  | { type: 'delta'; text: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'done'; usage: TokenUsage; finishReason: string };

/**
 * A request message as Parley's, refused when its text is longer than `maxChars`: every message
 * counts, since each one is tokenised, screened and sent upstream.
 */
export function toChatMessage(
  m: ChatCompletionMessageDto,
  index: number,
  maxChars: number,
): ChatMessage {
  const invalid = (field: string, message: string) =>
    ValidationFailedError.field(`messages.${index}.${field}`, message);
  let content: string;
  if (typeof m.content === 'string') content = m.content;
  else if (
    Array.isArray(m.content) &&
    m.content.every((p) => typeof p === 'object' && p !== null && typeof p.type === 'string')
  ) {
    content = m.content
      .map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : ''))
      .join('');
  } else if ((m.content === null || m.content === undefined) && m.tool_calls?.length) {
    content = ''; // an assistant message that only calls tools
  } else {
    throw invalid('content', 'content must be a string or an array of {type, text} parts');
  }
  if (content.length > maxChars)
    throw new MessageTooLongError(maxChars, `messages.${index}.content`);
  if (m.tool_calls?.length && m.role !== 'assistant')
    throw invalid('tool_calls', 'only assistant messages carry tool_calls');
  if (m.role === 'tool') {
    if (!m.tool_call_id)
      throw invalid('tool_call_id', 'a tool message needs the tool_call_id of the call it answers');
    return { role: 'tool', content, toolCallId: m.tool_call_id };
  }
  if (m.role === 'assistant' && m.tool_calls?.length)
    return {
      role: 'assistant',
      content,
      toolCalls: m.tool_calls.map((c) => ({
        id: c.id,
        name: c.function.name,
        arguments: c.function.arguments,
      })),
    };
  return { role: m.role === 'developer' ? 'system' : m.role, content };
}

/** The client's own tools for the gateway, or undefined when it sent none. */
export function toTools(
  body: ChatCompletionRequestDto,
): Pick<ChatRequest, 'tools' | 'toolChoice' | 'parallelToolCalls'> | undefined {
  const choice = body.tool_choice;
  if (!body.tools?.length) {
    if (choice !== undefined && choice !== 'none' && choice !== 'auto')
      throw ValidationFailedError.field(
        'tool_choice',
        'tool_choice names a tool, but tools is empty',
      );
    return undefined;
  }
  const tools = body.tools.map((t) => ({ ...t.function }));
  const names = new Set(tools.map((t) => t.name));
  if (names.size !== tools.length)
    throw ValidationFailedError.field('tools', 'each tool needs a name of its own');
  let toolChoice: ToolChoice | undefined;
  if (choice === undefined || choice === 'none' || choice === 'auto' || choice === 'required')
    toolChoice = choice;
  else if (
    typeof choice === 'object' &&
    choice !== null &&
    choice.type === 'function' &&
    typeof choice.function?.name === 'string' &&
    names.has(choice.function.name)
  )
    toolChoice = { name: choice.function.name };
  else
    throw ValidationFailedError.field(
      'tool_choice',
      'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": <one of tools>}}',
    );
  return { tools, toolChoice, parallelToolCalls: body.parallel_tool_calls };
}

export interface Completion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      tool_calls?: {
        id: string;
        type: 'function';
        function: { name: string; arguments: string };
      }[];
    };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  system_fingerprint: null;
}

/** The completion as it builds up while its events pass (the JSON answer, the stored replay). */
export interface CompletionAnswer {
  id: string;
  created: number;
  model: string;
  text: string;
  finish: string;
  usage: TokenUsage;
  toolCalls: ToolCall[];
}

export function toCompletion(a: CompletionAnswer): Completion {
  const calls = a.toolCalls.filter(Boolean);
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content on a message that only calls tools.
          content: a.text === '' && calls.length > 0 ? null : a.text,
          refusal: null,
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id,
                  type: 'function' as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        finish_reason: a.finish,
        logprobs: null,
      },
    ],
    usage: usageOf(a.usage),
    system_fingerprint: null,
  };
}

/** A stored completion, as the events of a live one. */
export async function* replayCompletion(c: Completion): AsyncGenerator<Event> {
  yield {
    type: 'start',
    responder: { provider: 'parley', model: c.model, extractive: c.model === 'parley-extractive' },
  };
  const message = c.choices[0]!.message;
  if (message.content) yield { type: 'delta', text: message.content };
  for (const [index, call] of (message.tool_calls ?? []).entries())
    yield {
      type: 'tool_call',
      index,
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    };
  yield {
    type: 'done',
    finishReason: c.choices[0]!.finish_reason,
    usage: { promptTokens: c.usage.prompt_tokens, completionTokens: c.usage.completion_tokens },
  };
}

export const openAiFinish = (reason: string): string =>
  reason === 'length' || reason === 'content_filter' || reason === 'tool_calls' ? reason : 'stop';

export const usageOf = (u: TokenUsage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
});
