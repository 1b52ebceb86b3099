import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage, ToolDefinition } from './llm.types';

/**
 * Token counts by model family with gpt-tokenizer: o200k_base for the GPT-4o/4.1/5 and o-series
 * families, cl100k_base for GPT-4 and GPT-3.5. For any other model (Llama, Mistral, Qwen…) the
 * count is an estimate: cl100k_base plus 15 %, since those tokenizers tend to produce more
 * tokens for the same text, and a budget that over-counts is the safe side.
 */
export function countTextTokens(model: string, text: string): number {
  const family = tokenizerFamily(model);
  if (family === 'o200k') return countInPieces(o200k, text);
  if (family === 'cl100k') return countInPieces(cl100k, text);
  return Math.ceil(countInPieces(cl100k, text) * 1.15);
}

/**
 * Byte-pair merging is quadratic in the length of one pre-token, and a pre-token is a whole run
 * of letters (or of punctuation, or of blanks): 40,000 letters without a space took most of a
 * second, and 900,000 froze the process. Runs longer than any real token are cut into pieces
 * counted apart, which keeps the count linear in the text and errs only upwards (a merge across
 * a cut is lost), the safe side for a budget. Text without such a run is counted whole.
 */
export const MAX_RUN_CHARS = 128;

export function countInPieces(count: (text: string) => number, text: string): number {
  const cuts = longRunCuts(text);
  if (cuts.length === 0) return count(text);
  let total = 0;
  let from = 0;
  for (const cut of cuts) {
    total += count(text.slice(from, cut));
    from = cut;
  }
  return total + count(text.slice(from));
}

/** Where to cut so that no run of blanks or of non-blanks is longer than MAX_RUN_CHARS. */
function longRunCuts(text: string): number[] {
  const cuts: number[] = [];
  let run = 0;
  let blank = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isBlank = code === 32 || (code >= 9 && code <= 13);
    if (isBlank !== blank) {
      blank = isBlank;
      run = 0;
    }
    // Never between the two halves of a surrogate pair.
    if (++run > MAX_RUN_CHARS && (code < 0xdc00 || code > 0xdfff)) {
      cuts.push(i);
      run = 1;
    }
  }
  return cuts;
}

/** Per-message framing of the chat format (OpenAI's published accounting: 3 + 3 for the reply). */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

export function countMessageTokens(model: string, messages: ChatMessage[]): number {
  return messages.reduce(
    (sum, m) =>
      sum +
      PER_MESSAGE +
      countTextTokens(model, m.content) +
      (m.toolCalls ?? []).reduce(
        (n, c) => n + PER_MESSAGE + countTextTokens(model, `${c.name}${c.arguments}`),
        0,
      ),
    REPLY_PRIMING,
  );
}

/** Tool definitions count as prompt text (the provider renders them into the prompt). */
export function countToolTokens(model: string, tools: ToolDefinition[] | undefined): number {
  return tools?.length ? countTextTokens(model, JSON.stringify(tools)) : 0;
}

export function tokenizerFamily(model: string): 'o200k' | 'cl100k' | 'estimate' {
  const name = model.split('/').pop()!.toLowerCase();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o)/.test(name)) return 'o200k';
  if (/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada)/.test(name)) return 'cl100k';
  return 'estimate';
}
