import { countMessageTokens, type ChatMessage } from '@parley/llm';
import { buildMemoryWindow } from './memory-window';

const msg = (role: 'user' | 'assistant', words: number, tag: string): ChatMessage => ({
  role,
  content: `${tag} ${'lorem ipsum dolor '.repeat(words)}`.trim(),
});

describe('buildMemoryWindow', () => {
  const history = Array.from({ length: 40 }, (_, i) =>
    msg(i % 2 ? 'assistant' : 'user', 5 + (i % 7) * 9, `m${i}`),
  );
  const next = msg('user', 10, 'now');

  it.each([60, 150, 400, 1000, 5000])(
    'never exceeds a budget of %i tokens and keeps the latest messages whole',
    (budget) => {
      const window = buildMemoryWindow('gpt-4o-mini', 'Be brief.', history, next, budget);
      const counted = countMessageTokens('gpt-4o-mini', window.messages);
      expect(window.tokens).toBe(counted);
      if (window.messages.length > 2) expect(counted).toBeLessThanOrEqual(budget);
      expect(window.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
      expect(window.messages.at(-1)).toEqual(next);
      const kept = window.messages.slice(1, -1);
      // The kept messages are exactly the newest ones, unaltered and in order.
      expect(kept).toEqual(history.slice(history.length - kept.length));
      expect(window.dropped).toBe(history.length - kept.length);
    },
  );

  it('keeps everything when it fits', () => {
    const window = buildMemoryWindow('gpt-4o-mini', '', history.slice(0, 3), next, 100_000);
    expect(window.messages).toEqual([...history.slice(0, 3), next]);
    expect(window.dropped).toBe(0);
  });
});
