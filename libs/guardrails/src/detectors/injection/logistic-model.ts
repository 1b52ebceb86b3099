import { features, HASH_BITS } from './hashed-features';

/** A logistic regression over hashed features: one weight per bucket. */
export interface LogisticModel {
  bias: number;
  weights: Float64Array;
}

/** The file format: `[bucket, weight]` pairs, only the buckets training touched. */
export interface LogisticModelFile {
  about: string;
  bias: number;
  weights: [number, number][];
}

export function score(model: LogisticModel, text: string): number {
  const { buckets, weight } = features(text);
  let z = 0;
  for (const bucket of buckets) z += model.weights[bucket]!;
  return 1 / (1 + Math.exp(-(model.bias + z * weight)));
}

/**
 * Trains by stochastic gradient descent with L2 regularisation, in a fixed (seeded) order so a
 * run is reproducible. Small data (hundreds of examples) trains in well under a second.
 */
export function train(
  examples: { text: string; label: 0 | 1 }[],
  options: { epochs?: number; rate?: number; l2?: number; seed?: number } = {},
): LogisticModel {
  const { epochs = 60, rate = 1, l2 = 1e-5, seed = 7 } = options;
  const rows = examples.map((e) => ({ x: features(e.text), y: e.label }));
  const weights = new Float64Array(1 << HASH_BITS);
  let bias = 0;
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const order = rows.map((_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const step = rate / (1 + epoch * 0.1);
    for (const index of order) {
      const { x, y } = rows[index]!;
      let z = 0;
      for (const b of x.buckets) z += weights[b]!;
      const error = 1 / (1 + Math.exp(-(bias + z * x.weight))) - y;
      bias -= step * error;
      for (const b of x.buckets)
        weights[b] = weights[b]! - step * (error * x.weight + l2 * weights[b]!);
    }
  }
  return { bias, weights };
}

export function toFile(model: LogisticModel, about: string): LogisticModelFile {
  return {
    about,
    bias: round(model.bias),
    weights: [...model.weights.entries()]
      .filter(([, w]) => Math.abs(w) >= 1e-4)
      .map(([b, w]) => [b, round(w)]),
  };
}

export function fromFile(file: LogisticModelFile): LogisticModel {
  const weights = new Float64Array(1 << HASH_BITS);
  for (const [bucket, weight] of file.weights) weights[bucket] = weight;
  return { bias: file.bias, weights };
}

const round = (n: number) => Math.round(n * 1e4) / 1e4;
