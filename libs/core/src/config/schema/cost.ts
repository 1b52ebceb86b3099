import { z } from 'zod';
import { bool, int, usd, fraction, BUDGET_SCOPES, BUDGET_PERIODS } from './primitives';

/** The `cost` namespace of the configuration. */
export const costConfig = {
  cost: z.strictObject({
    /** Budgets every tenant, user or key has until an admin overrides them. */
    budgets: z
      .array(
        z.strictObject({
          scope: z.enum(BUDGET_SCOPES),
          period: z.enum(BUDGET_PERIODS),
          limitUsd: usd,
          perRequestLimitUsd: usd.optional(),
        }),
      )
      .default([]),
    /** Share of a budget whose crossing is audited once per window. */
    alertThreshold: fraction,
    /** A reservation older than this is released by the sweeper (its request died). */
    reservationTimeoutSeconds: int(10, 86_400),
    sweepIntervalSeconds: int(1, 3600),
    /** Admit requests when the budget store cannot be reached (a tenant setting may differ). */
    failOpen: bool,
    /** How long admission waits for the budget store before the failure policy applies. */
    storeTimeoutMs: int(100, 60_000),
    /** Price for models pricing.yaml does not list; unset refuses them. */
    unknownModelPrice: z.strictObject({
      inputPerMTok: usd.optional(),
      outputPerMTok: usd.optional(),
    }),
  }),
};
