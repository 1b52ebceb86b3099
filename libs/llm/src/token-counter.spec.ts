import { countInPieces, countTextTokens, MAX_RUN_CHARS } from './token-counter';

describe('token counting', () => {
  it('counts ordinary text whole, exactly as the tokenizer does', () => {
    const pieces: string[] = [];
    const text = 'Please summarise the attached claim form and tell me the next step.';
    countInPieces((s) => (pieces.push(s), s.length), text);
    expect(pieces).toEqual([text]);
    expect(countTextTokens('gpt-4o', text)).toBe(14);
  });

  it('cuts runs longer than any token into pieces, so one long word costs linear time', () => {
    const pieces: string[] = [];
    const word = 'x'.repeat(100_000);
    const total = countInPieces((s) => (pieces.push(s), 1), `hello ${word} world`);
    expect(pieces.join('')).toBe(`hello ${word} world`);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(MAX_RUN_CHARS + 6);
    expect(total).toBe(pieces.length);
  });

  it('cuts long runs of blanks too, and never inside a surrogate pair', () => {
    const pieces: string[] = [];
    countInPieces((s) => (pieces.push(s), 1), ' '.repeat(1000));
    expect(pieces.every((p) => p.length <= MAX_RUN_CHARS)).toBe(true);
    const emoji = '😀'.repeat(500);
    const emojiPieces: string[] = [];
    countInPieces((s) => (emojiPieces.push(s), 1), emoji);
    expect(emojiPieces.length).toBeGreaterThan(1);
    for (const p of emojiPieces) expect(p).toMatch(/^(?:\uD83D\uDE00)+$/);
  });

  it('over-counts a long word slightly rather than under-counting it', () => {
    const word = 'abcdefghij'.repeat(1000);
    const cut = countTextTokens('gpt-4o', word);
    expect(cut).toBeGreaterThan(0);
    // Cutting only loses merges across the cuts: never fewer tokens than the whole word needs.
    expect(cut).toBeGreaterThanOrEqual(countTextTokens('gpt-4o', 'abcdefghij'.repeat(12)) * 8);
  });
});
