import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ProblemFilter } from './errors/problem.filter';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { LoggingModule } from './logging/logging.module';
import { RedisModule } from './redis/redis.module';
import { RequestContextModule } from './context/request-context.module';
import { Clock } from './time/clock.service';
import { KeyRingCipher } from './crypto/key-ring-cipher.service';

/**
 * Configuration, logging, request context, the problem filter, health, metrics and Redis: what
 * every process needs.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        RequestContextModule,
        HealthModule,
        MetricsModule,
        RedisModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }, Clock, KeyRingCipher],
      exports: [Clock, KeyRingCipher],
    };
  }
}
