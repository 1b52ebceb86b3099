import type { AppConfig } from '@parley/core';
import type { DataSourceOptions, MigrationInterface } from 'typeorm';

export type MigrationList = (new () => MigrationInterface)[];

/**
 * The one TypeORM configuration, shared by the app and the migration command. Entities are
 * added by the feature modules (autoLoadEntities); migrations are passed in by the app
 * (migrations/index.ts), since a lib does not reach outside libs/.
 */
export function dataSourceOptions(
  config: AppConfig,
  url: string,
  migrations: MigrationList,
): DataSourceOptions {
  const { database } = config;
  const ssl =
    config.mode === 'services' && database.ssl.enabled
      ? {
          rejectUnauthorized: database.ssl.rejectUnauthorized,
          ...(database.ssl.ca ? { ca: database.ssl.ca } : {}),
        }
      : false;
  return {
    type: 'postgres',
    url,
    ssl,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    uuidExtension: 'pgcrypto',
    // Embedded mode has one node and PGlite serialises queries; a small pool is plenty.
    poolSize: config.mode === 'embedded' ? Math.min(database.poolSize, 5) : database.poolSize,
    connectTimeoutMS: database.connectTimeoutMs,
    extra: {
      statement_timeout: database.statementTimeoutMs || undefined,
      application_name: config.app.name,
    },
  };
}
