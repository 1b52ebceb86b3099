import type { Finding } from './detectors/finding';

const LABELS: Record<string, string> = {
  EMAIL_ADDRESS: 'EMAIL',
  PHONE_NUMBER: 'PHONE',
  CREDIT_CARD: 'CARD',
  IBAN_CODE: 'IBAN',
  US_SSN: 'SSN',
  IP_ADDRESS: 'IP',
  CREDENTIAL: 'SECRET',
};

/**
 * Replaces findings' spans with typed placeholders (`[EMAIL_1]`). The same value gets the same
 * placeholder for as long as the redactor lives (a message, or a whole streamed answer), so
 * the model can still tell two addresses apart without seeing either.
 */
export class Redactor {
  private readonly seen = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  redact(text: string, findings: Finding[]): string {
    const spans = findings
      .filter((f) => f.start !== undefined && f.end !== undefined)
      .sort((a, b) => a.start! - b.start!);
    // Numbered in reading order, replaced from the end so earlier offsets stay valid.
    const placeholders = spans.map((f) => this.placeholder(f.type, text.slice(f.start, f.end)));
    let out = text;
    for (let i = spans.length - 1; i >= 0; i--)
      out = out.slice(0, spans[i]!.start) + placeholders[i] + out.slice(spans[i]!.end);
    return out;
  }

  private placeholder(type: string, value: string): string {
    const label = LABELS[type] ?? type;
    const key = `${label}\u0000${value}`;
    let placeholder = this.seen.get(key);
    if (!placeholder) {
      const n = (this.counts.get(label) ?? 0) + 1;
      this.counts.set(label, n);
      placeholder = `[${label}_${n}]`;
      this.seen.set(key, placeholder);
    }
    return placeholder;
  }
}
