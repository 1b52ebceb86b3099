import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, ConfigError, ReadinessRegistry } from '@parley/core';
import { DatabaseEndpoint } from '@parley/database';
import { type BullBackend, chooseBackend } from './queue.backend';
import { assertQueueSchema, migrateQueueSchema } from './queue.migrations';
import { checkRedisEviction } from './redis-eviction-check';

/** Holds the chosen backend, migrates BullMQ's Postgres schema at boot when configured. */
@Injectable()
export class QueueBackendHolder implements OnModuleInit {
  private readonly logger = new Logger('Queue');
  private backend?: BullBackend;

  constructor(
    private readonly config: AppConfig,
    private readonly endpoint: DatabaseEndpoint,
    private readonly readiness: ReadinessRegistry,
  ) {}

  get(): BullBackend {
    this.backend ??= chooseBackend(this.config, this.endpoint.url);
    return this.backend;
  }

  async onModuleInit(): Promise<void> {
    const backend = this.get();
    if (backend.kind === 'redis') await this.assertNoEviction();
    if (backend.kind === 'postgres') {
      if (this.config.database.migrateOnBoot)
        await migrateQueueSchema(this.endpoint.url, backend.schema!);
      else await assertQueueSchema(this.endpoint.url, backend.schema!);
    }
    this.logger.log(
      `queues on ${backend.kind === 'redis' ? 'Redis' : `PostgreSQL (schema ${backend.schema})`}`,
    );
  }

  /** Refuses to start on a Redis that may evict keys (BullMQ's production requirement). */
  private async assertNoEviction(): Promise<void> {
    const check = await checkRedisEviction(this.config.redis.url!);
    if (check.ok === true) return;
    if (check.ok === 'unknown') {
      this.logger.warn(
        `could not read Redis's maxmemory-policy (${check.reason}); make sure it is noeviction, or queued jobs may be lost`,
      );
      return;
    }
    throw new ConfigError(
      'REDIS_URL',
      `Redis's maxmemory-policy is ${check.policy}; queues need noeviction (an evicted key is a lost job). Set \`maxmemory-policy noeviction\` on that server (redis.conf, CONFIG SET, or the managed service's parameter group)`,
    );
  }

  registerReadiness(probe: () => Promise<void>): void {
    this.readiness.register('queue', probe);
  }
}
