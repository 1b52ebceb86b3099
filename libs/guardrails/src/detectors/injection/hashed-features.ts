/**
 * Features for the injection model: word unigrams and bigrams and character 3–5-grams of the
 * normalised, lower-cased text, hashed (FNV-1a) into a fixed number of buckets, as a binary
 * bag scaled to unit length. No vocabulary to ship; the same function serves training and use.
 * Character n-grams are hashed incrementally (each n-gram's hash extends the shorter one's),
 * so a 4 KB message costs no substring allocations.
 */
export const HASH_BITS = 18;
const MASK = (1 << HASH_BITS) - 1;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export interface FeatureBag {
  buckets: number[];
  /** The value of every present bucket: 1 / sqrt(count), so the bag has unit length. */
  weight: number;
}

/** Marks buckets already counted; cleared after each call (cheaper than a Set per call). */
const marked = new Uint8Array(1 << HASH_BITS);

export function features(text: string): FeatureBag {
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const buckets: number[] = [];
  const seen = {
    add(bucket: number) {
      if (marked[bucket]) return;
      marked[bucket] = 1;
      buckets.push(bucket);
    },
  };
  const charPrefix = extend(FNV_OFFSET, 'c:');
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    seen.add(finish(extend(extend(FNV_OFFSET, 'w:'), word)));
    if (i > 0)
      seen.add(finish(extend(extend(extend(FNV_OFFSET, 'b:'), words[i - 1]!), ` ${word}`)));
    const padded = ` ${word} `;
    for (let j = 0; j + 3 <= padded.length; j++) {
      let h = charPrefix;
      for (let n = 1; n <= 5 && j + n <= padded.length; n++) {
        h = Math.imul(h ^ padded.charCodeAt(j + n - 1), FNV_PRIME);
        if (n >= 3) seen.add(finish(h));
      }
    }
  }
  for (const b of buckets) marked[b] = 0;
  return { buckets, weight: buckets.length ? 1 / Math.sqrt(buckets.length) : 0 };
}

function extend(state: number, s: string): number {
  let h = state;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

const finish = (h: number) => (h >>> 0) & MASK;
