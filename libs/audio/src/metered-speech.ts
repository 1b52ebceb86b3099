import type { AlongsideWrites, CostService, CostSubject, UsageOutcome } from '@parley/cost';

type SpeechKind = 'text_to_speech' | 'speech_to_text';

/**
 * One run of a speech engine, admitted against the budgets before it starts and settled after:
 * with what it used when it succeeded (and the writes that record its result, in the same
 * statement), as failed when it did not. Used by speech jobs and live voice sessions alike.
 */
export async function meteredSpeech<T>(
  cost: CostService,
  step: {
    subject: CostSubject;
    kind: SpeechKind;
    engine: { provider: string; model: string };
    /** Characters to speak, or seconds of audio to transcribe: what admission reserves for. */
    quantity: number;
  },
  run: () => Promise<T>,
  settled: (result: T) => {
    usage: Pick<UsageOutcome, 'audioSeconds' | 'characters'>;
    alongside?: AlongsideWrites;
  },
): Promise<T> {
  const { provider, model } = step.engine;
  const admission = await cost.admitUnits({
    subject: step.subject,
    kind: step.kind,
    model,
    quantity: step.quantity,
  });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    // Nothing is kept of a failed run; a retry pays for its own attempt.
    await cost.settle(admission, { provider, model, status: 'failed' });
    throw error;
  }
  const { usage, alongside } = settled(result);
  await cost.settle(admission, { provider, model, ...usage, status: 'complete' }, alongside);
  return result;
}
