import { Injectable } from '@nestjs/common';
import type { Nanos } from './money';

export type RefusalReason =
  'budget_exceeded' | 'request_cost_limit' | 'model_not_priced' | 'store_unavailable';

/**
 * What cost control has counted since the process started: cost and tokens by tenant and
 * model, refusals by reason, fail-open admissions. The observability issue exports these; until
 * then they are readable here (and in tests).
 */
@Injectable()
export class CostMetrics {
  readonly costNanos = new Map<string, Nanos>();
  readonly tokens = new Map<string, { prompt: number; completion: number }>();
  readonly refusals = new Map<RefusalReason, number>();
  failOpenAdmissions = 0;

  recordUsage(
    tenantId: string,
    model: string,
    cost: Nanos,
    prompt: number,
    completion: number,
  ): void {
    const key = `${tenantId}|${model}`;
    this.costNanos.set(key, (this.costNanos.get(key) ?? 0n) + cost);
    const t = this.tokens.get(key) ?? { prompt: 0, completion: 0 };
    this.tokens.set(key, { prompt: t.prompt + prompt, completion: t.completion + completion });
  }

  recordRefusal(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }
}
