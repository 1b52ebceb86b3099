import { createHash } from 'node:crypto';

export const DEFAULT_DIMENSIONS = 64;

/**
 * A deterministic unit vector for a text: the sum of one hashed vector per word (so texts that share
 * words point in similar directions) plus a smaller one for the exact text (so different texts
 * never collide), L2-normalised like real embeddings.
 */
export function embed(text: string, dimensions = DEFAULT_DIMENSIONS): number[] {
  const sum = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) addInto(sum, wordVector(word, dimensions), 1);
  addInto(sum, hashedVector(`text:${text}`, dimensions), words.length > 0 ? 0.5 : 1);
  return normalise(sum);
}

// Word vectors are pure functions of (word, size); memoised so benchmarks that embed 100,000
// chunks measure Parley, not this fake's hashing. Bounded, since vocabularies can be large.
const wordVectors = new Map<string, number[]>();
const MAX_WORD_VECTORS = 200_000;

function wordVector(word: string, dimensions: number): number[] {
  const key = `${dimensions}:${word}`;
  let v = wordVectors.get(key);
  if (!v) {
    v = hashedVector(`word:${word}`, dimensions);
    if (wordVectors.size >= MAX_WORD_VECTORS) wordVectors.clear();
    wordVectors.set(key, v);
  }
  return v;
}

/** Values in [-1, 1] from SHA-256 in counter mode, as many as needed. */
function hashedVector(seed: string, dimensions: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${seed}#${block}`).digest();
    for (let i = 0; i + 4 <= digest.length && out.length < dimensions; i += 4) {
      out.push((digest.readUInt32BE(i) / 0xffffffff) * 2 - 1);
    }
  }
  return out;
}

function addInto(target: number[], v: number[], weight: number): void {
  for (let i = 0; i < target.length; i++) target[i] += v[i] * weight;
}

function normalise(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return norm === 0 ? v : v.map((x) => x / norm);
}
