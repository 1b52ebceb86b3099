import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { RateLimitedError } from '../auth.errors';
import { CurrentPrincipal } from '../guards/current-principal.service';

/**
 * @nestjs/throttler keyed by API key, else user, else client IP (which honours trust proxy).
 * Answers 429 problem+json with Retry-After, and sets the standard RateLimit-* headers.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly current: CurrentPrincipal,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    // WebSocket messages are not HTTP requests: the gateway counts them (MessageRateLimiter).
    return context.getType() !== 'http' || super.canActivate(context);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    // The auth guard runs first, so the principal is known here.
    const principal = this.current.maybe();
    if (principal?.apiKeyId) return `key:${principal.apiKeyId}`;
    if (principal?.userId) return `user:${principal.userId}`;
    return `ip:${String(req.ip)}`;
  }

  protected override setResponseHeader(
    res: Record<string, unknown>,
    name: string,
    value: string | number,
  ): void {
    // "X-RateLimit-Limit-auth" → "RateLimit-Limit" (draft-ietf-httpapi-ratelimit-headers).
    const standard = name
      .replace(/^X-RateLimit-(Limit|Remaining|Reset).*$/, 'RateLimit-$1')
      .replace(/^Retry-After.*$/, 'Retry-After');
    super.setResponseHeader(res, standard, value);
  }

  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new RateLimitedError(detail.timeToBlockExpire || detail.timeToExpire);
  }
}
