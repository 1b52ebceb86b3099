import { SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

export const IS_PUBLIC = 'parley:isPublic';

/** Marks a route or controller as reachable without a principal (the auth guard honours it). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export const NO_RATE_LIMIT = 'parley:noRateLimit';

/** Exempts a route or controller from request rate limits (health probes). */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator =>
  SetMetadata(NO_RATE_LIMIT, true);

export const OPENAI_ERRORS = 'openAiErrors';

/**
 * Marks OpenAI-compatible routes: their problem details also carry OpenAI's `error` object, so
 * OpenAI clients show the real message. It is Fastify route config, so the error filter sees it
 * even for errors raised by guards and pipes.
 */
export const OpenAiErrors = (): MethodDecorator & ClassDecorator =>
  RouteConfig({ [OPENAI_ERRORS]: true });
