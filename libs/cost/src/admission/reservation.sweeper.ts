import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { CostService } from './cost.service';

/**
 * Releases reservations whose request died (a killed process never settles): every
 * `cost.sweepIntervalSeconds`, whatever has outlived `cost.reservationTimeoutSeconds`. Safe to
 * run on every instance at once: each expired reservation is taken by one (SKIP LOCKED).
 */
@Injectable()
export class ReservationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReservationSweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly cost: CostService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.cost.sweepIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many reservations were released. */
  async tick(): Promise<number> {
    const pass = this.cost.sweep();
    this.running = pass.catch(() => undefined);
    try {
      const released = await pass;
      if (released > 0) this.logger.warn(`released ${released} expired cost reservation(s)`);
      return released;
    } catch (error) {
      this.logger.error(`sweeping reservations failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
