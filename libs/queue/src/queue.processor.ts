import { SetMetadata, type Type } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { QueueName, QueuePayloads, QueueResults } from './queue.definitions';

export const QUEUE_PROCESSOR = 'parley:queueProcessor';

/** A job of queue N, typed by its declared payload and result. */
export type QueueJob<N extends QueueName> = Job<QueuePayloads[N], QueueResults[N]>;

/**
 * What a processor class implements; one class per queue. `signal` aborts when the job runs
 * past QUEUE_JOB_TIMEOUT_MS or is cancelled: pass it to provider calls and engines.
 */
export interface JobProcessor<N extends QueueName> {
  process(job: QueueJob<N>, signal: AbortSignal): Promise<QueueResults[N]>;
}

/** Marks a provider as the processor of a queue. Workers are started for it where configured. */
export const QueueProcessor = (queue: QueueName): ClassDecorator =>
  SetMetadata(QUEUE_PROCESSOR, queue);

export type ProcessorClass = Type<JobProcessor<QueueName>>;
