import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';

export const RATE_LIMIT_GROUPS = ['default', 'auth', 'chat', 'audio', 'admin'] as const;
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number];
export const RATE_LIMIT_GROUP = 'parley:rateLimitGroup';

/** Puts a controller or route under one of the `rateLimit.*` limits of the configuration. */
export const RateLimit = (group: RateLimitGroup): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(RATE_LIMIT_GROUP, group),
    ApiTooManyRequestsResponse({
      description: '`RATE_LIMITED`: over the limit; `Retry-After` says when to retry.',
    }),
  );
