export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A function call the model asked for; `arguments` is the JSON text the model wrote. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** On an assistant message: the calls it asked for. */
  toolCalls?: ToolCall[];
  /** On a tool message: the call it answers. */
  toolCallId?: string;
}

/** What OpenAI accepts as a function name, so every provider does too. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const TOOL_NAME_RULE = 'a function name is 1 to 64 letters, digits, _ or -';

/** A function the model may call (OpenAI's `tools[].function`). */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A retrieved passage the answer may draw on; the extractive responder quotes these. */
export interface Passage {
  id: string;
  text: string;
  source?: string;
}

export interface ChatRequest {
  /** A public alias (`default`, `fast`) or a `provider/model` pair. */
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** An opaque end-user id passed to the provider for abuse monitoring. */
  user?: string;
  passages?: Passage[];
  /** The question the passages answer, when the last user message carries more (the passages). */
  question?: string;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the provider served from its prompt cache (billed at the cached price). */
  cachedPromptTokens?: number;
}

export type FinishReason =
  'stop' | 'length' | 'content_filter' | 'tool_calls' | 'aborted' | 'error';

/** What answered: the provider and model actually used after fallbacks. */
export interface Responder {
  provider: string;
  model: string;
  /** True when no model answered and the extractive responder did. */
  extractive: boolean;
}

export type ChatStreamEvent =
  | { type: 'start'; responder: Responder }
  | { type: 'delta'; text: string }
  /**
   * A piece of a tool call, as streamed: the first piece of call `index` carries its id and
   * name, later ones more of its arguments.
   */
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'done'; finishReason: FinishReason; usage: TokenUsage };

export interface ChatResult extends Responder {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
}

/**
 * Adds one streamed tool-call piece to the calls it belongs to (by index): the first piece of a
 * call carries its id and name, later ones more of its arguments.
 */
export function addToolCallPiece(
  calls: ToolCall[],
  piece: { index: number; id?: string; name?: string; arguments: string },
): void {
  const call = (calls[piece.index] ??= { id: '', name: '', arguments: '' });
  if (piece.id) call.id = piece.id;
  if (piece.name) call.name += piece.name;
  call.arguments += piece.arguments;
}
