import { AppError } from '@parley/core';

/** A guardrail refused the message or the answer; never echoes the text that tripped it. */
export class GuardrailBlockedError extends AppError {
  constructor(
    readonly direction: 'input' | 'output',
    detector: string,
    category: string,
  ) {
    super(
      'GUARDRAIL_BLOCKED',
      422,
      direction === 'input'
        ? `The message was blocked by the ${detector} guardrail (${category}). Rephrase it; if you think this is wrong, ask an admin to review the tenant's guardrail policy.`
        : `The answer was stopped by the ${detector} guardrail (${category}).`,
      { extensions: { direction, detector, category }, logLevel: 'warn' },
    );
  }
}
