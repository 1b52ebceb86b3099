import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { AudioModule } from '@parley/audio';
import { ConversationModule } from '@parley/conversation';
import { CostModule } from '@parley/cost';
import { RagModule } from '@parley/rag';
import { ToolsModule } from '@parley/tools';
import { type AppConfig, CoreModule } from '@parley/core';
import { DatabaseModule } from '@parley/database';
import { MIGRATIONS } from '@parley/migrations';
import { QueueModule } from '@parley/queue';

/** The api process: wiring only. Feature modules join here as they land. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, extra: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({ migrations: MIGRATIONS }),
        QueueModule.forRoot(config, { runWorkers: config.queue.workersInProcess }),
        AuthModule,
        CostModule,
        RagModule,
        ToolsModule,
        ConversationModule,
        AudioModule,
        ...extra,
      ],
    };
  }
}
