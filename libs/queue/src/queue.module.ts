import { type DynamicModule, Global, Module, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { AppConfig } from '@parley/core';
import { JobOutbox } from './job-outbox.service';
import { QueueBackendHolder } from './queue-backend.holder';
import { QueueService } from './queue.service';
import { QueueWorkerHost, SERVED_QUEUES, servedQueues } from './queue-worker.host';
import { SystemProcessor } from './system.processor';

@Global()
@Module({})
export class QueueModule implements OnModuleInit {
  constructor(
    private readonly holder: QueueBackendHolder,
    private readonly queues: QueueService,
  ) {}

  /** `runWorkers`: true in apps/worker; in the api, `queue.workersInProcess`. */
  static forRoot(config: AppConfig, options: { runWorkers: boolean }): DynamicModule {
    return {
      module: QueueModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: SERVED_QUEUES, useValue: servedQueues(config, options.runWorkers) },
        QueueBackendHolder,
        QueueService,
        JobOutbox,
        QueueWorkerHost,
        SystemProcessor,
      ],
      exports: [QueueService, JobOutbox],
    };
  }

  onModuleInit(): void {
    this.holder.registerReadiness(async () => {
      await this.queues.queue('system').getJobCounts('waiting');
    });
  }
}
