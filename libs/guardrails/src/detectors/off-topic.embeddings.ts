import type { AllowedTopic } from './off-topic.detector';
import type { Finding } from './finding';

/** Cosine similarity of two vectors of the same length. */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** The text a topic is embedded as. */
export const topicText = (t: AllowedTopic) => `${t.name}: ${t.description}`;

/** Off-topic when the message is less similar than `minSimilarity` to every allowed topic. */
export function offTopicBySimilarity(
  message: number[],
  topics: number[][],
  minSimilarity: number,
): Finding[] {
  const best = Math.max(...topics.map((t) => cosine(message, t)));
  return best < minSimilarity
    ? [
        {
          detector: 'off_topic',
          type: 'below_similarity',
          score: Math.round((1 - best) * 1000) / 1000,
        },
      ]
    : [];
}
