import { Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig, NO_RATE_LIMIT, RedisConnection } from '@parley/core';
import { AttemptCounter } from './attempt-counter.port';
import { FallbackAttemptCounter } from './fallback-attempt-counter';
import { MemoryAttemptCounter } from './memory-attempt-counter.adapter';
import {
  RATE_LIMIT_GROUP,
  RATE_LIMIT_GROUPS,
  type RateLimitGroup,
} from './rate-limit-group.decorator';
import { RedisAttemptCounter } from './redis-attempt-counter.adapter';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** Request limits per route group, and the failed-login counters; on Redis when configured. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisConnection, Reflector],
      useFactory: (config: AppConfig, redis: RedisConnection, reflector: Reflector) => ({
        // One budget per principal per group (Nest's default key is per route handler).
        generateKey: (_context, tracker, throttlerName) => `${throttlerName}:${tracker}`,
        storage: redis.client
          ? new RedisThrottlerStorage(redis.client, config.redis.keyPrefix)
          : new ThrottlerStorageService(),
        // One throttler per group; each applies only to routes of its group.
        throttlers: RATE_LIMIT_GROUPS.map((group) => ({
          name: group,
          limit: config.rateLimit[group].limit,
          ttl: config.rateLimit[group].ttlSeconds * 1000,
          skipIf: (context) => {
            const targets = [context.getHandler(), context.getClass()];
            if (reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT, targets)) return true;
            return (
              (reflector.getAllAndOverride<RateLimitGroup>(RATE_LIMIT_GROUP, targets) ??
                'default') !== group
            );
          },
        })),
      }),
    }),
  ],
  providers: [
    {
      provide: AttemptCounter,
      inject: [AppConfig, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) =>
        redis.client
          ? new FallbackAttemptCounter(
              new RedisAttemptCounter(redis.client, config.redis.keyPrefix),
              new MemoryAttemptCounter(),
            )
          : new MemoryAttemptCounter(),
    },
  ],
  exports: [AttemptCounter, ThrottlerModule],
})
export class RateLimitModule {}
