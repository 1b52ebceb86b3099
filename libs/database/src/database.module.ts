import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '@parley/core';
import { dataSourceOptions, type MigrationList } from './data-source.options';
import { DatabaseEndpoint } from './database-endpoint.service';
import { DatabaseLifecycle } from './database.lifecycle';

@Global()
@Module({})
class DatabaseEndpointModule {
  static forRoot(): DynamicModule {
    return {
      module: DatabaseEndpointModule,
      providers: [
        {
          provide: DatabaseEndpoint,
          inject: [AppConfig],
          useFactory: async (config: AppConfig) => {
            const endpoint = new DatabaseEndpoint(config);
            await endpoint.start();
            return endpoint;
          },
        },
      ],
      exports: [DatabaseEndpoint],
    };
  }
}

/** The database: embedded or external Postgres, TypeORM on top, migrations and readiness. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: { migrations: MigrationList }): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        DatabaseEndpointModule.forRoot(),
        TypeOrmModule.forRootAsync({
          inject: [AppConfig, DatabaseEndpoint],
          useFactory: (config: AppConfig, endpoint: DatabaseEndpoint) => ({
            ...dataSourceOptions(config, endpoint.url, options.migrations),
            autoLoadEntities: true,
            // Boot fails fast with the real reason instead of retrying for half a minute.
            retryAttempts: 0,
          }),
        }),
      ],
      providers: [DatabaseLifecycle],
      exports: [TypeOrmModule],
    };
  }
}
