import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizedText } from '../../normalize/normalize';
import type { Finding } from '../finding';
import { matchRules } from './injection-rules';
import { fromFile, type LogisticModel, type LogisticModelFile, score } from './logistic-model';

let shipped: LogisticModel | undefined;

/** The model trained by scripts/train-injection-model.mjs, loaded once. */
export function injectionModel(): LogisticModel {
  shipped ??= fromFile(
    JSON.parse(readFileSync(join(__dirname, 'injection-model.json'), 'utf8')) as LogisticModelFile,
  );
  return shipped;
}

/**
 * Prompt injection in layers: phrase rules on the normalised text and on decoded payloads
 * (base64, hex, rot13), then the statistical model; the score is the strongest of them.
 */
export function detectInjection(input: NormalizedText, model = injectionModel()): Finding[] {
  const rule =
    matchRules(input.text) ??
    input.decoded.map(matchRules).find(Boolean) ??
    (input.rot13 ? matchRules(input.rot13) : undefined);
  const statistical = Math.max(
    score(model, input.text),
    ...input.decoded.map((d) => score(model, d)),
  );
  const findings: Finding[] = [];
  if (rule)
    findings.push({ detector: 'prompt_injection', type: `rule:${rule.name}`, score: rule.score });
  findings.push({ detector: 'prompt_injection', type: 'model', score: round(statistical) });
  return findings;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
