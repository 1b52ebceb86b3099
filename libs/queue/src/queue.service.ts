import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type FlowJob, FlowProducer, type JobsOptions, Queue, QueueEvents } from 'bullmq';
import { AppConfig, Metrics } from '@parley/core';
import { QUEUE_NAMES, type QueueName, type QueuePayloads } from './queue.definitions';
import type { QueueJob } from './queue.processor';
import { QueueBackendHolder } from './queue-backend.holder';
import { queueTelemetry } from './queue-telemetry';

/** Default retention and retries; a job can override them when it is added. */
const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * On PostgreSQL finished jobs are bounded by age alone: a count limit makes the backend sort
 * up to that many finished jobs on every completion (82 jobs/s against 498 for plain BullMQ in
 * queue.bench at concurrency 1). On Redis the count also bounds memory.
 */
const POSTGRES_JOB_OPTIONS: JobsOptions = {
  ...DEFAULT_JOB_OPTIONS,
  removeOnComplete: { age: 24 * 3600 },
};

/** The producer side: adds jobs to the declared queues on the configured backend. */
@Injectable()
export class QueueService implements OnModuleDestroy {
  private readonly queues = new Map<QueueName, Queue>();
  private flows?: FlowProducer;
  private readonly listeners = new Map<QueueName, QueueEvents>();

  constructor(
    private readonly backend: QueueBackendHolder,
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    // Read from the backend when Prometheus scrapes, so every process reports the same depth.
    const counts = (name: QueueName) =>
      this.queue(name)
        .getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
        .catch(() => undefined);
    metrics.gauge({
      name: 'parley_queue_jobs',
      help: 'Jobs in each queue by state (waiting, active, delayed, failed, completed).',
      labelNames: ['queue', 'state'],
      collect: async function () {
        await Promise.all(
          QUEUE_NAMES.map(async (name) => {
            for (const [state, n] of Object.entries((await counts(name)) ?? {}))
              this.set({ queue: name, state }, n);
          }),
        );
      },
    });
  }

  async add<N extends QueueName>(
    queue: N,
    data: QueuePayloads[N],
    options: JobsOptions & { jobName?: string } = {},
  ): Promise<QueueJob<N>> {
    const { jobName, ...jobOptions } = options;
    const defaults =
      this.config.queue.backend === 'postgres' ? POSTGRES_JOB_OPTIONS : DEFAULT_JOB_OPTIONS;
    const job = await this.queue(queue).add(jobName ?? queue, data, {
      ...defaults,
      ...jobOptions,
    });
    return job as QueueJob<N>;
  }

  async getJob<N extends QueueName>(queue: N, id: string): Promise<QueueJob<N> | undefined> {
    return (await this.queue(queue).getJob(id)) as QueueJob<N> | undefined;
  }

  /**
   * A flow: jobs that depend on one another (a parent runs once its children completed), added
   * atomically. Queue names are the declared ones; payloads are ids, as for `add`.
   */
  async flow(flow: FlowJob & { queueName: QueueName }): Promise<void> {
    if (!this.flows) {
      const { factory, prefix } = this.backend.get();
      this.flows = new FlowProducer(
        {
          connection: this.producerConnection(),
          ...(prefix ? { prefix } : {}),
          ...queueTelemetry(),
        } as never,
        factory as never,
      );
      this.flows.on('error', () => undefined);
    }
    await this.flows.add(flow);
  }

  /**
   * The queue's events (active, progress, completed, failed…) as BullMQ publishes them to every
   * process, whichever worker ran the job: how an api instance hears of work done elsewhere.
   */
  events(name: QueueName): QueueEvents {
    let events = this.listeners.get(name);
    if (!events) {
      const { connection, factory, prefix } = this.backend.get();
      events = new QueueEvents(
        name,
        {
          connection,
          ...(prefix ? { prefix } : {}),
          // PGlite's socket server delivers no NOTIFY to the listener, so in embedded mode the
          // reader looks for new events every 200 ms instead of waiting 10 s for a wake-up.
          ...(this.config.mode === 'embedded' ? { blockingTimeout: 200 } : {}),
        } as never,
        factory as never,
      );
      events.on('error', () => undefined);
      this.listeners.set(name, events);
    }
    return events;
  }

  /**
   * Producers fail fast while Redis is away (BullMQ's advice for production): a command
   * waits in no offline queue, so an add answers with an error at once instead of hanging the
   * request; the outbox keeps the work and queues it when Redis is back.
   */
  private producerConnection(): Record<string, unknown> {
    const { connection, kind } = this.backend.get();
    return kind === 'redis' ? { ...connection, enableOfflineQueue: false } : connection;
  }

  /** The BullMQ queue itself, for counts and administration. */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      const { factory, prefix } = this.backend.get();
      queue = new Queue(
        name,
        {
          connection: this.producerConnection(),
          ...(prefix ? { prefix } : {}),
          ...queueTelemetry(),
        } as never,
        factory as never,
      );
      // Errors surface through the operation that failed and through readiness.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    await this.flows?.close().catch(() => undefined);
    await Promise.all([...this.listeners.values()].map((e) => e.close().catch(() => undefined)));
    this.listeners.clear();
  }
}
