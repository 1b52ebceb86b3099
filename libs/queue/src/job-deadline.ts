import { JobTimedOutError } from './queue.errors';

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
