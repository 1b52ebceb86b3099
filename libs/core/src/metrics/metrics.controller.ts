import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { Public, SkipRateLimit } from '../http/public.decorator';
import { Metrics } from './metrics.service';
import { scrapeAllowed } from './scrape-auth';

/**
 * Prometheus's scrape endpoint; behind a bearer token when METRICS_TOKEN is set. With
 * METRICS_PORT set it lives on that port instead (MetricsServer) and answers 404 here.
 */
@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format).',
    description:
      'HTTP, LLM, cost, guardrail, retrieval, tool and queue metrics, plus the process defaults. With METRICS_TOKEN set, send `Authorization: Bearer <token>`. With METRICS_PORT set, the metrics are served on that port instead.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics.' })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.config.metrics.port)
      throw new AppError(
        'NOT_FOUND',
        404,
        `The metrics are served on port ${this.config.metrics.port} (METRICS_PORT).`,
      );
    if (!scrapeAllowed(authorization, this.config.metrics.token))
      throw new AppError(
        'UNAUTHENTICATED',
        401,
        'The metrics need `Authorization: Bearer <METRICS_TOKEN>`.',
      );
    reply.header('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
