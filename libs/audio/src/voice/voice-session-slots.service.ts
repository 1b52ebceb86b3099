import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, OutageLog, RedisConnection } from '@parley/core';
import { TooManyVoiceSessionsError } from '../audio.errors';

/** How long a slot lives without being renewed: a crashed instance's sessions free themselves. */
const SLOT_TTL_MS = 60_000;
const RENEW_EVERY_MS = 20_000;

// KEYS: the tenant's set. ARGV: session id, now, expiry, limit. Drops expired slots, then
// takes one if the tenant is under its limit. Returns 1 when taken.
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ${SLOT_TTL_MS})
return 1`;

/**
 * Open voice sessions per tenant, bounded by voice.maxSessionsPerTenant: across every instance
 * through a Redis sorted set of expiring slots when REDIS_URL is set, else in this process.
 * A Redis outage falls back to counting here, so sessions keep working (bounded per instance).
 */
@Injectable()
export class VoiceSessionSlots {
  private readonly local = new Map<string, Set<string>>();
  private readonly outage = new OutageLog(new Logger('VoiceSessions'));

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
  ) {}

  /** Takes a slot for the session; returns its release (idempotent). Throws when full. */
  async take(tenantId: string, sessionId: string): Promise<() => void> {
    const limit = this.config.voice.maxSessionsPerTenant;
    const client = this.redis.client;
    const key = `${this.config.redis.keyPrefix}:voice:sessions:${tenantId}`;
    if (client) {
      try {
        const now = Date.now();
        const taken = await client.eval(TAKE, 1, key, sessionId, now, now + SLOT_TTL_MS, limit);
        this.outage.recovered('Redis is back: voice sessions are counted across instances');
        if (taken !== 1) throw new TooManyVoiceSessionsError(limit);
        const renew = setInterval(() => {
          void client.zadd(key, Date.now() + SLOT_TTL_MS, sessionId).catch(() => undefined);
        }, RENEW_EVERY_MS);
        renew.unref();
        let released = false;
        return () => {
          if (released) return;
          released = true;
          clearInterval(renew);
          void client.zrem(key, sessionId).catch(() => undefined);
        };
      } catch (error) {
        if (error instanceof TooManyVoiceSessionsError) throw error;
        this.outage.failed(
          (error as Error).message,
          (reason) => `Redis unreachable (${reason}): counting voice sessions in this instance`,
        );
      }
    }
    let open = this.local.get(tenantId);
    if (!open) this.local.set(tenantId, (open = new Set()));
    if (open.size >= limit) throw new TooManyVoiceSessionsError(limit);
    open.add(sessionId);
    return () => {
      open.delete(sessionId);
      if (open.size === 0) this.local.delete(tenantId);
    };
  }
}
