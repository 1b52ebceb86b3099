import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { setCaptureMessageContent } from './gen-ai';

export interface TelemetryOptions {
  /** service.name unless OTEL_SERVICE_NAME says otherwise: parley-api, parley-worker. */
  serviceName: string;
  /** Span processors of a test (an in-memory exporter); production reads OTEL_* instead. */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
  /** Prompts and answers on GenAI spans; else OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
  captureMessageContent?: boolean;
}

interface Started {
  sdk: { shutdown(): Promise<void> };
  instrumentations: { disable(): void }[];
}

let started: Started | undefined;

/**
 * Whether the environment asks for traces: an OTLP endpoint (or another exporter) is set and
 * the SDK is not disabled. Without one nothing is loaded, so tracing costs nothing when off.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || exporter,
  );
}

/**
 * Starts the OpenTelemetry SDK: the exporter from the standard OTEL_* variables (OTLP over
 * HTTP by default), the http/undici, Fastify, pg and ioredis instrumentations. Must run before
 * those modules are first required, so each app's entry file imports its `instrument.ts` first.
 * Metrics stay with prom-client (/metrics) and logs with pino, so the SDK exports traces only.
 */
export function startTelemetry(options: TelemetryOptions): boolean {
  const env = options.env ?? process.env;
  if (started) return true;
  if (!options.spanProcessors && !tracingRequested(env)) return false;
  setCaptureMessageContent(
    options.captureMessageContent ??
      env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.toLowerCase() === 'true',
  );
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // Loaded here, not at the top, so that a process without tracing never loads the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } =
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } =
    require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const probes = (path: string) => path.startsWith('/health/') || path.startsWith('/metrics');
  const instrumentations = [
    new HttpInstrumentation({
      // Probes and scrapes every few seconds would fill the trace store with nothing.
      ignoreIncomingRequestHook: (request) => probes(request.url ?? ''),
    }),
    new UndiciInstrumentation(),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // One span for the request and one for its handler; a span per hook is only noise.
      instrumentHooks: false,
      ignorePaths: (route) => probes(route.url),
    }),
    // Statement text is kept (it holds placeholders, not values); values never are.
    new PgInstrumentation({ enhancedDatabaseReporting: false }),
    new IORedisInstrumentation(),
  ];
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || options.serviceName,
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    instrumentations,
  });
  sdk.start();
  started = { sdk, instrumentations };
  return true;
}

/** Whether startTelemetry started the SDK in this process. */
export function telemetryStarted(): boolean {
  return started !== undefined;
}

/**
 * Flushes and stops the SDK (graceful shutdown); a no-op when tracing is off. The SDK's own
 * shutdown leaves the instrumentations subscribed and the global propagator set, so outgoing
 * fetches would still carry a `traceparent`: both are undone, leaving the process untraced.
 */
export async function shutdownTelemetry(): Promise<void> {
  const stopping = started;
  started = undefined;
  setCaptureMessageContent(false);
  if (!stopping) return;
  await stopping.sdk.shutdown().catch(() => undefined);
  for (const instrumentation of stopping.instrumentations) instrumentation.disable();
  trace.disable();
  propagation.disable();
  context.disable();
}
