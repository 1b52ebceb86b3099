export interface AttemptPolicy {
  windowMs: number;
  maxFailures: number;
  baseLockMs: number;
  maxLockMs: number;
}

export interface AttemptState {
  failures: number;
  /** 0 when not locked. */
  lockedForMs: number;
}

/**
 * Counts failed attempts per key (an account, an IP) and locks the key once there are too many,
 * for twice as long after each further failure. The abstract class is the DI token; Redis keeps
 * the counts when configured so every instance sees them, memory otherwise.
 */
export abstract class AttemptCounter {
  abstract state(key: string): Promise<AttemptState>;
  abstract recordFailure(key: string, policy: AttemptPolicy): Promise<AttemptState>;
  abstract reset(key: string): Promise<void>;
}

/** The lock after `failures` failures: none below the limit, then base × 2^(over), capped. */
export function lockDuration(failures: number, policy: AttemptPolicy): number {
  if (failures < policy.maxFailures) return 0;
  return Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** (failures - policy.maxFailures));
}
