/**
 * The fake's tokenizer: words with their trailing whitespace. Not BPE, but deterministic and easy
 * to predict in a test ("Hello from the fake model." is 5 tokens).
 */
const TOKEN = /\S+\s*|\s+/g;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Text of a message content: a string, or the text parts of a multimodal array. */
export function textParts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content
    .filter((p): p is { text: string } => typeof p?.text === 'string')
    .map((p) => p.text);
}

/** Counts each part separately, so joining two parts never merges their tokens. */
export function promptTokens(messages: unknown[]): number {
  let total = 0;
  for (const m of messages) {
    for (const part of textParts((m as { content?: unknown } | null)?.content)) {
      total += countTokens(part);
    }
  }
  return total;
}

/** Keeps at most `max` tokens; `truncated` tells whether any were cut (finish_reason 'length'). */
export function limitTokens(
  pieces: string[],
  max: number | undefined,
): { pieces: string[]; truncated: boolean } {
  if (max === undefined || pieces.length <= max) return { pieces, truncated: false };
  return { pieces: pieces.slice(0, Math.max(0, max)), truncated: true };
}
