import type { Direction, Finding } from './detectors/finding';
import { detectInjection } from './detectors/injection/prompt-injection.detector';
import { detectOffTopic } from './detectors/off-topic.detector';
import { detectPii } from './detectors/pii.detector';
import { detectPromptLeak } from './detectors/prompt-leak.detector';
import { detectToxicity } from './detectors/toxicity.detector';
import { normalize } from './normalize/normalize';
import { type Evaluation, evaluate } from './policy/evaluate';
import type { GuardrailPolicy } from './policy/guardrail-policy';
import { Redactor } from './redaction';

/** The result of a check: the decision, what it acted on, and the text to use from here on. */
export interface Verdict extends Evaluation {
  /** The text with redactions applied (unchanged unless the decision is `redact`). */
  text: string;
}

/** Where an answer comes from, for the prompt-leak check. */
export interface OutputContext {
  systemPrompt: string;
  canary?: string;
}

/** The local input checks the policy turns on, and its verdict. Pure and synchronous. */
export function inspectInput(
  text: string,
  policy: GuardrailPolicy,
  options: { offTopicKeywords?: boolean } = {},
): Verdict {
  const normalized = normalize(text);
  const findings: Finding[] = [];
  const input = policy.input;
  if (input.prompt_injection.action !== 'off') findings.push(...detectInjection(normalized));
  if (input.pii.action !== 'off') findings.push(...detectPii(text));
  if (input.toxicity.action !== 'off') findings.push(...detectToxicity(normalized.text));
  if (input.off_topic.action !== 'off' && options.offTopicKeywords !== false)
    findings.push(...detectOffTopic(normalized.text, input.off_topic.topics));
  return verdictOf(policy, 'input', text, findings, new Redactor());
}

/**
 * The output checks of a text: a whole answer, or the next sentence of a streamed one (then
 * `answerSoFar` holds everything up to it, for leaks that span sentences, and one redactor
 * serves the whole answer).
 */
export function inspectOutput(
  text: string,
  policy: GuardrailPolicy,
  context: OutputContext,
  redactor: Redactor,
  answerSoFar = text,
): Verdict {
  const findings: Finding[] = [];
  const output = policy.output;
  if (output.pii.action !== 'off') findings.push(...detectPii(text));
  if (output.toxicity.action !== 'off') findings.push(...detectToxicity(normalize(text).text));
  if (output.prompt_leak.action !== 'off')
    findings.push(
      ...detectPromptLeak(
        answerSoFar,
        context.systemPrompt,
        context.canary,
        output.prompt_leak.minWords ?? 12,
      ),
    );
  return verdictOf(policy, 'output', text, findings, redactor);
}

export function verdictOf(
  policy: GuardrailPolicy,
  direction: Direction,
  text: string,
  findings: Finding[],
  redactor: Redactor,
): Verdict {
  const evaluation = evaluate(policy, direction, findings);
  const redact = evaluation.findings.filter((f) => f.action === 'redact');
  return { ...evaluation, text: redact.length > 0 ? redactor.redact(text, redact) : text };
}
