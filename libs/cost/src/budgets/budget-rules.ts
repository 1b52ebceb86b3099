import type { AppConfig } from '@parley/core';
import type { BudgetRule, BudgetScope, CostSubject } from './budget.types';

/** The id each scope has for a subject; undefined when the scope does not apply to it. */
export function scopeIdOf(scope: BudgetScope, subject: CostSubject): string | null | undefined {
  if (scope === 'global') return null;
  if (scope === 'tenant') return subject.tenantId;
  if (scope === 'user') return subject.userId;
  return subject.apiKeyId;
}

/**
 * The budgets that apply to a subject: config defaults for each scope it has, each replaced by
 * an admin's override of the same scope and period.
 */
export function effectiveBudgets(
  config: AppConfig,
  subject: CostSubject,
  overrides: BudgetRule[],
): BudgetRule[] {
  const rules = new Map<string, BudgetRule>();
  for (const d of config.cost.budgets) {
    const scopeId = scopeIdOf(d.scope, subject);
    if (scopeId === undefined) continue;
    rules.set(`${d.scope}/${d.period}`, {
      scope: d.scope,
      scopeId,
      period: d.period,
      limitUsd: d.limitUsd,
      perRequestLimitUsd: d.perRequestLimitUsd ?? null,
      source: 'default',
    });
  }
  for (const o of overrides) {
    if (scopeIdOf(o.scope, subject) !== o.scopeId) continue;
    rules.set(`${o.scope}/${o.period}`, o);
  }
  const order: BudgetScope[] = ['global', 'tenant', 'user', 'apiKey'];
  return [...rules.values()].sort(
    (a, b) => order.indexOf(a.scope) - order.indexOf(b.scope) || a.period.localeCompare(b.period),
  );
}
