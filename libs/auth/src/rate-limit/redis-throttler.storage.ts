import { Logger } from '@nestjs/common';
import { OutageLog } from '@parley/core';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

// KEYS: hits, block. ARGV: ttlMs, limit, blockMs. A fixed window per key; once over the limit
// the key is blocked for blockMs. Returns hits, window ms left, block ms left.
const INCREMENT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or ARGV[2]), redis.call('PTTL', KEYS[1]), blocked}
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, tonumber(ARGV[3])}
end
return {hits, ttl, 0}
`;

/**
 * @nestjs/throttler storage on Redis, so limits hold across instances. (The community package
 * for this does not accept NestJS 12 as a peer yet; this is the same idea in one Lua script.)
 * While Redis cannot be reached, limits are counted in this instance's memory instead: the
 * API keeps serving (limits per instance, not shared) rather than fail every request.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly outage = new OutageLog(new Logger('RateLimit'));
  private readonly fallback = new ThrottlerStorageService();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      const record = await this.shared(key, ttl, limit, blockDuration, throttlerName);
      this.outage.recovered('Redis is back: rate limits are shared again');
      return record;
    } catch (error) {
      this.outage.failed(
        (error as Error).message,
        (reason) =>
          `Redis unreachable (${reason}): counting rate limits in this instance until it is back`,
      );
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  private async shared(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}:throttle:${throttlerName}:${key}`;
    const [hits, ttlLeft, blockLeft] = (await this.redis.eval(
      INCREMENT,
      2,
      base,
      `${base}:block`,
      ttl,
      limit,
      blockDuration > 0 ? blockDuration : ttl,
    )) as [number, number, number];
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(ttlLeft / 1000)),
      isBlocked: blockLeft > 0,
      timeToBlockExpire: Math.max(0, Math.ceil(blockLeft / 1000)),
    };
  }
}
