import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { Traced } from '@parley/core';
import { type Admission, type AlongsideWrites, CostService, formatUsd } from '@parley/cost';
import { CallerAbortedError, type ChatMessage, type ToolDefinition } from '@parley/llm';
import { type ChatEnding, ChatMetering } from './chat-metering.service';

/** Whose budgets a turn's calls are held against, and what the ledger rows carry. */
export interface TurnPayer {
  principal: Principal;
  requestId?: string;
  conversationId?: string;
}

/** How a call ended; the prompt and, unless given, the latency come from its admission. */
export type CallEnding = Omit<ChatEnding, 'messages' | 'conversationId' | 'latencyMs'> & {
  latencyMs?: number;
};

/** What a settled call cost, as stored on its message or agent step. */
export interface SettledCost {
  promptTokens: number;
  completionTokens: number;
  costUsd: string;
}

interface Deps {
  metering: ChatMetering;
  cost: CostService;
  logger: Logger;
}

/**
 * A turn's reservation from admission to settlement, for a plain turn, every round of an agent
 * and a resumed turn alike. At most one reservation is open at a time (an agent admits its next
 * round only after settling the last), each is settled exactly once, and `release` settles what
 * is still open when the turn fails, so no caller has to know who settled what.
 */
export class TurnLedger {
  private open?: { admission: Admission; messages: ChatMessage[]; at: number };

  constructor(
    private readonly deps: Deps,
    private readonly payer: TurnPayer,
  ) {}

  /** Reserves the worst case of a model call against every budget, or throws the 402. */
  async admit(
    model: string,
    messages: ChatMessage[],
    maxTokens: number,
    options: { counted?: number; tools?: ToolDefinition[] } = {},
  ): Promise<void> {
    if (this.open) throw new Error('a reservation of this turn is still open');
    const { principal, requestId } = this.payer;
    const admission = await this.deps.metering.admit(
      principal,
      requestId,
      model,
      messages,
      maxTokens,
      options,
    );
    this.open = { admission, messages, at: this.now() };
  }

  /** An answer from the response cache: nothing reserved, recorded in the ledger at no cost. */
  admitFree(messages: ChatMessage[]): void {
    if (this.open) throw new Error('a reservation of this turn is still open');
    const admission = this.deps.metering.free(this.payer.principal, this.payer.requestId);
    this.open = { admission, messages, at: this.now() };
  }

  /**
   * Settles the open reservation to what the call used. `alongside` gives the writes to commit
   * in the same statement (the stored answer), knowing its cost.
   */
  async settle(
    ending: CallEnding,
    alongside?: (cost: SettledCost) => AlongsideWrites,
  ): Promise<SettledCost & { rows: Record<string, unknown>[] }> {
    const open = this.open;
    if (!open) throw new Error('no reservation of this turn is open');
    // Taken before the statement runs: a failed settlement is not settled again (the sweeper
    // releases what it held).
    this.open = undefined;
    const outcome = this.deps.metering.outcome({
      ...ending,
      messages: open.messages,
      latencyMs: ending.latencyMs ?? this.now() - open.at,
      conversationId: this.payer.conversationId,
    });
    const cost: SettledCost = {
      promptTokens: outcome.promptTokens ?? 0,
      completionTokens: outcome.completionTokens ?? 0,
      costUsd: formatUsd(this.deps.cost.costOf(open.admission, outcome)),
    };
    const { rows } = await this.deps.cost.settle(open.admission, outcome, alongside?.(cost));
    return { ...cost, rows };
  }

  /** Settles however the call ended, for a caller that cannot fail any more: logs, never throws. */
  async settleQuietly(ending: CallEnding): Promise<void> {
    await this.settle(ending).catch((e: Error) =>
      this.deps.logger.error(`could not settle the reservation of a call: ${e.message}`),
    );
  }

  /** After a failure: settles what is still open as a call that was not answered. Never throws. */
  async release(error: unknown): Promise<void> {
    if (this.open) await this.settleUnanswered(error);
  }

  @Traced('parley.budget.settle')
  private settleUnanswered(error: unknown): Promise<void> {
    const status = error instanceof CallerAbortedError ? 'aborted' : 'failed';
    return this.settleQuietly({ text: '', status });
  }

  /** Durations are measured on the machine's time, not the injectable business clock. */
  private now(): number {
    return Date.now();
  }
}

/** Opens a ledger for each turn (or stateless completion). */
@Injectable()
export class TurnLedgers {
  private readonly deps: Deps;

  constructor(metering: ChatMetering, cost: CostService) {
    this.deps = { metering, cost, logger: new Logger('TurnLedger') };
  }

  open(payer: TurnPayer): TurnLedger {
    return new TurnLedger(this.deps, payer);
  }
}
