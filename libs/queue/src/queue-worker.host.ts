import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { AppConfig, ConfigError, Metrics, OutageLog } from '@parley/core';
import { Worker } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from './queue.definitions';
import { type JobProcessor, QUEUE_PROCESSOR } from './queue.processor';
import { QueueBackendHolder } from './queue-backend.holder';
import { queueTelemetry } from './queue-telemetry';
import { jobDeadline } from './job-deadline';

export const SERVED_QUEUES = Symbol('SERVED_QUEUES');

/**
 * Starts a BullMQ worker for each discovered processor whose queue this process serves
 * (see servedQueues).
 */
@Injectable()
export class QueueWorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('QueueWorkers');
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(SERVED_QUEUES) private readonly servedQueues: QueueName[],
    private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly backend: QueueBackendHolder,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    const duration = this.metrics.histogram({
      name: 'parley_queue_job_duration_seconds',
      help: 'Time a job ran in this worker, by queue and how it ended (completed, failed).',
      labelNames: ['queue', 'state'],
    });
    const observe = (queue: string, state: string, job?: { processedOn?: number }) => {
      if (job?.processedOn)
        duration.observe({ queue, state }, (Date.now() - job.processedOn) / 1000);
    };
    const { connection, factory, prefix } = this.backend.get();
    const processors = processorsByQueue(
      this.discovery
        .getProviders()
        .filter((w) => w.metatype && w.instance)
        .map((w) => ({
          queue: Reflect.getMetadata(QUEUE_PROCESSOR, w.metatype!) as QueueName | undefined,
          name: w.metatype!.name,
          instance: w.instance as JobProcessor<QueueName>,
        })),
      this.servedQueues,
    );
    for (const [queue, processor] of processors) {
      const worker = new Worker(
        queue,
        async (job, _token, cancelled) => {
          const deadline = jobDeadline(queue, this.config.queue.jobTimeoutMs, cancelled);
          try {
            return await processor.process(job as never, deadline.signal);
          } finally {
            deadline.release();
          }
        },
        {
          connection,
          concurrency: this.config.queue.concurrency,
          lockDuration: this.config.queue.lockDurationMs,
          stalledInterval: this.config.queue.stalledIntervalMs,
          // On PostgreSQL an idle worker is woken by LISTEN/NOTIFY; drainDelay is its fallback
          // poll, kept short so a missed notification costs half a second, not BullMQ's 5 s.
          ...(this.config.queue.backend === 'postgres' ? { drainDelay: 0.5 } : {}),
          ...(prefix ? { prefix } : {}),
          ...queueTelemetry(),
        } as never,
        factory as never,
      );
      // A lost Redis makes every worker fail many times a second until it is back.
      const outage = new OutageLog(this.logger);
      worker.on('error', (error: Error) =>
        outage.failed(error.message, (reason) => `worker ${queue}: ${reason}`),
      );
      worker.on('completed', (job) => {
        outage.recovered(`worker ${queue}: working again`);
        observe(queue, 'completed', job);
      });
      worker.on('failed', (job, error) => {
        observe(queue, 'failed', job);
        this.logger.warn(
          `job ${queue}/${job?.id} failed (attempt ${job?.attemptsMade}): ${error.message}`,
        );
      });
      this.workers.push(worker);
    }
    if (this.workers.length > 0) {
      this.logger.log(`working on: ${this.workers.map((w) => w.name).join(', ')}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    // close() lets active jobs finish; a job cut off by a hard kill is retried (stalled).
    await Promise.all(this.workers.splice(0).map((w) => w.close().catch(() => undefined)));
  }
}

/**
 * The one processor of each queue this process serves. A queue with two processors (jobs
 * would go to either at random) or a served queue with none (its jobs would wait forever)
 * stops the boot, naming the classes.
 */
export function processorsByQueue<P>(
  found: { queue?: QueueName; name: string; instance: P }[],
  served: readonly QueueName[],
): Map<QueueName, P> {
  const byQueue = new Map<QueueName, { name: string; instance: P }[]>();
  for (const { queue, name, instance } of found) {
    const list = queue ? (byQueue.get(queue) ?? []) : undefined;
    // One class provided by two modules is still one processor.
    if (queue && !list!.some((p) => p.name === name))
      byQueue.set(queue, [...list!, { name, instance }]);
  }
  for (const [queue, list] of byQueue)
    if (list.length > 1)
      throw new Error(
        `queue ${queue} has ${list.length} processors (${list.map((p) => p.name).join(', ')}): exactly one may handle its jobs`,
      );
  const missing = served.filter((q) => !byQueue.has(q));
  if (missing.length > 0)
    throw new Error(
      `this process serves ${missing.join(', ')} but no processor for ${missing.length > 1 ? 'them' : 'it'} is loaded: import the module that owns it, or leave it out of WORKER_QUEUES`,
    );
  return new Map(served.map((q) => [q, byQueue.get(q)![0]!.instance]));
}

/**
 * The queues a process works on: none in an api without in-process workers; otherwise those
 * named in `queue.queues`, or every declared queue when that is empty. Checked before boot.
 */
export function servedQueues(config: AppConfig, runWorkers: boolean): QueueName[] {
  const wanted = config.queue.queues;
  const unknown = wanted.filter((q) => !QUEUE_NAMES.includes(q as QueueName));
  if (unknown.length > 0) {
    throw new ConfigError(
      'queue.queues (env WORKER_QUEUES)',
      `unknown queue ${unknown.join(', ')}; known queues: ${QUEUE_NAMES.join(', ')}`,
    );
  }
  if (!runWorkers) return [];
  return wanted.length > 0 ? (wanted as QueueName[]) : [...QUEUE_NAMES];
}
