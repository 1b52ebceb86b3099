import { type DynamicModule, Module } from '@nestjs/common';
import { type AppConfig, CoreModule } from '@parley/core';
import { DatabaseModule } from '@parley/database';
import { MIGRATIONS } from '@parley/migrations';
import { QueueModule } from '@parley/queue';
import { RagJobsModule } from '@parley/rag';
import { AudioJobsModule } from '@parley/audio';

/** The worker process: the same libs, running the queue processors. Wiring only. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({ migrations: MIGRATIONS }),
        QueueModule.forRoot(config, { runWorkers: true }),
        RagJobsModule,
        AudioJobsModule,
      ],
    };
  }
}
