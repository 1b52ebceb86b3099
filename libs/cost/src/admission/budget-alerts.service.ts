import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@parley/auth';
import { AppConfig } from '@parley/core';
import { DataSource } from 'typeorm';
import { parseUsd } from '../money';
import type { WindowCounter } from './admission.types';

/** A budget counter as a settlement left it. */
export interface CounterAfter {
  budget_key: string;
  window_id: string;
  limit_usd: string;
  spent_usd: string;
  threshold_alerted: boolean;
  exhausted_alerted: boolean;
}

/**
 * The budget alerts of the audit log: `budget.threshold_crossed` when spending crosses the
 * configured share of a budget, `budget.exhausted` when it runs out (or first refuses a
 * request); each once per budget and window, whichever instance sees it first.
 */
@Injectable()
export class BudgetAlerts {
  private readonly logger = new Logger('BudgetAlerts');

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  /** After a settlement: audits a budget that crossed its alert threshold or ran out, once per window. */
  async afterSettlement(counters: WindowCounter[], after: CounterAfter[]): Promise<void> {
    const share = BigInt(Math.round(this.config.cost.alertThreshold * 1000));
    for (const row of after) {
      const counter = counters.find(
        (c) => c.key === row.budget_key && c.windowId === row.window_id,
      )!;
      const limit = parseUsd(row.limit_usd);
      const spent = parseUsd(row.spent_usd);
      const facts = { limitUsd: row.limit_usd, spentUsd: row.spent_usd };
      if (!row.threshold_alerted && spent * 1000n >= limit * share)
        await this.once(counter, 'threshold', facts);
      if (!row.exhausted_alerted && spent >= limit) await this.once(counter, 'exhausted', facts);
    }
  }

  /** Writes budget.threshold_crossed or budget.exhausted, once per budget and window. */
  once(
    counter: WindowCounter,
    which: 'threshold' | 'exhausted',
    facts: Record<string, unknown>,
  ): Promise<void> {
    const column = which === 'threshold' ? 'threshold_alerted' : 'exhausted_alerted';
    return this.dataSource.transaction(async (m) => {
      const first: unknown[] = await m.query(
        // As a CTE: TypeORM answers a bare UPDATE with [rows, count], a SELECT with its rows.
        `WITH first AS (
         UPDATE budget_counters SET ${column} = true
          WHERE budget_key = $1 AND window_id = $2 AND NOT ${column} RETURNING 1
       ) SELECT * FROM first`,
        [counter.key, counter.windowId],
      );
      if (first.length === 0) return;
      await this.audit.record(
        which === 'threshold' ? 'budget.threshold_crossed' : 'budget.exhausted',
        {
          tenantId: counter.tenantId,
          targetType: 'budget',
          targetId: counter.key,
          metadata: {
            period: counter.rule.period,
            window: counter.windowId,
            ...(which === 'threshold' ? { threshold: this.config.cost.alertThreshold } : {}),
            ...facts,
          },
        },
        m,
      );
      this.logger.warn(
        `budget ${counter.key} ${counter.windowId}: ${which === 'threshold' ? 'alert threshold crossed' : 'exhausted'}`,
      );
    });
  }
}
