import type { ChatMessage, ChatResult, Passage } from './llm.types';

export const EXTRACTIVE_MODEL = 'parley-extractive';
const MAX_QUOTES = 3;
const MAX_QUOTE_CHARS = 600;

/**
 * The last resort when no model is configured or every provider is down: quote the retrieved
 * passages that best match the question, with their citations, or say plainly that no model is
 * available. It is labelled `parley-extractive` and costs nothing.
 */
export function extractiveAnswer(
  messages: ChatMessage[],
  passages: Passage[] = [],
  asked?: string,
): ChatResult {
  const question = asked ?? [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const ranked = rankPassages(question, passages).slice(0, MAX_QUOTES);
  const text =
    ranked.length === 0
      ? 'No language model is available right now, and there are no documents to answer from. Please try again later.'
      : [
          'No language model is available right now. These passages from your documents may answer the question:',
          // Numbered as the passages were given, so [n] matches the caller's citations.
          ...ranked.map(
            (p) =>
              `[${passages.indexOf(p) + 1}] "${quote(p.text)}"${p.source ? ` (${p.source})` : ''}`,
          ),
        ].join('\n\n');
  return {
    text,
    provider: 'parley',
    model: EXTRACTIVE_MODEL,
    extractive: true,
    finishReason: 'stop',
    usage: { promptTokens: 0, completionTokens: 0 },
  };
}

/** Passages ordered by how many of the question's words they contain (ties keep their order). */
function rankPassages(question: string, passages: Passage[]): Passage[] {
  const words = new Set(tokens(question));
  if (words.size === 0) return passages;
  return passages
    .map((p, index) => ({ p, index, score: tokens(p.text).filter((w) => words.has(w)).length }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((x) => x.p);
}

const tokens = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];

function quote(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length > MAX_QUOTE_CHARS
    ? `${clean.slice(0, clean.lastIndexOf(' ', MAX_QUOTE_CHARS) + 1 || MAX_QUOTE_CHARS).trimEnd()}…`
    : clean;
}
