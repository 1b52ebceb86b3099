/**
 * Cuts a stream of text deltas into sentences as they complete, so speech can start on the
 * first sentence while the model is still writing the rest. Boundaries come from
 * Intl.Segmenter (Unicode sentence rules for the language: abbreviations and decimals such as
 * "e.g." or "3.5" are not cuts); a sentence counts as complete once text after it has begun,
 * since only then is its boundary certain. A very long sentence is cut at a clause break
 * (",;:") so that speech does not wait for it.
 */
export class SentenceStream {
  private readonly segmenter: Intl.Segmenter;
  private pending = '';

  constructor(
    language = 'en',
    private readonly maxChars = 240,
  ) {
    this.segmenter = new Intl.Segmenter(language, { granularity: 'sentence' });
  }

  /** Adds a delta; returns the sentences it completed (trimmed, non-empty). */
  push(delta: string): string[] {
    this.pending += delta;
    const segments = [...this.segmenter.segment(this.pending)].map((s) => s.segment);
    const done: string[] = [];
    // The last segment may still grow; a segment before it is finished.
    while (segments.length > 1) done.push(segments.shift()!);
    this.pending = segments[0] ?? '';
    while (this.pending.length > this.maxChars) {
      const cut = clauseBreak(this.pending, this.maxChars);
      done.push(this.pending.slice(0, cut));
      this.pending = this.pending.slice(cut);
    }
    return done.map((s) => s.trim()).filter(Boolean);
  }

  /** The rest, once the text has ended. */
  flush(): string[] {
    const rest = this.pending.trim();
    this.pending = '';
    return rest ? [rest] : [];
  }
}

/** Where to cut an over-long sentence: after the last clause mark or space before `max`. */
function clauseBreak(text: string, max: number): number {
  const head = text.slice(0, max);
  const clause = Math.max(head.lastIndexOf(', '), head.lastIndexOf('; '), head.lastIndexOf(': '));
  if (clause > max / 3) return clause + 1;
  const space = head.lastIndexOf(' ');
  return space > 0 ? space : max;
}
