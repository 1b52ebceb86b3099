import { Injectable } from '@nestjs/common';
import { ActingUsers, AuditService, type Principal } from '@parley/auth';
import { NotFoundError } from '@parley/core';
import { DataSource } from 'typeorm';
import { type PriceComponents, PriceLoweringForbiddenError } from '../cost.errors';
import { formatUsd, parseUsd } from '../money';
import { SnapshotCache } from '../admission/snapshot-cache.service';
import { atLeast, type ChatPrice, PricingCatalog, toChatPrice } from './pricing.catalog';

export interface ModelPriceView {
  model: string;
  inputPerMTok: string;
  cachedInputPerMTok: string;
  outputPerMTok: string;
  /** `config` (pricing.yaml) or `tenant` (your override). */
  source: 'config' | 'tenant';
}

export interface PriceInput {
  inputPerMTok: string;
  outputPerMTok: string;
  cachedInputPerMTok?: string;
}

const usd = (text: string) => formatUsd(parseUsd(text));

const components = (p: ChatPrice): PriceComponents => ({
  inputPerMTok: formatUsd(p.input),
  cachedInputPerMTok: formatUsd(p.cachedInput),
  outputPerMTok: formatUsd(p.output),
});

/**
 * Chat prices as a tenant sees them: pricing.yaml, with the tenant's own overrides on top. A
 * tenant admin's override may only raise the configured price (chargeback) and is floored at
 * it when used, so it stays above a configured price that rises later; a superadmin's may
 * lower it (a discount) and is used as it is.
 */
@Injectable()
export class PricingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: PricingCatalog,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotCache,
    private readonly actingUsers: ActingUsers,
  ) {}

  async list(tenantId: string): Promise<ModelPriceView[]> {
    const own = await this.overrides(tenantId);
    const byModel = new Map<string, ModelPriceView>();
    for (const [model, p] of Object.entries(this.catalog.chatModels()))
      byModel.set(model, {
        model,
        inputPerMTok: usd(p.inputPerMTok),
        cachedInputPerMTok: usd(p.cachedInputPerMTok ?? p.inputPerMTok),
        outputPerMTok: usd(p.outputPerMTok),
        source: 'config',
      });
    for (const p of own) byModel.set(p.model, p);
    return [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Sets a tenant's price for a model: below the configured price only for a superadmin. */
  async set(
    principal: Principal,
    tenantId: string,
    model: string,
    price: PriceInput,
  ): Promise<ModelPriceView> {
    const bySuperadmin = principal.superadmin;
    if (!bySuperadmin) this.checkRaises(model, price);
    const view = await this.dataSource.transaction(async (m) => {
      if (!(await this.actingUsers.tenantExists(tenantId, m)))
        throw new NotFoundError('The tenant');
      await m.query(
        `INSERT INTO model_prices (tenant_id, model, input_per_mtok, output_per_mtok, cached_input_per_mtok, set_by_superadmin)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, model) DO UPDATE SET input_per_mtok = EXCLUDED.input_per_mtok,
           output_per_mtok = EXCLUDED.output_per_mtok,
           cached_input_per_mtok = EXCLUDED.cached_input_per_mtok,
           set_by_superadmin = EXCLUDED.set_by_superadmin, updated_at = now()`,
        [
          tenantId,
          model,
          price.inputPerMTok,
          price.outputPerMTok,
          price.cachedInputPerMTok ?? null,
          bySuperadmin,
        ],
      );
      await this.audit.record(
        'pricing.updated',
        {
          tenantId,
          targetType: 'model',
          targetId: model,
          metadata: { ...price, bySuperadmin },
        },
        m,
      );
      return {
        model,
        inputPerMTok: usd(price.inputPerMTok),
        cachedInputPerMTok: usd(price.cachedInputPerMTok ?? price.inputPerMTok),
        outputPerMTok: usd(price.outputPerMTok),
        source: 'tenant' as const,
      };
    });
    this.snapshots.invalidate(tenantId);
    return view;
  }

  /** Drops the tenant's override; pricing.yaml applies again. */
  async remove(tenantId: string, model: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const gone: unknown[] = await m.query(
        `WITH gone AS (
           DELETE FROM model_prices WHERE tenant_id = $1 AND model = $2 RETURNING 1
         ) SELECT * FROM gone`,
        [tenantId, model],
      );
      if (gone.length === 0) throw new NotFoundError(`A price override for "${model}"`);
      await this.audit.record(
        'pricing.updated',
        { tenantId, targetType: 'model', targetId: model, metadata: { removed: true } },
        m,
      );
    });
    this.snapshots.invalidate(tenantId);
  }

  /**
   * A tenant admin's price must be at least the configured one in every component (input,
   * cached input, output), and the model must have a configured price to raise.
   */
  private checkRaises(model: string, price: PriceInput): void {
    const reference = this.catalog.reference(model);
    if (!reference) throw new PriceLoweringForbiddenError(model, null, []);
    const asked = components(toChatPrice(price, 'tenant'));
    const minimum = components(reference);
    const below = (Object.keys(minimum) as (keyof PriceComponents)[]).filter(
      (c) => parseUsd(asked[c]) < parseUsd(minimum[c]),
    );
    if (below.length > 0) throw new PriceLoweringForbiddenError(model, minimum, below);
  }

  /** The tenant's overrides as they apply: a tenant admin's never below the configured price. */
  private async overrides(tenantId: string): Promise<ModelPriceView[]> {
    const rows: {
      model: string;
      input: string;
      cached: string | null;
      output: string;
      superadmin: boolean;
    }[] = await this.dataSource.query(
      `SELECT model, input_per_mtok::text AS input, cached_input_per_mtok::text AS cached,
              output_per_mtok::text AS output, set_by_superadmin AS superadmin
         FROM model_prices WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows.map((r) => {
      const own = toChatPrice(
        { inputPerMTok: r.input, outputPerMTok: r.output, cachedInputPerMTok: r.cached },
        'tenant',
      );
      const reference = r.superadmin ? undefined : this.catalog.reference(r.model);
      return {
        model: r.model,
        ...components(reference ? atLeast(own, reference) : own),
        source: 'tenant' as const,
      };
    });
  }
}
