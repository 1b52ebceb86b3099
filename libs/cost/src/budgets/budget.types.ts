import type { BudgetPeriod } from './budget-window';

export type BudgetScope = 'global' | 'tenant' | 'user' | 'apiKey';

/** A budget as admins write it: a limit per window, and optionally a cap per request. */
export interface BudgetRule {
  scope: BudgetScope;
  /** The tenant, user or API key id; null for the global budget. */
  scopeId: string | null;
  period: BudgetPeriod;
  limitUsd: string;
  perRequestLimitUsd: string | null;
  /** `default` when it comes from config (cost.budgets), `override` when an admin set it. */
  source: 'default' | 'override';
}

/** The settings a tenant may choose for its budgets. */
export interface CostSettings {
  timeZone: string;
  failOpen: boolean;
}

/** Who a paid call is for: every budget of these scopes applies. */
export interface CostSubject {
  tenantId: string;
  userId?: string;
  apiKeyId?: string;
}

/** The counter key of a budget: one per budget, one row per window. */
export const budgetKey = (rule: Pick<BudgetRule, 'scope' | 'scopeId'>): string =>
  rule.scope === 'global' ? 'global' : `${rule.scope}:${rule.scopeId}`;

/** A budget override as the database returns it. */
export interface BudgetRow {
  scope: BudgetScope;
  scope_id: string | null;
  period: BudgetPeriod;
  limit_usd: string;
  per_request_limit_usd: string | null;
}
