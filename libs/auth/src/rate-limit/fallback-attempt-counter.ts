import { Logger } from '@nestjs/common';
import { type AttemptPolicy, AttemptCounter, type AttemptState } from './attempt-counter.port';

/**
 * The shared (Redis) counter, and this instance's memory while the shared one cannot be
 * reached: logins keep working and keep being limited during a Redis outage, per instance.
 */
export class FallbackAttemptCounter extends AttemptCounter {
  private readonly logger = new Logger('LoginLimits');
  private degraded = false;

  constructor(
    private readonly shared: AttemptCounter,
    private readonly local: AttemptCounter,
  ) {
    super();
  }

  private async either<T>(run: (counter: AttemptCounter) => Promise<T>): Promise<T> {
    try {
      const result = await run(this.shared);
      this.degraded = false;
      return result;
    } catch (error) {
      if (!this.degraded)
        this.logger.warn(
          `shared login counters unreachable (${(error as Error).message}); counting in this instance`,
        );
      this.degraded = true;
      return run(this.local);
    }
  }

  state(key: string): Promise<AttemptState> {
    return this.either((c) => c.state(key));
  }

  recordFailure(key: string, policy: AttemptPolicy): Promise<AttemptState> {
    return this.either((c) => c.recordFailure(key, policy));
  }

  reset(key: string): Promise<void> {
    return this.either((c) => c.reset(key));
  }
}
