import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  DelegateBackoff,
  handleWhen,
  type IPolicy,
  retry,
  timeout,
  TaskCancelledError,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { ChatModel } from './ports/chat-model.port';

export interface PolicyOptions {
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  failureThreshold: number;
  halfOpenAfterMs: number;
}

/** What the policy asks of the provider's adapter: which errors are worth another try. */
export type ErrorReading = Pick<ChatModel, 'isTransient' | 'retryAfterMs'>;

/**
 * One provider's policy (cockatiel): retries with exponential backoff and full jitter that
 * honour Retry-After, around a circuit breaker (open after a run of failures, half-open probe
 * later), around a per-attempt timeout that aborts the request.
 */
export function providerPolicy(
  options: PolicyOptions,
  errors: ErrorReading,
  hooks: {
    onBreak?: () => void;
    onReset?: () => void;
    onRetry?: () => void;
    random?: () => number;
  } = {},
): IPolicy {
  const random = hooks.random ?? Math.random;
  // cockatiel's own per-attempt timeout is transient too; an open breaker is not retried.
  const isTransient = (error: unknown) =>
    error instanceof TaskCancelledError ||
    (!(error instanceof BrokenCircuitError) && errors.isTransient(error));
  const backoff = new DelegateBackoff<{
    attempt: number;
    result: { error?: unknown } | { value: unknown };
  }>((context) => {
    const exponential = Math.min(
      options.maxDelayMs,
      options.baseDelayMs * 2 ** (context.attempt - 1),
    );
    const jittered = Math.round(random() * exponential);
    const asked = 'error' in context.result ? errors.retryAfterMs(context.result.error) : undefined;
    return asked !== undefined
      ? Math.min(Math.max(asked, jittered), options.maxDelayMs * 4)
      : jittered;
  });
  const retryPolicy = retry(handleWhen(isTransient), {
    maxAttempts: options.maxAttempts - 1,
    backoff,
  });
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.failureThreshold),
  });
  if (hooks.onBreak) breaker.onBreak(hooks.onBreak);
  if (hooks.onReset) breaker.onReset(hooks.onReset);
  if (hooks.onRetry) retryPolicy.onRetry(hooks.onRetry);
  // abortOnReturn: false, so a stream that has started keeps its connection after the first chunk.
  const perAttempt = timeout(options.timeoutMs, {
    strategy: TimeoutStrategy.Aggressive,
    abortOnReturn: false,
  });
  return wrap(retryPolicy, breaker, perAttempt);
}
