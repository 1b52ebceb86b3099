import { AppError } from '@parley/core';

/** A job ran past QUEUE_JOB_TIMEOUT_MS and was aborted: final, since a retry would too. */
export class JobTimedOutError extends AppError {
  constructor(queue: string, timeoutMs: number) {
    super(
      'JOB_TIMED_OUT',
      504,
      `The ${queue} job was stopped after ${Math.round(timeoutMs / 1000)} s (QUEUE_JOB_TIMEOUT_MS) without finishing; submit it again, or raise the limit for longer work.`,
      { logLevel: 'warn' },
    );
  }
}

/**
 * The signal a processor runs under: aborted when the job overruns its deadline (with a
 * JobTimedOutError as the reason) or when BullMQ cancels it (worker.cancelJob). `release`
 * clears the timer once the job has ended.
 */
export function jobDeadline(
  queue: string,
  timeoutMs: number,
  cancelled?: AbortSignal,
): { signal: AbortSignal; release: () => void } {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new JobTimedOutError(queue, timeoutMs)), timeoutMs);
  timer.unref();
  const signal = cancelled ? AbortSignal.any([deadline.signal, cancelled]) : deadline.signal;
  return { signal, release: () => clearTimeout(timer) };
}

/**
 * What a processor should record for an error thrown while its signal was aborted: the
 * abort's reason (a timeout says so), not the AbortError of whatever call it interrupted.
 */
export function whyStopped(signal: AbortSignal | undefined, error: unknown): unknown {
  return signal?.aborted && signal.reason instanceof Error ? signal.reason : error;
}
