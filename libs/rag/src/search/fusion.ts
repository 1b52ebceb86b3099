/** A ranked list's entry: an id and the score its own ranking gave it. */
export interface Ranked {
  id: string;
  score: number;
}

export interface Fused {
  id: string;
  /** The fused score: Σ 1 / (k + rank) over the rankings the id appears in (rank from 1). */
  score: number;
  /** Its 1-based rank in each input ranking, or undefined where it is absent. */
  ranks: (number | undefined)[];
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): scores from different rankers (BM25, cosine)
 * are not comparable, their ranks are. Ties keep the order of first appearance.
 */
export function reciprocalRankFusion(rankings: Ranked[][], k: number): Fused[] {
  const fused = new Map<string, Fused>();
  rankings.forEach((ranking, which) => {
    ranking.forEach((entry, index) => {
      let f = fused.get(entry.id);
      if (!f) {
        f = { id: entry.id, score: 0, ranks: rankings.map(() => undefined) };
        fused.set(entry.id, f);
      }
      if (f.ranks[which] !== undefined) return; // a ranking naming an id twice counts once
      f.ranks[which] = index + 1;
      f.score += 1 / (k + index + 1);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Maximal marginal relevance (Carbonell & Goldstein, 1998): picks `topK` items one at a time,
 * each maximising λ·relevance − (1 − λ)·(its greatest similarity to those already picked).
 * Relevance is the item's score over the best candidate's; similarity is word
 * overlap (Jaccard) of the passages, which needs no extra embedding call and catches the
 * near-duplicate passages that diversity is for. λ = 1 is plain ranking.
 */
export function maximalMarginalRelevance<T extends { score: number; text: string }>(
  candidates: T[],
  topK: number,
  lambda: number,
): T[] {
  if (candidates.length === 0) return [];
  // Scaled by the best score (not min–max, which would make the weakest candidate worthless).
  const max = Math.max(...candidates.map((c) => c.score));
  const relevance = (c: T) => (max > 0 ? Math.max(0, c.score) / max : 1);
  const sets = new Map(candidates.map((c) => [c, words(c.text)]));
  const picked: T[] = [];
  const left = [...candidates];
  while (picked.length < topK && left.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    left.forEach((c, i) => {
      const redundancy = Math.max(0, ...picked.map((p) => jaccard(sets.get(c)!, sets.get(p)!)));
      const value = lambda * relevance(c) - (1 - lambda) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    picked.push(left.splice(best, 1)[0]!);
  }
  return picked;
}
