import type { DetectorName, Direction, Finding } from '../detectors/finding';
import type { GuardrailAction, GuardrailPolicy } from './guardrail-policy';

export type Decision = 'allow' | 'flag' | 'redact' | 'block';

/** The policy's action and threshold for a detector in a direction ('off' if it has none). */
export function ruleFor(
  policy: GuardrailPolicy,
  direction: Direction,
  detector: DetectorName,
): { action: GuardrailAction; threshold: number; types?: string[] } {
  const rules = policy[direction] as Record<
    string,
    { action: GuardrailAction; threshold?: number; types?: string[] }
  >;
  const rule = rules[detector];
  if (!rule) return { action: 'off', threshold: 1 };
  return { action: rule.action, threshold: rule.threshold ?? 0.5, types: rule.types };
}

export interface Evaluation {
  decision: Decision;
  /** The findings the policy acts on (over threshold, of a type it covers), with the action. */
  findings: (Finding & { action: GuardrailAction })[];
}

/** Applies the policy to what the detectors found: block beats redact beats flag. */
export function evaluate(
  policy: GuardrailPolicy,
  direction: Direction,
  findings: Finding[],
): Evaluation {
  const acted: Evaluation['findings'] = [];
  for (const f of findings) {
    const rule = ruleFor(policy, direction, f.detector);
    if (rule.action === 'off' || f.score < rule.threshold) continue;
    if (f.detector === 'pii' && rule.types && !rule.types.includes(f.type)) continue;
    // Only PII can be redacted: it has a span that can be replaced.
    const action = rule.action === 'redact' && f.start === undefined ? 'block' : rule.action;
    acted.push({ ...f, action });
  }
  const decision: Decision = acted.some((f) => f.action === 'block')
    ? 'block'
    : acted.some((f) => f.action === 'redact')
      ? 'redact'
      : acted.length > 0
        ? 'flag'
        : 'allow';
  return { decision, findings: acted };
}
