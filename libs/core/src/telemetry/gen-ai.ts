/**
 * Attribute names of the OpenTelemetry GenAI semantic conventions that Parley sets on its LLM
 * spans (https://opentelemetry.io/docs/specs/semconv/gen-ai/). Message content is recorded only
 * when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, as the conventions advise.
 */
export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  system: 'gen_ai.system',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  conversationId: 'gen_ai.conversation.id',
} as const;

let capture = false;

/** Whether prompts and answers may be written to spans (off unless explicitly enabled). */
export const captureMessageContent = (): boolean => capture;

/** Set once by startTelemetry from OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
export function setCaptureMessageContent(enabled: boolean): void {
  capture = enabled;
}
