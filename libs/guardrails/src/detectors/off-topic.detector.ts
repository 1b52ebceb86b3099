import type { Finding } from './finding';

export interface AllowedTopic {
  name: string;
  description: string;
  /** Words that mark a message as on this topic; taken from the description when omitted. */
  keywords?: string[];
}

const STOPWORDS = new Set(
  'a an and are as at be by can do for from has have how i in is it its me my of on or our that the their this to was we what when where which who why will with you your about questions question help der die das und ist ein eine zu mit von für auf wie was'.split(
    ' ',
  ),
);

/**
 * Keyword rules: a message that shares no keyword with any allowed topic is off-topic. Short
 * messages (greetings, "thanks") pass, since they carry no topic. With embeddings, a
 * similarity threshold would replace this (not built yet).
 */
export function detectOffTopic(text: string, topics: AllowedTopic[]): Finding[] {
  if (topics.length === 0) return [];
  const words = tokens(text);
  if (words.size < 3) return [];
  let best = 0;
  for (const topic of topics) {
    const keys = new Set(
      topic.keywords?.map((k) => k.toLowerCase()) ?? tokens(`${topic.name} ${topic.description}`),
    );
    let hits = 0;
    for (const w of words)
      if (keys.has(w) || [...keys].some((k) => k.length > 4 && w.startsWith(k.slice(0, -1))))
        hits++;
    best = Math.max(best, hits);
  }
  return best === 0 ? [{ detector: 'off_topic', type: 'no_allowed_topic', score: 0.9 }] : [];
}

function tokens(text: string): Set<string> {
  return new Set(
    (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter(
      (w) => w.length > 2 && !STOPWORDS.has(w),
    ),
  );
}
