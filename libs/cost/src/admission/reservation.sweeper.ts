import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig, Clock } from '@parley/core';
import { DataSource, type EntityManager } from 'typeorm';
import { formatUsd, type Nanos, parseUsd } from '../money';

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
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly clock: Clock,
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
    const pass = this.sweep();
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

  /** Releases reservations whose request died; returns how many. */
  async sweep(): Promise<number> {
    let released = 0;
    for (;;) {
      const batch = await this.dataSource.transaction(async (m) => {
        const expired: {
          id: string;
          amount: string;
          budget_keys: string[];
          window_ids: string[];
        }[] = await m.query(
          `SELECT id, amount_usd::text AS amount, budget_keys, window_ids FROM cost_reservations
              WHERE status = 'held' AND expires_at < $1
              ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
          [this.clock.now()],
        );
        if (expired.length === 0) return 0;
        const totals = new Map<string, Nanos>();
        for (const r of expired)
          r.budget_keys.forEach((key, i) => {
            const at = `${key}\n${r.window_ids[i]}`;
            totals.set(at, (totals.get(at) ?? 0n) + parseUsd(r.amount));
          });
        const pairs = [...totals.keys()].sort().map((k) => k.split('\n') as [string, string]);
        await lockCounters(
          m,
          pairs.map((p) => p[0]),
          pairs.map((p) => p[1]),
        );
        await m.query(
          `UPDATE budget_counters b SET reserved_usd = greatest(0, b.reserved_usd - t.amount)
             FROM unnest($1::text[], $2::text[], $3::numeric[]) AS t(k, w, amount)
            WHERE b.budget_key = t.k AND b.window_id = t.w`,
          [
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
            pairs.map((p) => formatUsd(totals.get(p.join('\n'))!)),
          ],
        );
        await m.query(
          `UPDATE cost_reservations SET status = 'expired' WHERE id = ANY($1::uuid[])`,
          [expired.map((r) => r.id)],
        );
        return expired.length;
      });
      released += batch;
      if (batch < 500) return released;
    }
  }
}

/** Locks budget rows in one global order (key, then window), so transactions cannot deadlock. */
function lockCounters(m: EntityManager, keys: string[], windows: string[]): Promise<unknown> {
  return m.query(
    `SELECT 1 FROM budget_counters
      WHERE (budget_key, window_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY budget_key, window_id FOR UPDATE`,
    [keys, windows],
  );
}
