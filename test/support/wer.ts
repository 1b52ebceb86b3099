/** Words as transcripts compare them: lower case, letters, digits and apostrophes only. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Word-level edit distance (substitutions, insertions, deletions) between two texts. */
export function wordErrors(
  reference: string,
  hypothesis: string,
): { errors: number; words: number } {
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return { errors: previous[hyp.length]!, words: ref.length };
}

/** Word error rate over several pairs: all errors over all reference words. */
export function wordErrorRate(pairs: { reference: string; hypothesis: string }[]): number {
  let errors = 0;
  let total = 0;
  for (const p of pairs) {
    const e = wordErrors(p.reference, p.hypothesis);
    errors += e.errors;
    total += e.words;
  }
  return total === 0 ? 0 : errors / total;
}
