import type { Verdict } from './guardrails.service';
import { Redactor } from './redaction';

/** Where a streamed answer may be cut for checking: after a sentence, or a line. */
const BOUNDARY = /[.!?。！？](?=\s)|\n/g;
/** An answer with no sentence end for this long is released anyway, at a space. */
const MAX_PENDING = 400;

/**
 * Checks a streamed answer sentence by sentence before any of it is sent: text is held until
 * a sentence ends, checked (with everything sent before, for leaks that span sentences),
 * redacted, and only then released. One redactor for the whole answer, so placeholders stay
 * stable across sentences.
 */
export class OutputGuard {
  private pending = '';
  private released = '';
  private readonly redactor = new Redactor();

  constructor(
    private readonly check: (text: string, redactor: Redactor, soFar: string) => Verdict,
  ) {}

  /** Adds a delta; returns what may be sent now (possibly nothing), or the blocking verdict. */
  push(delta: string): { text: string; blocked?: Verdict } {
    this.pending += delta;
    let cut = -1;
    for (const m of this.pending.matchAll(BOUNDARY)) cut = m.index + m[0].length;
    if (cut < 0 && this.pending.length > MAX_PENDING) cut = this.pending.lastIndexOf(' ') + 1;
    if (cut <= 0) return { text: '' };
    return this.release(cut);
  }

  /** The end of the answer: checks and releases the rest. */
  end(): { text: string; blocked?: Verdict } {
    return this.pending ? this.release(this.pending.length) : { text: '' };
  }

  /** Everything released so far (what the client saw, and what is stored). */
  get text(): string {
    return this.released;
  }

  /** Every finding acted on so far, for the stored message. */
  readonly findings: Verdict['findings'] = [];

  private release(cut: number): { text: string; blocked?: Verdict } {
    const chunk = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    const verdict = this.check(chunk, this.redactor, this.released + chunk);
    this.findings.push(...verdict.findings);
    if (verdict.decision === 'block') return { text: '', blocked: verdict };
    this.released += verdict.text;
    return { text: verdict.text };
  }
}
