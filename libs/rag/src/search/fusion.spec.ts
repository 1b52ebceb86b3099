import { maximalMarginalRelevance, reciprocalRankFusion } from './fusion';

const ranking = (...ids: string[]) => ids.map((id, i) => ({ id, score: 100 - i }));

describe('reciprocal rank fusion', () => {
  it('puts what both rankings agree on first, whatever their score scales', () => {
    const lexical = [
      { id: 'a', score: 12.5 },
      { id: 'b', score: 9.1 },
      { id: 'c', score: 0.3 },
    ];
    const vector = [
      { id: 'b', score: 0.91 },
      { id: 'c', score: 0.88 },
      { id: 'd', score: 0.5 },
    ];
    const fused = reciprocalRankFusion([lexical, vector], 60);
    // b: 1/62 + 1/61, c: 1/63 + 1/62, a: 1/61, d: 1/63.
    expect(fused.map((f) => f.id)).toEqual(['b', 'c', 'a', 'd']);
    expect(fused[0]).toMatchObject({ ranks: [2, 1] });
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 10);
    expect(fused.find((f) => f.id === 'd')).toMatchObject({ ranks: [undefined, 3] });
  });

  it('with one ranking keeps its order; a small k rewards the top ranks more', () => {
    expect(reciprocalRankFusion([ranking('x', 'y', 'z')], 60).map((f) => f.id)).toEqual([
      'x',
      'y',
      'z',
    ]);
    // a is first in one list and absent from the other; b is second in both.
    const lists = [ranking('a', 'b'), ranking('c', 'b', 'd', 'e', 'a')];
    expect(reciprocalRankFusion(lists, 60)[0]!.id).toBe('b');
    expect(reciprocalRankFusion(lists, 1)[0]!.id).toBe('a');
  });

  it('counts an id only once per ranking', () => {
    const fused = reciprocalRankFusion([ranking('a', 'a', 'b')], 60);
    expect(fused.find((f) => f.id === 'a')!.score).toBeCloseTo(1 / 61, 10);
  });
});

describe('maximal marginal relevance', () => {
  const passages = [
    { id: 1, score: 1.0, text: 'refunds are paid within five working days' },
    { id: 2, score: 0.95, text: 'refunds are paid within five working days of arrival' },
    { id: 3, score: 0.7, text: 'gift cards cannot be refunded at all' },
  ];

  it('skips a near-duplicate in favour of a different passage', () => {
    expect(maximalMarginalRelevance(passages, 2, 0.5).map((p) => p.id)).toEqual([1, 3]);
  });

  it('is plain ranking at lambda 1, and never returns more than it was given', () => {
    expect(maximalMarginalRelevance(passages, 2, 1).map((p) => p.id)).toEqual([1, 2]);
    expect(maximalMarginalRelevance(passages, 10, 0.5)).toHaveLength(3);
    expect(maximalMarginalRelevance([], 3, 0.5)).toEqual([]);
  });
});
