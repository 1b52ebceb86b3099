import { SentenceStream } from './sentence-stream';

const streamed = (text: string, size: number, stream = new SentenceStream()) => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...stream.push(text.slice(i, i + size)));
  return [...out, ...stream.flush()];
};

describe('SentenceStream', () => {
  it('gives each sentence once it is complete, whatever the delta size', () => {
    const text = 'Your parcel left on Monday. It should arrive by Friday! Anything else?';
    for (const size of [1, 3, 7, 100])
      expect(streamed(text, size)).toEqual([
        'Your parcel left on Monday.',
        'It should arrive by Friday!',
        'Anything else?',
      ]);
  });

  it('holds a sentence until text after it shows its end is real', () => {
    const stream = new SentenceStream();
    expect(stream.push('The total is 3.')).toEqual([]);
    expect(stream.push('5 euros, e.g. for one item. ')).toEqual([]);
    expect(stream.push('Next')).toEqual(['The total is 3.5 euros, e.g. for one item.']);
    expect(stream.flush()).toEqual(['Next']);
  });

  it('cuts an over-long sentence at a clause break', () => {
    const long = `${'word '.repeat(20)}and then, ${'more '.repeat(30)}end.`;
    const parts = streamed(long, 5, new SentenceStream('en', 120));
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= 120)).toBe(true);
    expect(parts.join(' ').replace(/\s+/g, ' ')).toBe(long.trim().replace(/\s+/g, ' '));
  });

  it('gives nothing for empty text', () => {
    const stream = new SentenceStream();
    expect(stream.push('')).toEqual([]);
    expect(stream.push('   ')).toEqual([]);
    expect(stream.flush()).toEqual([]);
  });
});
