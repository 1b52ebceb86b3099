import { telemetryStarted } from '@parley/core';
import { BullMQOtel } from 'bullmq-otel';

let telemetry: BullMQOtel | undefined;

/**
 * BullMQ's own OpenTelemetry support for a Queue, Worker or FlowProducer: a job's spans link
 * to the request that queued it. Nothing when tracing is off.
 */
export function queueTelemetry(): { telemetry?: BullMQOtel } {
  if (!telemetryStarted()) return {};
  telemetry ??= new BullMQOtel({ tracerName: 'parley', enableMetrics: false });
  return { telemetry };
}
