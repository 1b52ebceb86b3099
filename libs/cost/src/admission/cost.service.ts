import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '@parley/auth';
import { AppConfig, Clock } from '@parley/core';
import { newId } from '@parley/database';
import { DataSource } from 'typeorm';
import { budgetWindow, type CarriedWindows, tenantWindow } from '../budgets/budget-window';
import { effectiveBudgets } from '../budgets/budget-rules';
import { readOverrides, type OverridesRow } from '../budgets/budget-overrides';
import { toRule } from '../budgets/budgets.service';
import { budgetKey, type CostSettings, type CostSubject } from '../budgets/budget.types';
import { CostMetrics } from '../cost.metrics';
import {
  BudgetExceededError,
  type BudgetState,
  BudgetStoreUnavailableError,
  ModelNotPricedError,
  RequestCostLimitError,
} from '../cost.errors';
import { formatUsd, maxOf, minOf, type Nanos, parseUsd, perMillion } from '../money';
import { atLeast, type ChatPrice, PricingCatalog, toChatPrice } from '../pricing/pricing.catalog';
import { BudgetAlerts, type CounterAfter } from './budget-alerts.service';
import { type AlongsideWrites, settlementStatement } from './settlement-statement';
import { SnapshotCache } from './snapshot-cache.service';
import type {
  Admission,
  ChatDeployment,
  UsageKind,
  UsageOutcome,
  WindowCounter,
} from './admission.types';

type Snapshot = OverridesRow;
type WindowSettings = CostSettings & { carried: CarriedWindows };

/**
 * Decides before every paid call whether it may happen, and records afterwards what it cost
 * (design.md, steps 5 and 9). Admission reserves the worst case against every budget in scope
 * in one transaction, with the budget rows locked in a fixed order, so concurrent requests on
 * any number of instances cannot overspend; settlement swaps the reservation for the actual
 * cost and writes the usage ledger.
 */
@Injectable()
export class CostService {
  private readonly logger = new Logger('Cost');
  /** The last settings read per tenant, for deciding the failure policy when the store is down. */
  private readonly knownSettings = new Map<string, WindowSettings>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly catalog: PricingCatalog,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly metrics: CostMetrics,
    private readonly snapshots: SnapshotCache,
    private readonly alerts: BudgetAlerts,
  ) {}

  /** Admission for a chat call that may be answered by any model of `deployments` (the chain). */
  async admitChat(input: {
    subject: CostSubject;
    requestId?: string;
    deployments: ChatDeployment[];
    maxOutputTokens: number;
  }): Promise<Admission> {
    const snapshot = await this.snapshot(input.subject, input.deployments);
    const chatPrices = new Map<string, ChatPrice>();
    const worstCases: Nanos[] = [];
    for (const d of input.deployments) {
      const price = this.chatPrice(d.provider, d.model, snapshot.prices);
      chatPrices.set(`${d.provider}/${d.model}`, price);
      worstCases.push(
        perMillion(d.promptTokens, price.input) + perMillion(input.maxOutputTokens, price.output),
      );
    }
    return this.reserve(input.subject, input.requestId, 'chat', maxOf(worstCases), snapshot, {
      chatPrices,
      unitPrice: 0n,
      detail: {
        promptTokens: Math.max(0, ...input.deployments.map((d) => d.promptTokens)),
        maxOutputTokens: input.maxOutputTokens,
      },
    });
  }

  /**
   * Admission for an embedding, speech-to-text or text-to-speech call: `quantity` is tokens,
   * seconds of audio, or characters, at the model's price in config/pricing.yaml.
   */
  async admitUnits(input: {
    subject: CostSubject;
    requestId?: string;
    kind: Exclude<UsageKind, 'chat'>;
    model: string;
    quantity: number;
  }): Promise<Admission> {
    const price = this.catalog.unit(input.kind, input.model);
    if (price === undefined) {
      this.metrics.recordRefusal('model_not_priced');
      throw new ModelNotPricedError(input.model);
    }
    const snapshot = await this.snapshot(input.subject, []);
    const estimate = unitCost(input.kind, price, input.quantity);
    return this.reserve(input.subject, input.requestId, input.kind, estimate, snapshot, {
      chatPrices: new Map(),
      unitPrice: price,
      detail: { promptTokens: 0, maxOutputTokens: 0 },
    });
  }

  /** An admission for a call that costs nothing (a response-cache hit): it only writes the ledger. */
  free(subject: CostSubject, requestId: string | undefined, kind: UsageKind): Admission {
    return {
      subject,
      requestId: requestId ?? null,
      kind,
      reservationId: null,
      estimate: 0n,
      counters: [],
      chatPrices: new Map(),
      unitPrice: 0n,
    };
  }

  /** What an outcome costs at the admission's prices, for the model that actually answered. */
  costOf(admission: Admission, outcome: UsageOutcome): Nanos {
    if (outcome.free || outcome.cacheHit) return 0n;
    if (admission.kind !== 'chat') {
      const quantity =
        admission.kind === 'speech_to_text'
          ? (outcome.audioSeconds ?? 0)
          : admission.kind === 'text_to_speech'
            ? (outcome.characters ?? 0)
            : (outcome.promptTokens ?? 0);
      return unitCost(admission.kind, admission.unitPrice, quantity);
    }
    const price =
      admission.chatPrices.get(`${outcome.provider}/${outcome.model}`) ??
      // Not in the chain (cannot happen through the gateway): the dearest of the chain, to be safe.
      [...admission.chatPrices.values()].sort((a, b) => (b.output > a.output ? 1 : -1))[0];
    if (!price) return 0n;
    const prompt = outcome.promptTokens ?? 0;
    const cached = Math.min(outcome.cachedTokens ?? 0, prompt);
    return (
      perMillion(prompt - cached, price.input) +
      perMillion(cached, price.cachedInput) +
      perMillion(outcome.completionTokens ?? 0, price.output)
    );
  }

  /**
   * Swaps the reservation for the actual cost and writes the ledger row, in one statement.
   * `alongside` adds the caller's own writes to that statement, so they commit or fail with the
   * settlement (the chat turn stores its messages this way). Returns the cost and the rows of
   * the alongside statement's `returning` CTE.
   */
  async settle(
    admission: Admission,
    outcome: UsageOutcome,
    alongside?: AlongsideWrites,
  ): Promise<{ cost: Nanos; rows: Record<string, unknown>[] }> {
    const cost = this.costOf(admission, outcome);
    const statement = settlementStatement(admission, outcome, cost, alongside);
    const [result]: { counters: CounterAfter[] | null; alongside: Record<string, unknown>[] }[] =
      await this.dataSource.query(statement.sql, statement.params);
    this.metrics.recordUsage(
      admission.subject.tenantId,
      outcome.model ?? '',
      cost,
      outcome.promptTokens ?? 0,
      outcome.completionTokens ?? 0,
    );
    await this.alerts
      .afterSettlement(admission.counters, result!.counters ?? [])
      .catch((e: Error) => this.logger.error(`could not record budget alerts: ${e.message}`));
    return { cost, rows: result!.alongside ?? [] };
  }

  private async reserve(
    subject: CostSubject,
    requestId: string | undefined,
    kind: UsageKind,
    estimate: Nanos,
    snapshot: Snapshot,
    extra: {
      chatPrices: Map<string, ChatPrice>;
      unitPrice: Nanos;
      detail: { promptTokens: number; maxOutputTokens: number };
    },
  ): Promise<Admission> {
    const rules = effectiveBudgets(this.config, subject, snapshot.budgets.map(toRule));
    const settings = this.settingsOf(subject.tenantId, snapshot);
    const now = this.clock.now();
    const counters: WindowCounter[] = rules
      .map((rule) => {
        const window =
          rule.scope === 'global'
            ? budgetWindow(rule.period, now, 'UTC')
            : tenantWindow(rule.period, now, settings.timeZone, settings.carried);
        return {
          rule,
          key: budgetKey(rule),
          windowId: window.id,
          tenantId: rule.scope === 'global' ? null : subject.tenantId,
          limit: parseUsd(rule.limitUsd),
          resetsAt: window.resetsAt,
        };
      })
      .sort((a, b) => compare(a.key, b.key) || compare(a.windowId, b.windowId));
    const cap = minOf(
      rules.filter((r) => r.perRequestLimitUsd).map((r) => parseUsd(r.perRequestLimitUsd!)),
    );
    if (cap !== undefined && estimate > cap) {
      this.metrics.recordRefusal('request_cost_limit');
      throw new RequestCostLimitError({
        estimateUsd: formatUsd(estimate),
        limitUsd: formatUsd(cap),
        ...extra.detail,
      });
    }
    const admission: Admission = {
      subject,
      requestId: requestId ?? null,
      kind,
      reservationId: null,
      estimate,
      counters,
      chatPrices: extra.chatPrices,
      unitPrice: extra.unitPrice,
    };
    if (estimate === 0n || counters.length === 0) return admission;
    try {
      admission.reservationId = await this.hold(admission);
      return admission;
    } catch (error) {
      if (error instanceof BudgetExceededError) {
        this.metrics.recordRefusal('budget_exceeded');
        const full = error.extensions.budget as BudgetState;
        const counter = counters.find(
          (c) => c.rule.scope === full.scope && c.rule.period === full.period,
        )!;
        await this.alerts
          .once(counter, 'exhausted', error.extensions)
          .catch((e: Error) => this.logger.warn(`could not record budget.exhausted: ${e.message}`));
        throw error;
      }
      if (!settings.failOpen) {
        this.metrics.recordRefusal('store_unavailable');
        throw new BudgetStoreUnavailableError(error);
      }
      this.metrics.failOpenAdmissions++;
      this.logger.warn(
        `budget store unavailable (${(error as Error).message}); admitted without a reservation (fail-open) for tenant ${subject.tenantId}`,
      );
      await this.audit
        .record('budget.fail_open', {
          tenantId: subject.tenantId,
          targetType: 'request',
          targetId: requestId,
          metadata: { estimateUsd: formatUsd(estimate), reason: (error as Error).message },
        })
        .catch((e: Error) =>
          this.logger.error(`could not audit a fail-open admission: ${e.message}`),
        );
      return admission;
    }
  }

  /**
   * Reserves the estimate on every counter, or on none, in one call of cost_reserve() (see the
   * Cost migration): the budget rows are locked in key order, checked and updated within that
   * one statement, so no lock is held across a round trip. A window's first request creates
   * its counters and tries again.
   */
  private async hold(admission: Admission): Promise<string> {
    const { counters, estimate, subject } = admission;
    const keys = counters.map((c) => c.key);
    const windows = counters.map((c) => c.windowId);
    const id = newId();
    const expiresAt = new Date(
      this.clock.now().getTime() + this.config.cost.reservationTimeoutSeconds * 1000,
    );
    for (let attempt = 0; ; attempt++) {
      const rows: ReserveRow[] = await this.dataSource.query(
        'SELECT * FROM cost_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [
          keys,
          windows,
          counters.map((c) => formatUsd(c.limit)),
          formatUsd(estimate),
          id,
          subject.tenantId,
          admission.requestId,
          expiresAt,
          `${this.config.cost.storeTimeoutMs}ms`,
        ],
      );
      if (rows.length === counters.length) {
        if (rows[0]!.ok) return id;
        throw this.exceeded(counters, rows, estimate);
      }
      if (attempt > 0) throw new Error('budget counters could not be created');
      await this.dataSource.query(
        `INSERT INTO budget_counters (budget_key, window_id, tenant_id, limit_usd, resets_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::numeric[], $5::timestamptz[])
         ON CONFLICT (budget_key, window_id) DO NOTHING`,
        [
          keys,
          windows,
          counters.map((c) => c.tenantId),
          counters.map((c) => formatUsd(c.limit)),
          counters.map((c) => c.resetsAt),
        ],
      );
    }
  }

  /** The refusal, naming the first budget that cannot take the estimate. */
  private exceeded(counters: WindowCounter[], rows: ReserveRow[], estimate: Nanos): Error {
    for (const c of counters) {
      const row = rows.find((r) => r.budget_key === c.key && r.window_id === c.windowId)!;
      const spent = parseUsd(row.spent);
      const reserved = parseUsd(row.reserved);
      if (spent + reserved + estimate > c.limit)
        return new BudgetExceededError(
          {
            scope: c.rule.scope,
            scopeId: c.rule.scopeId,
            period: c.rule.period,
            window: c.windowId,
            limitUsd: formatUsd(c.limit),
            spentUsd: formatUsd(spent),
            reservedUsd: formatUsd(reserved),
            resetsAt: c.resetsAt.toISOString(),
          },
          formatUsd(estimate),
        );
    }
    return new Error('admission refused without a budget over its limit');
  }

  /** Overrides, settings and tenant prices in one round trip; config alone if the store is down. */
  private async snapshot(subject: CostSubject, deployments: ChatDeployment[]): Promise<Snapshot> {
    const models = deployments.flatMap((d) => [`${d.provider}/${d.model}`, d.model]);
    const key = `${subject.tenantId}|${subject.userId ?? ''}|${subject.apiKeyId ?? ''}|${models.join(',')}`;
    const cached = this.snapshots.get<Snapshot>(key);
    if (cached) return cached;
    try {
      const row = await readOverrides(this.dataSource, subject, models);
      this.snapshots.set(key, row);
      return row;
    } catch (error) {
      this.logger.warn(`budget store unreadable: ${(error as Error).message}`);
      return { budgets: [], settings: null, prices: [] };
    }
  }

  private settingsOf(tenantId: string, snapshot: Snapshot): WindowSettings {
    const known = this.knownSettings.get(tenantId);
    const settings: WindowSettings = snapshot.settings
      ? {
          timeZone: snapshot.settings.timeZone,
          failOpen: snapshot.settings.failOpen ?? this.config.cost.failOpen,
          carried: snapshot.settings.carried ?? {},
        }
      : (known ?? { timeZone: 'UTC', failOpen: this.config.cost.failOpen, carried: {} });
    if (snapshot.settings) this.knownSettings.set(tenantId, settings);
    return settings;
  }

  /**
   * A tenant's own price first (`provider/model`, then the bare name), then the catalog. A
   * tenant admin's override only ever raises the configured price: each component is at least
   * the catalog's (which may have risen since the override was set), and a model the catalog
   * does not price stays unpriced. Only a superadmin's override is taken as it is.
   */
  private chatPrice(provider: string, model: string, overrides: Snapshot['prices']): ChatPrice {
    const own =
      overrides.find((p) => p.model === `${provider}/${model}`) ??
      overrides.find((p) => p.model === model);
    const configured = this.catalog.chat(provider, model);
    if (own) {
      const price = toChatPrice(
        { inputPerMTok: own.input, outputPerMTok: own.output, cachedInputPerMTok: own.cached },
        'tenant',
      );
      if (own.superadmin) return price;
      if (configured) return atLeast(price, configured);
    } else if (configured) return configured;
    this.metrics.recordRefusal('model_not_priced');
    throw new ModelNotPricedError(model);
  }
}

interface ReserveRow {
  budget_key: string;
  window_id: string;
  spent: string;
  reserved: string;
  ok: boolean;
}

/** Tokens and characters are priced per million; audio per minute (quantity in seconds). */
function unitCost(kind: Exclude<UsageKind, 'chat'>, price: Nanos, quantity: number): Nanos {
  if (kind === 'speech_to_text') return perMillion((quantity * 1_000_000) / 60, price);
  return perMillion(quantity, price);
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
