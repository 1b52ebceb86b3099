import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { Public, SkipRateLimit } from '../http/public.decorator';
import { Metrics } from './metrics.service';

/** Prometheus's scrape endpoint; behind a bearer token when METRICS_TOKEN is set. */
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
      'HTTP, LLM, cost, guardrail, retrieval, tool and queue metrics, plus the process defaults. With METRICS_TOKEN set, send `Authorization: Bearer <token>`.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics.' })
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const token = this.config.metrics.token;
    if (token && !matches(authorization, `Bearer ${token}`))
      throw new AppError(
        'UNAUTHENTICATED',
        401,
        'The metrics need `Authorization: Bearer <METRICS_TOKEN>`.',
      );
    reply.header('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}

function matches(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
