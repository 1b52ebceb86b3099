import { chunkText } from './chunker';

// One token per word keeps the arithmetic of these cases readable.
const countTokens = (s: string) => (s.match(/\S+/g) ?? []).length;

describe('chunkText', () => {
  it('keeps whole sentences together and respects the size limit', () => {
    const text = 'One two three. Four five six. Seven eight nine. Ten eleven twelve.';
    const chunks = chunkText(text, { maxTokens: 6, overlapTokens: 0, countTokens });
    expect(chunks.map((c) => c.text)).toEqual([
      'One two three. Four five six.',
      'Seven eight nine. Ten eleven twelve.',
    ]);
    expect(chunks.every((c) => c.tokens <= 6)).toBe(true);
  });

  it('repeats the last sentences of the previous chunk as overlap', () => {
    const text = 'A b c. D e f. G h i. J k l.';
    const chunks = chunkText(text, { maxTokens: 6, overlapTokens: 3, countTokens });
    expect(chunks.map((c) => c.text)).toEqual(['A b c. D e f.', 'D e f. G h i.', 'G h i. J k l.']);
  });

  it('starts a new chunk at each heading and records it', () => {
    const text = '# Refunds\nRefunds take five days.\n\n# Shipping\nWe ship daily.';
    const chunks = chunkText(text, { maxTokens: 50, overlapTokens: 10, countTokens });
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      ['Refunds', '# Refunds\nRefunds take five days.'],
      ['Shipping', '# Shipping\nWe ship daily.'],
    ]);
  });

  it('cuts a sentence longer than a chunk into word windows', () => {
    const text = 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10';
    const chunks = chunkText(text, { maxTokens: 4, overlapTokens: 0, countTokens });
    expect(chunks.map((c) => c.text)).toEqual(['w1 w2 w3 w4', 'w5 w6 w7 w8', 'w9 w10']);
  });

  it('gives offsets that point back into the original text', () => {
    const text = 'Intro line.\n\nSecond paragraph here. And more!\n';
    for (const c of chunkText(text, { maxTokens: 3, overlapTokens: 0, countTokens }))
      expect(text.slice(c.start, c.end)).toBe(c.text);
  });

  it('returns nothing for empty or blank text', () => {
    expect(chunkText('', { maxTokens: 10, overlapTokens: 0, countTokens })).toEqual([]);
    expect(chunkText('  \n\n ', { maxTokens: 10, overlapTokens: 0, countTokens })).toEqual([]);
  });
});
