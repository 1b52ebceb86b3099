import { Controller, Get, HttpCode } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthIndicatorService } from '@nestjs/terminus';
import { NotReadyError } from '../errors/core.errors';
import { Public, SkipRateLimit } from '../http/public.decorator';
import { ReadinessRegistry } from './readiness.registry';

const PROBE_TIMEOUT_MS = 3000;

@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('health')
export class HealthController {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly indicators: HealthIndicatorService,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP.' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: every dependency (database, queue backend, Redis) answers.',
  })
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { database: { status: 'up' } } } } })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; `checks` names it.' })
  async ready(): Promise<{
    status: 'ok';
    checks: Record<string, unknown>;
    details: Record<string, unknown>;
  }> {
    const results = await Promise.all(
      this.registry.entries().map(async ([name, probe]) => {
        const result = await this.indicators
          .check(name)
          .attempt(async ({ signal }) => {
            await probe(signal);
          })
          .withTimeout(PROBE_TIMEOUT_MS);
        return [name, result[name]] as const;
      }),
    );
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, r]) => r?.status === 'down').map(([name]) => name);
    if (failing.length > 0) throw new NotReadyError(checks, failing);
    return { status: 'ok', checks, details: await this.registry.details() };
  }
}
