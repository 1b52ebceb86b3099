import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics.server';
import { Metrics } from './metrics.service';

/** The Prometheus registry every lib records into, and its scrape endpoint. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, MetricsServer],
  exports: [Metrics],
})
export class MetricsModule {}
