import type { BudgetRule, CostSubject } from '../budgets/budget.types';
import type { Nanos } from '../money';
import type { ChatPrice } from '../pricing/pricing.catalog';

export type UsageKind = 'chat' | 'embedding' | 'speech_to_text' | 'text_to_speech';

/** One model of a chat request's chain, with the prompt counted by its own tokenizer. */
export interface ChatDeployment {
  provider: string;
  model: string;
  promptTokens: number;
}

/** A budget's counter for the current window, as admission found it. */
export interface WindowCounter {
  rule: BudgetRule;
  key: string;
  windowId: string;
  tenantId: string | null;
  limit: Nanos;
  resetsAt: Date;
}

/**
 * Permission for one paid call: what was reserved against which counters, and the prices to
 * settle with. Settle it exactly once, whatever happened to the call.
 */
export interface Admission {
  subject: CostSubject;
  requestId: string | null;
  kind: UsageKind;
  /** Null when nothing had to be held (a free call, no budget, or a fail-open admission). */
  reservationId: string | null;
  estimate: Nanos;
  counters: WindowCounter[];
  /** Chat prices by `provider/model`, for every model of the chain. */
  chatPrices: Map<string, ChatPrice>;
  /** Price per million tokens or characters, or per minute, for the other kinds. */
  unitPrice: Nanos;
}

/** What a paid call actually consumed. */
export interface UsageOutcome {
  provider: string | null;
  model: string | null;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  audioSeconds?: number;
  characters?: number;
  status: 'complete' | 'aborted' | 'failed';
  latencyMs?: number;
  conversationId?: string;
  cacheHit?: boolean;
  /** Answered without a paid model (the extractive responder). */
  free?: boolean;
}
