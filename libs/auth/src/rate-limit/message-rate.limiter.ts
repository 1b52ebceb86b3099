import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '@parley/core';
import { RateLimitedError } from '../auth.errors';
import type { Principal } from '../principal';
import type { RateLimitGroup } from './rate-limit-group.decorator';

/**
 * The request limits for what does not arrive as an HTTP request (a WebSocket `chat.send`):
 * the same counters as the HTTP routes of the group, so a client cannot double its budget
 * by switching transports.
 */
@Injectable()
export class MessageRateLimiter {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /** Counts one message; throws RateLimitedError (429) when the principal is over its limit. */
  async consume(group: RateLimitGroup, principal: Principal): Promise<void> {
    const { limit, ttlSeconds } = this.config.rateLimit[group];
    // The key RateLimitGuard uses for the same principal and group.
    const tracker = principal.apiKeyId ? `key:${principal.apiKeyId}` : `user:${principal.userId}`;
    const ttl = ttlSeconds * 1000;
    const record = await this.storage.increment(`${group}:${tracker}`, ttl, limit, ttl, group);
    if (record.isBlocked || record.totalHits > limit)
      throw new RateLimitedError(record.timeToBlockExpire || record.timeToExpire);
  }
}
