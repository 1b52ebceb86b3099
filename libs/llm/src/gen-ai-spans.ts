import { captureMessageContent, GEN_AI, type Span } from '@parley/core';
import type { ChatRequest, ChatStreamEvent } from './llm.types';

// The OpenTelemetry GenAI attributes of the gateway's model-call spans.

/** The GenAI request attributes of a call (never the prompt, unless content capture is on). */
export function genAiRequest(operation: string, target: { provider: string; model: string }) {
  return {
    [GEN_AI.operation]: operation,
    [GEN_AI.system]: target.provider,
    [GEN_AI.provider]: target.provider,
    [GEN_AI.requestModel]: target.model,
  };
}

export function genAiChatRequest(
  target: { provider: string; model: string },
  request: ChatRequest,
) {
  return {
    ...genAiRequest('chat', target),
    ...(request.maxTokens !== undefined ? { [GEN_AI.requestMaxTokens]: request.maxTokens } : {}),
    ...(request.temperature !== undefined
      ? { [GEN_AI.requestTemperature]: request.temperature }
      : {}),
    ...(captureMessageContent()
      ? {
          [GEN_AI.inputMessages]: JSON.stringify(
            request.messages.map((m) => ({
              role: m.role,
              parts: [{ type: 'text', content: m.content }],
            })),
          ),
        }
      : {}),
  };
}

/** Passes the answer on, writing its model, finish reason and usage on the GenAI span. */
export async function* recordAnswer(
  span: Span,
  model: string,
  events: AsyncGenerator<ChatStreamEvent>,
): AsyncGenerator<ChatStreamEvent> {
  const capture = captureMessageContent();
  let text = '';
  for await (const event of events) {
    if (capture && event.type === 'delta') text += event.text;
    if (event.type === 'done') {
      span.setAttributes({
        [GEN_AI.responseModel]: model,
        [GEN_AI.finishReasons]: [event.finishReason],
        ...(event.usage
          ? {
              [GEN_AI.inputTokens]: event.usage.promptTokens,
              [GEN_AI.outputTokens]: event.usage.completionTokens,
            }
          : {}),
        ...(capture
          ? {
              [GEN_AI.outputMessages]: JSON.stringify([
                { role: 'assistant', parts: [{ type: 'text', content: text }] },
              ]),
            }
          : {}),
      });
    }
    yield event;
  }
}
