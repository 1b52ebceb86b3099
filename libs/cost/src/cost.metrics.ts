import { Injectable } from '@nestjs/common';
import { Metrics } from '@parley/core';
import { formatUsd, type Nanos } from './money';

export type RefusalReason =
  'budget_exceeded' | 'request_cost_limit' | 'model_not_priced' | 'store_unavailable';

/**
 * What cost control has counted since the process started: cost and tokens by tenant and
 * model, refusals by reason, fail-open admissions; kept here (for tests) and exported to
 * Prometheus as parley_llm_cost_usd_total, parley_llm_tokens_total and
 * parley_budget_refusals_total.
 */
@Injectable()
export class CostMetrics {
  readonly costNanos = new Map<string, Nanos>();
  readonly tokens = new Map<string, { prompt: number; completion: number }>();
  readonly refusals = new Map<RefusalReason, number>();
  failOpenAdmissions = 0;
  private readonly exported;

  constructor(metrics: Metrics) {
    this.exported = {
      cost: metrics.counter({
        name: 'parley_llm_cost_usd_total',
        help: 'Spend settled into the ledger, in US dollars, by tenant and model.',
        labelNames: ['tenant', 'model'],
      }),
      tokens: metrics.counter({
        name: 'parley_llm_tokens_total',
        help: 'Tokens settled into the ledger, by tenant, model and kind (prompt, completion).',
        labelNames: ['tenant', 'model', 'kind'],
      }),
      refusals: metrics.counter({
        name: 'parley_budget_refusals_total',
        help: 'Calls refused by cost control before any upstream call, by reason.',
        labelNames: ['reason'],
      }),
    };
  }

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
    const labels = { tenant: tenantId, model };
    if (cost > 0n) this.exported.cost.inc(labels, Number(formatUsd(cost)));
    if (prompt > 0) this.exported.tokens.inc({ ...labels, kind: 'prompt' }, prompt);
    if (completion > 0) this.exported.tokens.inc({ ...labels, kind: 'completion' }, completion);
  }

  recordRefusal(reason: RefusalReason): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    this.exported.refusals.inc({ reason });
  }
}
