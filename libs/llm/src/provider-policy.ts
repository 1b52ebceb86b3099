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
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

export interface PolicyOptions {
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  failureThreshold: number;
  halfOpenAfterMs: number;
}

/** Worth another try: rate limits, server errors, timeouts, broken connections. */
export function isTransient(error: unknown): boolean {
  if (error instanceof BrokenCircuitError) return false;
  if (error instanceof APIConnectionError || error instanceof APIConnectionTimeoutError)
    return true;
  if (error instanceof APIError)
    return (
      error.status === undefined ||
      error.status === 408 ||
      error.status === 429 ||
      error.status >= 500
    );
  // cockatiel's own per-attempt timeout.
  return error instanceof TaskCancelledError;
}

/** Milliseconds the provider asked us to wait (Retry-After seconds or date, or retry-after-ms). */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof APIError) || !error.headers) return undefined;
  const headers = error.headers as Headers;
  const ms = Number(headers.get?.('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * One provider's policy (cockatiel): retries with exponential backoff and full jitter that
 * honour Retry-After, around a circuit breaker (open after a run of failures, half-open probe
 * later), around a per-attempt timeout that aborts the request.
 */
export function providerPolicy(
  options: PolicyOptions,
  hooks: {
    onBreak?: () => void;
    onReset?: () => void;
    onRetry?: () => void;
    random?: () => number;
  } = {},
): IPolicy {
  const random = hooks.random ?? Math.random;
  const backoff = new DelegateBackoff<{
    attempt: number;
    result: { error?: unknown } | { value: unknown };
  }>((context) => {
    const exponential = Math.min(
      options.maxDelayMs,
      options.baseDelayMs * 2 ** (context.attempt - 1),
    );
    const jittered = Math.round(random() * exponential);
    const asked = 'error' in context.result ? retryAfterMs(context.result.error) : undefined;
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
