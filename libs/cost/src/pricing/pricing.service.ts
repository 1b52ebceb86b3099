import { Injectable } from '@nestjs/common';
import { AuditService } from '@parley/auth';
import { NotFoundError } from '@parley/core';
import { DataSource } from 'typeorm';
import { formatUsd, parseUsd } from '../money';
import { SnapshotCache } from '../admission/snapshot-cache';
import { PricingCatalog } from './pricing.catalog';

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

/** Chat prices as a tenant sees them: pricing.yaml, with the tenant's own overrides on top. */
@Injectable()
export class PricingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: PricingCatalog,
    private readonly audit: AuditService,
    private readonly snapshots: SnapshotCache,
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

  async set(tenantId: string, model: string, price: PriceInput): Promise<ModelPriceView> {
    const view = await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO model_prices (tenant_id, model, input_per_mtok, output_per_mtok, cached_input_per_mtok)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, model) DO UPDATE SET input_per_mtok = EXCLUDED.input_per_mtok,
           output_per_mtok = EXCLUDED.output_per_mtok,
           cached_input_per_mtok = EXCLUDED.cached_input_per_mtok, updated_at = now()`,
        [
          tenantId,
          model,
          price.inputPerMTok,
          price.outputPerMTok,
          price.cachedInputPerMTok ?? null,
        ],
      );
      await this.audit.record(
        'pricing.updated',
        { tenantId, targetType: 'model', targetId: model, metadata: { ...price } },
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

  private async overrides(tenantId: string): Promise<ModelPriceView[]> {
    const rows: { model: string; input: string; cached: string | null; output: string }[] =
      await this.dataSource.query(
        `SELECT model, input_per_mtok::text AS input, cached_input_per_mtok::text AS cached,
                output_per_mtok::text AS output FROM model_prices WHERE tenant_id = $1`,
        [tenantId],
      );
    return rows.map((r) => ({
      model: r.model,
      inputPerMTok: r.input,
      cachedInputPerMTok: r.cached ?? r.input,
      outputPerMTok: r.output,
      source: 'tenant' as const,
    }));
  }
}
