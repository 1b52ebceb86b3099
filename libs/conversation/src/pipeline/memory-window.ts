import { type ChatMessage, countMessageTokens, countTextTokens } from '@parley/llm';

export interface MemoryWindow {
  messages: ChatMessage[];
  /** Prompt tokens of the whole window, as counted for the model. */
  tokens: number;
  /** How many earlier messages were left out. */
  dropped: number;
}

/**
 * The prompt: the system prompt, then as many of the latest messages as fit the budget, then
 * the new user message. Older messages are dropped whole, never cut in the middle. The system
 * prompt and the new message always go in; if they alone exceed the budget, `tokens` says so.
 */
export function buildMemoryWindow(
  model: string,
  system: string,
  history: ChatMessage[],
  next: ChatMessage,
  budget: number,
): MemoryWindow {
  const fixed: ChatMessage[] = [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    next,
  ];
  let tokens = countMessageTokens(model, fixed);
  const kept: ChatMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const cost = 3 + countTextTokens(model, history[i]!.content);
    if (tokens + cost > budget) break;
    tokens += cost;
    kept.unshift(history[i]!);
  }
  const messages = [...fixed.slice(0, -1), ...kept, next];
  return { messages, tokens, dropped: history.length - kept.length };
}
