import {
  type AttemptPolicy,
  AttemptCounter,
  type AttemptState,
  lockDuration,
} from './attempt-counter.port';

interface Entry {
  failures: number;
  expiresAt: number;
  lockedUntil: number;
}

/** One process's counts; used when Redis is not configured (embedded mode, one node). */
export class MemoryAttemptCounter extends AttemptCounter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now() && entry.lockedUntil <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async state(key: string): Promise<AttemptState> {
    const entry = this.live(key);
    return {
      failures: entry?.failures ?? 0,
      lockedForMs: Math.max(0, (entry?.lockedUntil ?? 0) - this.now()),
    };
  }

  async recordFailure(key: string, policy: AttemptPolicy): Promise<AttemptState> {
    const now = this.now();
    const entry = this.live(key) ?? {
      failures: 0,
      expiresAt: now + policy.windowMs,
      lockedUntil: 0,
    };
    entry.failures += 1;
    const lock = lockDuration(entry.failures, policy);
    if (lock > 0) {
      entry.lockedUntil = now + lock;
      entry.expiresAt = Math.max(entry.expiresAt, entry.lockedUntil);
    }
    this.entries.set(key, entry);
    if (this.entries.size > 100_000) this.sweep();
    return { failures: entry.failures, lockedForMs: lock };
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private sweep(): void {
    for (const key of this.entries.keys()) this.live(key);
  }
}
