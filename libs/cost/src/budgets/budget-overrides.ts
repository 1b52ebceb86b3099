import type { DataSource } from 'typeorm';
import type { CarriedWindows } from './budget-window';
import type { BudgetRow, CostSubject } from './budget.types';

/** What a subject's admission reads: budget overrides in scope, tenant settings, tenant prices. */
export interface OverridesRow {
  budgets: BudgetRow[];
  settings: { timeZone: string; failOpen: boolean | null; carried: CarriedWindows } | null;
  /** `superadmin`: set by a superadmin, so it may be below the configured price. */
  prices: {
    model: string;
    input: string;
    cached: string | null;
    output: string;
    superadmin: boolean;
  }[];
}

/**
 * The overrides that can apply to a subject (global, its tenant, user or key), its tenant's
 * cost settings, and its tenant's own prices for `models`, in one round trip.
 */
export async function readOverrides(
  dataSource: DataSource,
  subject: CostSubject,
  models: string[],
): Promise<OverridesRow> {
  const [row]: OverridesRow[] = await dataSource.query(
    `SELECT
       (SELECT coalesce(json_agg(json_build_object('scope', scope, 'scope_id', scope_id,
          'period', period, 'limit_usd', limit_usd::text,
          'per_request_limit_usd', per_request_limit_usd::text)), '[]')
          FROM budgets WHERE scope = 'global' OR (tenant_id = $1 AND scope_id = ANY($2::uuid[]))) AS budgets,
       (SELECT json_build_object('timeZone', time_zone, 'failOpen', fail_open,
          'carried', carried_windows)
          FROM cost_settings WHERE tenant_id = $1) AS settings,
       (SELECT coalesce(json_agg(json_build_object('model', model, 'input', input_per_mtok::text,
          'cached', cached_input_per_mtok::text, 'output', output_per_mtok::text,
          'superadmin', set_by_superadmin)), '[]')
          FROM model_prices WHERE tenant_id = $1 AND model = ANY($3::text[])) AS prices`,
    [
      subject.tenantId,
      [subject.tenantId, subject.userId, subject.apiKeyId].filter(Boolean),
      models,
    ],
  );
  return row!;
}
