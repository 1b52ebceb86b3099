import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, ReadinessRegistry } from '@parley/core';
import { DatabaseEndpoint } from '@parley/database';
import { type BullBackend, chooseBackend } from './queue.backend';
import { assertQueueSchema, migrateQueueSchema } from './queue.migrations';

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
    if (backend.kind === 'postgres') {
      if (this.config.database.migrateOnBoot)
        await migrateQueueSchema(this.endpoint.url, backend.schema!);
      else await assertQueueSchema(this.endpoint.url, backend.schema!);
    }
    this.logger.log(
      `queues on ${backend.kind === 'redis' ? 'Redis' : `PostgreSQL (schema ${backend.schema})`}`,
    );
  }

  registerReadiness(probe: () => Promise<void>): void {
    this.readiness.register('queue', probe);
  }
}
