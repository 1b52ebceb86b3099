import { newId } from '@parley/database';
import { formatUsd, type Nanos } from '../money';
import type { Admission, UsageOutcome } from './admission.types';

/** Writes that must commit together with a settlement: named CTEs using $1… of `params`. */
export interface AlongsideWrites {
  ctes: string[];
  params: unknown[];
  /** The CTE whose rows the caller wants back. */
  returning?: string;
}

/** The settlement statement: alongside writes, the ledger row, the reservation, the counters. */
export function settlementStatement(
  admission: Admission,
  outcome: UsageOutcome,
  cost: Nanos,
  alongside: AlongsideWrites = { ctes: [], params: [] },
): { sql: string; params: unknown[] } {
  const { counters, subject } = admission;
  const params = [...alongside.params];
  const $ = (value: unknown) => `$${params.push(value)}`;
  const ledger = [
    newId(),
    subject.tenantId,
    subject.userId ?? null,
    subject.apiKeyId ?? null,
    admission.requestId,
    outcome.conversationId ?? null,
    admission.kind,
    outcome.provider,
    outcome.model,
    outcome.promptTokens ?? 0,
    outcome.completionTokens ?? 0,
    outcome.cachedTokens ?? 0,
    outcome.audioSeconds ?? 0,
    outcome.characters ?? 0,
    formatUsd(cost),
    outcome.latencyMs ?? null,
    outcome.status,
    outcome.cacheHit ?? false,
  ].map($);
  const ctes = [
    ...alongside.ctes,
    `ledger AS (
       INSERT INTO usage_ledger (id, tenant_id, user_id, api_key_id, request_id, conversation_id,
         kind, provider, model, prompt_tokens, completion_tokens, cached_tokens, audio_seconds,
         characters, cost_usd, latency_ms, status, cache_hit)
       VALUES (${ledger.join(', ')}))`,
  ];
  if (counters.length > 0) {
    ctes.push(
      `released AS (
         UPDATE cost_reservations SET status = 'settled'
          WHERE id = ${$(admission.reservationId)} AND status = 'held' RETURNING amount_usd)`,
      // The upsert takes the budget rows in key order (the counters are sorted), as admission
      // does, so the two cannot deadlock.
      `counters AS (
         INSERT INTO budget_counters (budget_key, window_id, tenant_id, limit_usd, resets_at, spent_usd)
         SELECT k, w, t, l, r, ${$(formatUsd(cost))}::numeric
           FROM unnest(${$(counters.map((c) => c.key))}::text[], ${$(counters.map((c) => c.windowId))}::text[],
                       ${$(counters.map((c) => c.tenantId))}::uuid[], ${$(counters.map((c) => formatUsd(c.limit)))}::numeric[],
                       ${$(counters.map((c) => c.resetsAt))}::timestamptz[]) AS x(k, w, t, l, r)
          ORDER BY k, w
         ON CONFLICT (budget_key, window_id) DO UPDATE SET
           spent_usd = budget_counters.spent_usd + EXCLUDED.spent_usd,
           reserved_usd = budget_counters.reserved_usd - coalesce((SELECT amount_usd FROM released), 0)
         RETURNING budget_key, window_id, limit_usd::text, spent_usd::text, threshold_alerted, exhausted_alerted)`,
    );
  }
  const sql = `WITH ${ctes.join(',\n')}
    SELECT ${counters.length > 0 ? '(SELECT json_agg(c) FROM counters c)' : 'NULL'} AS counters,
           ${alongside.returning ? `(SELECT coalesce(json_agg(a), '[]') FROM ${alongside.returning} a)` : `'[]'::json`} AS alongside`;
  return { sql, params };
}
