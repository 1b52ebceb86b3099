import { Injectable } from '@nestjs/common';
import { ActingUsers, AuditService, ForbiddenError, type Principal } from '@parley/auth';
import { AppConfig, Clock, NotFoundError, ValidationFailedError } from '@parley/core';
import { newId } from '@parley/database';
import { DataSource, type EntityManager } from 'typeorm';
import { formatUsd, parseUsd } from '../money';
import { SnapshotCache } from '../admission/snapshot-cache.service';
import {
  budgetWindow,
  type CarriedWindows,
  carryWindows,
  isTimeZone,
  tenantWindow,
  type BudgetPeriod,
} from './budget-window';
import { effectiveBudgets } from './budget-rules';
import { readOverrides } from './budget-overrides';
import {
  budgetKey,
  type BudgetRow,
  type BudgetRule,
  type BudgetScope,
  type CostSettings,
  type CostSubject,
} from './budget.types';

export interface BudgetInput {
  scope: BudgetScope;
  scopeId?: string | null;
  period: BudgetPeriod;
  limitUsd: string;
  perRequestLimitUsd?: string | null;
}

export interface BudgetStatus {
  scope: BudgetScope;
  scopeId: string | null;
  period: BudgetPeriod;
  window: string;
  limitUsd: string;
  perRequestLimitUsd: string | null;
  spentUsd: string;
  reservedUsd: string;
  remainingUsd: string;
  resetsAt: string;
  source: 'default' | 'override';
}

export const toRule = (r: BudgetRow): BudgetRule => ({
  scope: r.scope,
  scopeId: r.scope_id,
  period: r.period,
  limitUsd: r.limit_usd,
  perRequestLimitUsd: r.per_request_limit_usd,
  source: 'override',
});

const superadminOnly = (what: string) =>
  new ForbiddenError(`Only a superadmin may change ${what}.`);

/** Budget overrides and tenant cost settings: what admins read and write. */
@Injectable()
export class BudgetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly snapshots: SnapshotCache,
    private readonly actingUsers: ActingUsers,
  ) {}

  /** The overrides an admin can see (their tenant's; the global one for superadmins) and the defaults. */
  async list(principal: Principal): Promise<{ budgets: BudgetRule[]; defaults: BudgetRule[] }> {
    const rows: BudgetRow[] = await this.dataSource.query(
      `SELECT scope, scope_id, period, limit_usd::text, per_request_limit_usd::text FROM budgets
        WHERE tenant_id = $1 OR ($2 AND scope = 'global')
        ORDER BY scope, scope_id, period`,
      [principal.tenantId, principal.superadmin],
    );
    return {
      budgets: rows.map(toRule),
      defaults: this.config.cost.budgets.map((d) => ({
        scope: d.scope,
        scopeId: null,
        period: d.period,
        limitUsd: formatUsd(parseUsd(d.limitUsd)),
        perRequestLimitUsd: d.perRequestLimitUsd ? formatUsd(parseUsd(d.perRequestLimitUsd)) : null,
        source: 'default' as const,
      })),
    };
  }

  /** Sets each budget (all or none); tenant and global budgets are the superadmin's to change. */
  async put(principal: Principal, inputs: BudgetInput[]): Promise<BudgetRule[]> {
    const touched = new Set<string | null>();
    const result = await this.dataSource.transaction(async (m) => {
      const saved: BudgetRule[] = [];
      for (const input of inputs) {
        const { scopeId, tenantId } = await this.target(m, principal, input.scope, input.scopeId);
        const rows: BudgetRow[] = await m.query(
          `INSERT INTO budgets (id, tenant_id, scope, scope_id, period, limit_usd, per_request_limit_usd)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (scope, COALESCE(scope_id, '00000000-0000-0000-0000-000000000000'), period)
           DO UPDATE SET limit_usd = EXCLUDED.limit_usd,
                         per_request_limit_usd = EXCLUDED.per_request_limit_usd, updated_at = now()
           RETURNING scope, scope_id, period, limit_usd::text, per_request_limit_usd::text`,
          [
            newId(),
            tenantId,
            input.scope,
            scopeId,
            input.period,
            input.limitUsd,
            input.perRequestLimitUsd ?? null,
          ],
        );
        const rule = toRule(rows[0]!);
        await this.audit.record(
          'budget.updated',
          {
            tenantId,
            targetType: 'budget',
            targetId: budgetKey(rule),
            metadata: {
              period: rule.period,
              limitUsd: rule.limitUsd,
              perRequestLimitUsd: rule.perRequestLimitUsd,
            },
          },
          m,
        );
        saved.push(rule);
        touched.add(tenantId);
      }
      return saved;
    });
    // After the commit, so no admission can cache the old value in between.
    for (const tenantId of touched) this.snapshots.invalidate(tenantId);
    return result;
  }

  /** Removes an override, so the config default applies again. */
  async remove(
    principal: Principal,
    scope: BudgetScope,
    scopeIdInput: string | undefined,
    period: BudgetPeriod,
  ): Promise<void> {
    const tenantId = await this.dataSource.transaction(async (m) => {
      const { scopeId, tenantId } = await this.target(m, principal, scope, scopeIdInput);
      const deleted: unknown[] = await m.query(
        `WITH gone AS (
           DELETE FROM budgets WHERE scope = $1 AND scope_id IS NOT DISTINCT FROM $2 AND period = $3
           RETURNING id
         ) SELECT * FROM gone`,
        [scope, scopeId, period],
      );
      if (deleted.length === 0) throw new NotFoundError('The budget override');
      await this.audit.record(
        'budget.updated',
        {
          tenantId,
          targetType: 'budget',
          targetId: budgetKey({ scope, scopeId }),
          metadata: { period, removed: true },
        },
        m,
      );
      return tenantId;
    });
    this.snapshots.invalidate(tenantId);
  }

  /**
   * For admins: the budgets that apply to a user or an API key of their tenant (each checked to
   * be in it), or to the tenant alone. The global budget only for superadmins.
   */
  async statusFor(
    principal: Principal,
    subject: { userId?: string; apiKeyId?: string },
  ): Promise<BudgetStatus[]> {
    for (const [kind, id, name] of [
      ['user', subject.userId, 'The user'],
      ['apiKey', subject.apiKeyId, 'The API key'],
    ] as const) {
      if (id && !(await this.actingUsers.inTenant(principal.tenantId, kind, id)))
        throw new NotFoundError(name);
    }
    const items = await this.status({ tenantId: principal.tenantId, ...subject });
    return principal.superadmin ? items : items.filter((b) => b.scope !== 'global');
  }

  /** The budgets that apply to a subject, with what is spent and reserved in the current windows. */
  async status(subject: CostSubject): Promise<BudgetStatus[]> {
    const row = await readOverrides(this.dataSource, subject, []);
    const timeZone = row.settings?.timeZone ?? 'UTC';
    const carried = row.settings?.carried ?? {};
    const rules = effectiveBudgets(this.config, subject, row.budgets.map(toRule));
    const now = this.clock.now();
    const windows = rules.map((r) =>
      r.scope === 'global'
        ? budgetWindow(r.period, now, 'UTC')
        : tenantWindow(r.period, now, timeZone, carried),
    );
    const counters: { budget_key: string; window_id: string; spent: string; reserved: string }[] =
      rules.length === 0
        ? []
        : await this.dataSource.query(
            `SELECT budget_key, window_id, spent_usd::text AS spent, reserved_usd::text AS reserved
               FROM budget_counters
              WHERE (budget_key, window_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
            [rules.map(budgetKey), windows.map((w) => w.id)],
          );
    return rules.map((rule, i) => {
      const counter = counters.find(
        (c) => c.budget_key === budgetKey(rule) && c.window_id === windows[i]!.id,
      );
      const limit = parseUsd(rule.limitUsd);
      const spent = parseUsd(counter?.spent ?? '0');
      const reserved = parseUsd(counter?.reserved ?? '0');
      const remaining = limit - spent - reserved;
      return {
        scope: rule.scope,
        scopeId: rule.scopeId,
        period: rule.period,
        window: windows[i]!.id,
        limitUsd: formatUsd(limit),
        perRequestLimitUsd: rule.perRequestLimitUsd
          ? formatUsd(parseUsd(rule.perRequestLimitUsd))
          : null,
        spentUsd: formatUsd(spent),
        reservedUsd: formatUsd(reserved),
        remainingUsd: formatUsd(remaining > 0n ? remaining : 0n),
        resetsAt: windows[i]!.resetsAt.toISOString(),
        source: rule.source,
      };
    });
  }

  async settings(tenantId: string): Promise<CostSettings> {
    const rows: { time_zone: string; fail_open: boolean | null }[] = await this.dataSource.query(
      'SELECT time_zone, fail_open FROM cost_settings WHERE tenant_id = $1',
      [tenantId],
    );
    return {
      timeZone: rows[0]?.time_zone ?? 'UTC',
      failOpen: rows[0]?.fail_open ?? this.config.cost.failOpen,
    };
  }

  /**
   * A tenant's time zone is its admins' choice; failing open weakens a cap, so it is the
   * superadmin's. A new zone applies from the end of the windows open when it changes (see
   * carryWindows): changing it never reopens a window the tenant has already spent.
   */
  async updateSettings(
    principal: Principal,
    patch: { timeZone?: string; failOpen?: boolean },
    tenantIdInput?: string,
  ): Promise<CostSettings> {
    const tenantId = this.tenantOf(principal, tenantIdInput);
    if (patch.failOpen !== undefined && !principal.superadmin)
      throw superadminOnly('the budget failure policy');
    if (patch.timeZone !== undefined && !isTimeZone(patch.timeZone))
      throw invalid(
        'timeZone',
        `"${patch.timeZone}" is not an IANA time zone; use a name such as Europe/Berlin or UTC`,
      );
    await this.dataSource.transaction(async (m) => {
      if (!(await this.actingUsers.tenantExists(tenantId, m)))
        throw new NotFoundError('The tenant');
      // Locked, so two concurrent changes each carry the windows the other left.
      const [current]: { time_zone: string; carried_windows: CarriedWindows }[] = await m.query(
        'SELECT time_zone, carried_windows FROM cost_settings WHERE tenant_id = $1 FOR UPDATE',
        [tenantId],
      );
      const zone = current?.time_zone ?? 'UTC';
      const carried =
        patch.timeZone !== undefined && patch.timeZone !== zone
          ? carryWindows(this.clock.now(), zone, patch.timeZone, current?.carried_windows)
          : null;
      await m.query(
        `INSERT INTO cost_settings (tenant_id, time_zone, fail_open, carried_windows)
         VALUES ($1, coalesce($2, 'UTC'), $3, coalesce($5::jsonb, '{}'))
         ON CONFLICT (tenant_id) DO UPDATE SET
           time_zone = coalesce($2, cost_settings.time_zone),
           fail_open = CASE WHEN $4 THEN $3 ELSE cost_settings.fail_open END,
           carried_windows = coalesce($5::jsonb, cost_settings.carried_windows),
           updated_at = now()`,
        [
          tenantId,
          patch.timeZone ?? null,
          patch.failOpen ?? null,
          patch.failOpen !== undefined,
          carried && JSON.stringify(carried),
        ],
      );
      await this.audit.record(
        'cost.settings_updated',
        {
          tenantId,
          targetType: 'tenant',
          targetId: tenantId,
          metadata: carried ? { ...patch, carriedWindows: carried } : patch,
        },
        m,
      );
    });
    this.snapshots.invalidate(tenantId);
    return this.settings(tenantId);
  }

  /** The caller's tenant, or (superadmins only) another one. */
  tenantOf(principal: Principal, tenantId: string | undefined): string {
    if (!tenantId || tenantId === principal.tenantId) return principal.tenantId;
    if (!principal.superadmin) throw superadminOnly('another tenant’s settings');
    return tenantId;
  }

  /** Checks who may set a budget of this scope, and that its subject is in reach. */
  private async target(
    m: EntityManager,
    principal: Principal,
    scope: BudgetScope,
    scopeId: string | null | undefined,
  ): Promise<{ scopeId: string | null; tenantId: string | null }> {
    if (scope === 'global') {
      if (!principal.superadmin) throw superadminOnly('the global budget');
      if (scopeId) throw invalid('scopeId', 'the global budget has no scopeId; leave it out');
      return { scopeId: null, tenantId: null };
    }
    if (scope === 'tenant') {
      const id = scopeId ?? principal.tenantId;
      if (!principal.superadmin) throw superadminOnly('a tenant budget');
      if (!(await this.actingUsers.tenantExists(id, m))) throw new NotFoundError('The tenant');
      return { scopeId: id, tenantId: id };
    }
    if (!scopeId)
      throw invalid(
        'scopeId',
        `a ${scope} budget needs the ${scope === 'user' ? 'user' : 'API key'} id as scopeId`,
      );
    const kind = scope === 'user' ? 'user' : 'apiKey';
    if (!(await this.actingUsers.inTenant(principal.tenantId, kind, scopeId, m)))
      throw new NotFoundError(scope === 'user' ? 'The user' : 'The API key');
    return { scopeId, tenantId: principal.tenantId };
  }
}

const invalid = ValidationFailedError.field;
