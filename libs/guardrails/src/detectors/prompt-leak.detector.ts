import type { Finding } from './finding';

/**
 * System-prompt leakage in an answer: the turn's canary token (placed in the system prompt,
 * never meaningful to a user), or a long verbatim stretch of the system prompt.
 */
export function detectPromptLeak(
  answer: string,
  systemPrompt: string,
  canary: string | undefined,
  minWords: number,
): Finding[] {
  if (canary && answer.includes(canary)) {
    const start = answer.indexOf(canary);
    return [
      { detector: 'prompt_leak', type: 'canary', score: 1, start, end: start + canary.length },
    ];
  }
  const prompt = words(systemPrompt.replace(canary ?? '\u0000', ''));
  if (prompt.length < minWords) return [];
  const shingles = new Set<string>();
  for (let i = 0; i + minWords <= prompt.length; i++)
    shingles.add(prompt.slice(i, i + minWords).join(' '));
  const out = words(answer);
  for (let i = 0; i + minWords <= out.length; i++)
    if (shingles.has(out.slice(i, i + minWords).join(' ')))
      return [{ detector: 'prompt_leak', type: 'verbatim', score: 0.9 }];
  return [];
}

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
