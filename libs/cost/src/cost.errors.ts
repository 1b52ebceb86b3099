import { AppError } from '@parley/core';

export interface BudgetState {
  scope: string;
  scopeId: string | null;
  period: string;
  window: string;
  limitUsd: string;
  spentUsd: string;
  reservedUsd: string;
  resetsAt: string;
}

/** A budget in scope cannot take this request's worst-case cost. */
export class BudgetExceededError extends AppError {
  constructor(budget: BudgetState, estimateUsd: string) {
    const who = budget.scope === 'global' ? 'the installation' : `this ${budget.scope}`;
    super(
      'BUDGET_EXCEEDED',
      402,
      `The ${budget.period === 'day' ? 'daily' : 'monthly'} budget of ${who} ($${trim(budget.limitUsd)}) cannot take this request (worst case $${trim(estimateUsd)}): $${trim(budget.spentUsd)} is spent and $${trim(budget.reservedUsd)} reserved. It resets at ${budget.resetsAt}; ask an admin to raise it, or send a smaller request (lower max_tokens).`,
      {
        extensions: { budget, estimateUsd },
        headers: { 'retry-after': String(secondsUntil(budget.resetsAt)) },
        logLevel: 'warn',
      },
    );
  }
}

/** The request's worst-case cost is above the per-request cap. */
export class RequestCostLimitError extends AppError {
  constructor(estimate: {
    estimateUsd: string;
    limitUsd: string;
    promptTokens: number;
    maxOutputTokens: number;
  }) {
    super(
      'REQUEST_COST_LIMIT',
      402,
      `This request could cost up to $${trim(estimate.estimateUsd)} (${estimate.promptTokens} prompt tokens and up to ${estimate.maxOutputTokens} output tokens), above the per-request limit of $${trim(estimate.limitUsd)}. Lower max_tokens, shorten the prompt, or ask an admin to raise the limit.`,
      { extensions: estimate, logLevel: 'warn' },
    );
  }
}

/** A model that has no price: it could be used without limit, so it is not used at all. */
export class ModelNotPricedError extends AppError {
  constructor(model: string) {
    super(
      'MODEL_NOT_PRICED',
      422,
      `The model "${model}" has no price, so its cost could not be controlled. Add it to config/pricing.yaml, have a superadmin set its price with PUT /v1/admin/pricing/${encodeURIComponent(model)}?tenantId=…, or set COST_UNKNOWN_MODEL_INPUT_PER_MTOK and COST_UNKNOWN_MODEL_OUTPUT_PER_MTOK.`,
      { extensions: { model } },
    );
  }
}

/** A chat price per component, USD per million tokens as decimal strings. */
export interface PriceComponents {
  inputPerMTok: string;
  cachedInputPerMTok: string;
  outputPerMTok: string;
}

/**
 * A tenant admin's price override that would lower the price in force (config/pricing.yaml or
 * the unknown-model default), or price a model that has none: a lower price loosens every
 * budget, so it is a superadmin's decision; tenant admins may only raise prices (chargeback).
 */
export class PriceLoweringForbiddenError extends AppError {
  constructor(model: string, minimum: PriceComponents | null, below: (keyof PriceComponents)[]) {
    super(
      'PRICE_LOWERING_FORBIDDEN',
      403,
      minimum
        ? `Tenant admins may only raise the price of "${model}" above the configured one (for chargeback), never lower it: ${below.map((c) => `${c} must be at least ${trim(minimum[c])}`).join(', ')} (USD per million tokens). Only a superadmin may set a lower price.`
        : `"${model}" has no configured price (config/pricing.yaml or COST_UNKNOWN_MODEL_*), so there is no price a tenant admin could raise; only a superadmin may give it one.`,
      { extensions: { model, minimum, below } },
    );
  }
}

/** The budget store did not answer and the failure policy is to refuse. */
export class BudgetStoreUnavailableError extends AppError {
  constructor(cause: unknown) {
    super(
      'BUDGET_STORE_UNAVAILABLE',
      503,
      'The budget store could not be reached, so the request was refused rather than risk going over budget. Try again shortly.',
      { headers: { 'retry-after': '5' }, logLevel: 'error', cause },
    );
  }
}

/** "0.500000000" → "0.50"; "100.000000000" → "100.00". */
export function trim(usd: string): string {
  const [whole, fraction = ''] = usd.split('.');
  let end = fraction.length;
  while (end > 0 && fraction[end - 1] === '0') end--;
  const kept = fraction.slice(0, end);
  return `${whole}.${kept.padEnd(2, '0')}`;
}

function secondsUntil(iso: string): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - Date.now()) / 1000));
}
