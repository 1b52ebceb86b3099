import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, ReadinessRegistry } from '@parley/core';
import { DataSource } from 'typeorm';
import { DatabaseEndpoint } from './database-endpoint.service';
import { withMigrationLock } from './migration-lock';

/** Runs migrations at boot when configured, registers the readiness probe, closes in order. */
@Injectable()
export class DatabaseLifecycle implements OnModuleInit {
  private readonly logger = new Logger('Database');

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly endpoint: DatabaseEndpoint,
    private readonly readiness: ReadinessRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    // TypeORM's pool must close before the embedded server it talks to stops.
    this.endpoint.beforeStop(async () => {
      if (this.dataSource.isInitialized) await this.dataSource.destroy();
    });
    this.readiness.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
    if (this.config.database.migrateOnBoot) {
      const applied = await withMigrationLock(
        this.dataSource,
        this.config.mode === 'embedded',
        () => this.dataSource.runMigrations({ transaction: 'each' }),
      );
      if (applied.length > 0) {
        this.logger.log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      }
    } else if (await this.dataSource.showMigrations()) {
      // Serving on an older schema would fail request by request; refuse once, clearly.
      throw new Error(
        'the database has pending migrations; run `npm run migrate` (the Helm chart runs it as a Job) or set DATABASE_MIGRATE_ON_BOOT=true',
      );
    }
  }
}
