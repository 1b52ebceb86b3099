import { Logger } from '@nestjs/common';
import { OutageLog } from '@parley/core';
import { type AttemptPolicy, AttemptCounter, type AttemptState } from './attempt-counter.port';

/**
 * The shared (Redis) counter, and this instance's memory while the shared one cannot be
 * reached: logins keep working and keep being limited during a Redis outage, per instance.
 */
export class FallbackAttemptCounter extends AttemptCounter {
  private readonly outage = new OutageLog(new Logger('LoginLimits'));

  constructor(
    private readonly shared: AttemptCounter,
    private readonly local: AttemptCounter,
  ) {
    super();
  }

  private async either<T>(run: (counter: AttemptCounter) => Promise<T>): Promise<T> {
    try {
      const result = await run(this.shared);
      this.outage.recovered('shared login counters are back');
      return result;
    } catch (error) {
      this.outage.failed(
        (error as Error).message,
        (reason) => `shared login counters unreachable (${reason}); counting in this instance`,
      );
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
