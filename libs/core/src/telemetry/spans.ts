import {
  type Attributes,
  context,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** Parley's own tracer. Without a started SDK it is OpenTelemetry's no-op tracer. */
export const tracer = () => trace.getTracer('parley');

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
}

/** Marks the span failed with the error, as the OpenTelemetry conventions ask. */
export function recordFailure(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  span.recordException(failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  // The stable error code (BUDGET_EXCEEDED…) is what an operator searches for.
  const code = (error as { code?: unknown })?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : failure.name);
}

/**
 * Runs `fn` inside a new active span (child of the current one), ending it when the promise
 * settles and recording a failure. `fn` may add attributes to the span it receives.
 */
export function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A span around an async generator's whole life: every step of the generator runs in the
 * span's context (so what it awaits becomes its children), and the span ends when the
 * generator finishes, fails or is closed by its consumer.
 */
export async function* tracedGenerator<T, R>(
  name: string,
  options: SpanOptions,
  body: (span: Span) => AsyncGenerator<T, R>,
): AsyncGenerator<T, R> {
  const span = tracer().startSpan(name, options);
  const active: Context = trace.setSpan(context.active(), span);
  const iterator = context.with(active, () => body(span));
  try {
    for (;;) {
      const next = await context.with(active, () => iterator.next());
      if (next.done) return next.value;
      yield next.value;
    }
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    // A consumer that stops early (client gone) closes the inner generator too.
    await context.with(active, () => iterator.return?.(undefined as R)).catch(() => undefined);
    span.end();
  }
}

/** The active trace and span ids, for log lines; empty when nothing is being traced. */
export function activeTraceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const ids = trace.getActiveSpan()?.spanContext();
  if (!ids || !trace.isSpanContextValid(ids)) return {};
  return { trace_id: ids.traceId, span_id: ids.spanId };
}

export { SpanKind };
export type { Span };

/**
 * Method decorator: each call of the (async) method runs in its own span named `name`, a
 * child of the caller's. The span is active inside, so the method may add attributes to
 * `trace.getActiveSpan()` or `currentSpan()`.
 */
export function Traced(name: string, options: SpanOptions = {}): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const method = descriptor.value as (...args: unknown[]) => unknown;
    descriptor.value = function (this: unknown, ...args: unknown[]) {
      return withSpan(name, options, () => method.apply(this, args));
    };
    return descriptor;
  };
}

/** The active span (a no-op one when nothing is traced), to add attributes to. */
export const currentSpan = (): Span => trace.getActiveSpan() ?? trace.wrapSpanContext(INVALID);

const INVALID = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };

/**
 * A span started now but ended by the caller, for work that is not one promise (a stream):
 * `within` runs a function in the span's context, so what it starts becomes its children.
 */
export function openSpan(
  name: string,
  options: SpanOptions = {},
): { span: Span; within: <T>(fn: () => T) => T; fail: (error: unknown) => void } {
  const span = tracer().startSpan(name, options);
  const active = trace.setSpan(context.active(), span);
  return {
    span,
    within: (fn) => context.with(active, fn),
    fail: (error) => recordFailure(span, error),
  };
}
