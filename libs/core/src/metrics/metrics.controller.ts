import { Controller, Get, Headers, Res } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { Public, SkipRateLimit } from '../http/public.decorator';
import { Metrics } from './metrics.service';
import { scrapeAllowed } from './scrape-auth';

/**
 * Prometheus's scrape endpoint on the main port: only behind a bearer token (METRICS_TOKEN);
 * without one it answers 404, as it does when METRICS_PORT moves it to a port of its own
 * (MetricsServer). Never public by default.
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
      'HTTP, LLM, cost, guardrail, retrieval, tool and queue metrics, plus the process defaults. Send `Authorization: Bearer <METRICS_TOKEN>`: on this port the metrics are served only when METRICS_TOKEN is set (404 otherwise). With METRICS_PORT set, they are served on that port instead (404 here).',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics.' })
  @ApiUnauthorizedResponse({ description: 'No or the wrong bearer token (`UNAUTHENTICATED`).' })
  @ApiNotFoundResponse({
    description: 'Not served on this port: METRICS_TOKEN is unset, or METRICS_PORT is set.',
  })
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
    if (!this.config.metrics.token)
      throw new AppError(
        'NOT_FOUND',
        404,
        'The metrics are not served on this port without a token: set METRICS_TOKEN (then send `Authorization: Bearer <token>`), or METRICS_PORT to serve them on a port of their own.',
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
