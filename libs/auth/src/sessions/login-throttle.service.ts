import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { RateLimitedError } from '../auth.errors';
import { type AttemptPolicy, AttemptCounter } from '../rate-limit/attempt-counter.port';

/**
 * Failed logins are counted per account and per client IP. Past the limit the account (or IP)
 * is locked, twice as long after each further failure, and login answers 429 with Retry-After
 * before any password is checked. A success clears the account's count.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    private readonly counter: AttemptCounter,
    private readonly config: AppConfig,
  ) {}

  private policy(kind: 'account' | 'ip'): AttemptPolicy {
    const l = this.config.security.login;
    return {
      windowMs: l.failureWindowSeconds * 1000,
      maxFailures: kind === 'account' ? l.maxFailuresPerAccount : l.maxFailuresPerIp,
      baseLockMs: l.baseLockSeconds * 1000,
      maxLockMs: l.maxLockSeconds * 1000,
    };
  }

  private keys(account: string, ip: string | undefined): [string, string | undefined] {
    return [`login:account:${account}`, ip ? `login:ip:${ip}` : undefined];
  }

  /** Throws RATE_LIMITED while the account or the IP is locked. */
  async assertAllowed(account: string, ip: string | undefined): Promise<void> {
    const [accountKey, ipKey] = this.keys(account, ip);
    const states = await Promise.all([
      this.counter.state(accountKey),
      ipKey ? this.counter.state(ipKey) : undefined,
    ]);
    const lockedMs = Math.max(...states.map((s) => s?.lockedForMs ?? 0));
    if (lockedMs > 0) throw new RateLimitedError(lockedMs / 1000, 'Too many failed logins.');
  }

  /** Returns the lock now in force, in ms (0 if none). */
  async recordFailure(account: string, ip: string | undefined): Promise<number> {
    const [accountKey, ipKey] = this.keys(account, ip);
    const [a, i] = await Promise.all([
      this.counter.recordFailure(accountKey, this.policy('account')),
      ipKey ? this.counter.recordFailure(ipKey, this.policy('ip')) : undefined,
    ]);
    return Math.max(a.lockedForMs, i?.lockedForMs ?? 0);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.counter.reset(this.keys(account, undefined)[0]);
  }
}
