import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

const FLUSH_INTERVAL_MS = 30_000;

/**
 * Remembers when each API key was last used and writes it in one statement every 30 s (and at
 * shutdown), instead of one write per request. `last_used_at` may lag by that much.
 */
@Injectable()
export class ApiKeyUsageTracker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ApiKeyUsage');
  private pending = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  touch(apiKeyId: string): void {
    this.pending.set(apiKeyId, new Date());
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.dataSource.query(
        `UPDATE api_keys AS k SET last_used_at = GREATEST(k.last_used_at, u.used_at)
           FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, used_at) WHERE k.id = u.id`,
        [[...batch.keys()], [...batch.values()]],
      );
    } catch (error) {
      this.logger.warn(`could not record API key usage: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.dataSource.isInitialized) await this.flush();
  }
}
