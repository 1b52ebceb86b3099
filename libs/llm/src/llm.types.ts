export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

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
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the provider served from its prompt cache (billed at the cached price). */
  cachedPromptTokens?: number;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'aborted' | 'error';

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
  | { type: 'done'; finishReason: FinishReason; usage: TokenUsage };

export interface ChatResult extends Responder {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
}
