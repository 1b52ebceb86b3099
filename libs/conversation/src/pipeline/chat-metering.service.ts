import { Injectable } from '@nestjs/common';
import { Traced } from '@parley/core';
import type { Principal } from '@parley/auth';
import { type Admission, CostService, type UsageOutcome } from '@parley/cost';
import {
  type ChatMessage,
  type ToolDefinition,
  countMessageTokens,
  countToolTokens,
  countTextTokens,
  LlmGateway,
  type Responder,
  type TokenUsage,
  tokenizerFamily,
} from '@parley/llm';

/** How a chat call ended, as the metering needs to know it. */
export interface ChatEnding {
  responder?: Responder;
  messages: ChatMessage[];
  text: string;
  /** The provider's usage; absent when the call was cut off before it was sent. */
  usage?: TokenUsage;
  status: UsageOutcome['status'];
  latencyMs: number;
  conversationId?: string;
  cacheHit?: boolean;
}

/**
 * The chat side of cost control: counts a request's prompt for every model that may answer
 * it and asks the cost service to admit it; afterwards turns how the call ended into usage
 * (the provider's figures, or the counted tokens when a stream was cut off).
 */
@Injectable()
export class ChatMetering {
  constructor(
    private readonly llm: LlmGateway,
    private readonly cost: CostService,
  ) {}

  @Traced('parley.budget.reserve')
  admit(
    principal: Principal,
    requestId: string | undefined,
    model: string,
    messages: ChatMessage[],
    maxOutputTokens: number,
    options: {
      /** The prompt's tokens as already counted for `model` (the memory window does). */
      counted?: number;
      /** Tool definitions sent with the prompt (they are prompt tokens too). */
      tools?: ToolDefinition[];
    } = {},
  ): Promise<Admission> {
    // Counted once per tokenizer family, not once per model of the chain.
    const counts = new Map<string, number>();
    if (options.counted !== undefined) counts.set(tokenizerFamily(model), options.counted);
    const count = (m: string) => {
      const family = tokenizerFamily(m);
      if (!counts.has(family)) counts.set(family, countMessageTokens(m, messages));
      return counts.get(family)! + countToolTokens(m, options.tools);
    };
    return this.cost.admitChat({
      subject: subjectOf(principal),
      requestId,
      maxOutputTokens,
      deployments: this.llm
        .chain(model)
        .map((d) => ({ provider: d.provider, model: d.model, promptTokens: count(d.model) })),
    });
  }

  /** A cache hit: recorded in the ledger at no cost, nothing reserved. */
  free(principal: Principal, requestId: string | undefined): Admission {
    return this.cost.free(subjectOf(principal), requestId, 'chat');
  }

  outcome(end: ChatEnding): UsageOutcome {
    const base = {
      status: end.status,
      latencyMs: end.latencyMs,
      conversationId: end.conversationId,
      cacheHit: end.cacheHit,
    };
    if (!end.responder) return { ...base, provider: null, model: null };
    const { provider, model, extractive } = end.responder;
    const usage = end.usage ?? {
      promptTokens: countMessageTokens(model, end.messages),
      completionTokens: end.text ? countTextTokens(model, end.text) : 0,
    };
    return {
      ...base,
      provider,
      model,
      free: extractive,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cachedTokens: usage.cachedPromptTokens ?? 0,
    };
  }
}

const subjectOf = (p: Principal) => ({
  tenantId: p.tenantId,
  userId: p.userId,
  apiKeyId: p.apiKeyId,
});
