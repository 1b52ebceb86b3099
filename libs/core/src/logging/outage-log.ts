/** The part of Nest's Logger that OutageLog writes to. */
export interface OutageLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * One warning when a dependency starts failing, then at most one summary per interval while
 * it keeps failing, and one line when a success shows it is back: an outage of Redis makes every client
 * retry many times a second, and a line per retry would bury everything else in the log.
 */
export class OutageLog {
  private downSince?: number;
  private suppressed = 0;
  private lastWarned = 0;
  private lastFailed = 0;

  constructor(
    private readonly logger: OutageLogger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Records one failure; `describe` words the first warning (and the summaries). */
  failed(reason: string, describe: (reason: string) => string = (r) => r): void {
    const now = this.now();
    // A client that recovered without anyone noticing (no success was reported) went quiet:
    // a failure after a quiet interval starts a new outage.
    const quiet = now - this.lastFailed > this.intervalMs;
    this.lastFailed = now;
    if (this.downSince === undefined || quiet) {
      this.suppressed = 0;
      this.downSince = now;
      this.lastWarned = now;
      this.logger.warn(describe(reason));
      return;
    }
    this.suppressed += 1;
    if (now - this.lastWarned < this.intervalMs) return;
    this.logger.warn(
      `${describe(reason)} (still failing after ${seconds(now - this.downSince)}; ${this.suppressed} more failures since the last warning)`,
    );
    this.suppressed = 0;
    this.lastWarned = now;
  }

  /** Records a success; logs `message` once if this ends an outage. */
  recovered(message: string): void {
    if (this.downSince === undefined) return;
    this.logger.log(`${message} after ${seconds(this.now() - this.downSince)}`);
    this.downSince = undefined;
    this.suppressed = 0;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
