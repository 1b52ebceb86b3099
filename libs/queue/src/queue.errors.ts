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
