import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'parley:isPublic';

/** Marks a route or controller as reachable without a principal (the auth guard honours it). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export const NO_RATE_LIMIT = 'parley:noRateLimit';

/** Exempts a route or controller from request rate limits (health probes). */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator =>
  SetMetadata(NO_RATE_LIMIT, true);
