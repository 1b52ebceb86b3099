import type { Redis } from 'ioredis';
import { type AttemptPolicy, AttemptCounter, type AttemptState } from './attempt-counter.port';

// KEYS: counter, lock. ARGV: windowMs, maxFailures, baseLockMs, maxLockMs. Mirrors lockDuration().
const RECORD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local lock = 0
local over = n - tonumber(ARGV[2])
if over >= 0 then
  lock = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * (2 ^ over))
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(lock))
  if redis.call('PTTL', KEYS[1]) < lock then redis.call('PEXPIRE', KEYS[1], math.floor(lock)) end
end
return {n, math.floor(lock)}
`;

/** Counts shared by every instance on one Redis; each update is one atomic script. */
export class RedisAttemptCounter extends AttemptCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  private keys(key: string): [string, string] {
    return [`${this.prefix}:attempts:${key}`, `${this.prefix}:attempts-lock:${key}`];
  }

  async state(key: string): Promise<AttemptState> {
    const [counter, lock] = this.keys(key);
    const [failures, ttl] = await Promise.all([this.redis.get(counter), this.redis.pttl(lock)]);
    return { failures: Number(failures ?? 0), lockedForMs: Math.max(0, ttl) };
  }

  async recordFailure(key: string, policy: AttemptPolicy): Promise<AttemptState> {
    const [failures, lock] = (await this.redis.eval(
      RECORD_FAILURE,
      2,
      ...this.keys(key),
      policy.windowMs,
      policy.maxFailures,
      policy.baseLockMs,
      policy.maxLockMs,
    )) as [number, number];
    return { failures, lockedForMs: lock };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(...this.keys(key));
  }
}
