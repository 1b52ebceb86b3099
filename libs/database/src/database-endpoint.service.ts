import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { EmbeddedPostgres } from './embedded-postgres';

/**
 * Where Postgres is: DATABASE_URL in services mode, or the embedded PGlite server this process
 * starts. Everything that talks to the database (TypeORM, BullMQ's Postgres backend, the
 * migration command) asks this one object.
 */
@Injectable()
export class DatabaseEndpoint implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: EmbeddedPostgres;
  private stopHooks: (() => Promise<void>)[] = [];
  url: string;

  constructor(private readonly config: AppConfig) {}

  async start(): Promise<void> {
    if (this.config.mode === 'services') {
      this.url = this.config.database.url!;
      return;
    }
    const started = Date.now();
    this.embedded = await EmbeddedPostgres.start(this.config.database.embedded);
    this.url = this.embedded.url;
    this.logger.log(
      `embedded PostgreSQL (PGlite) ready in ${Date.now() - started} ms with data in ${this.config.database.embedded.dataDir}`,
    );
  }

  /** Runs before the embedded server stops, e.g. to close pools that use it. */
  beforeStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const hook of this.stopHooks.splice(0)) await hook().catch(() => undefined);
    await this.embedded?.stop();
    this.embedded = undefined;
  }
}
