export const DETECTORS = [
  'prompt_injection',
  'pii',
  'toxicity',
  'off_topic',
  'prompt_leak',
] as const;
export type DetectorName = (typeof DETECTORS)[number];
export type Direction = 'input' | 'output';

/** What a detector found: where (a span of the original text, when it has one) and how sure. */
export interface Finding {
  detector: DetectorName;
  /** PII type (Presidio's names), toxicity category, or the rule/model that fired. */
  type: string;
  score: number;
  start?: number;
  end?: number;
}
