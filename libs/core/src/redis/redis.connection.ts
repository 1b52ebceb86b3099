import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness.registry';

/**
 * The shared Redis client when REDIS_URL is set (rate limits, caches, revocation), or `null`
 * in a process that runs without Redis. Connection errors are logged, never thrown at the
 * process: ioredis reconnects by itself and readiness reports the outage.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis | null;

  constructor(config: AppConfig, readiness: ReadinessRegistry) {
    if (!config.redis.url) {
      this.client = null;
      return;
    }
    this.client = new Redis(config.redis.url, {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      // A command waits at most this long (Redis away): callers fall back instead of hanging.
      commandTimeout: 2000,
      connectionName: config.app.name,
    });
    let lastError = '';
    this.client.on('error', (error: Error) => {
      // One line per distinct failure, not one per reconnect attempt.
      if (error.message !== lastError) this.logger.warn(`redis error: ${error.message}`);
      lastError = error.message;
    });
    this.client.on('ready', () => (lastError = ''));
    readiness.register('redis', async () => {
      await this.client!.ping();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}
