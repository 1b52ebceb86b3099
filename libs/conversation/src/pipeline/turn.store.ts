import { Injectable } from '@nestjs/common';
import { AppConfig, Clock, KeyRingCipher, Traced } from '@parley/core';
import { newId } from '@parley/database';
import type { Responder } from '@parley/llm';
import type { AgentPause, AgentStep } from '../agent-steps';
import { ApprovalStore } from '../approvals/approval.store';
import type { PausedTurn } from '../approvals/paused-turn';
import { type Citation, toMessageView, type MessageView } from '../conversation.views';
import type { ConversationEntity } from '../entities/conversation.entity';
import type { MessageEntity } from '../entities/message.entity';
import type { RenderedPrompt } from '../templates/prompt-template';
import { type MessageUpdate, type NewMessage, turnWrites } from '../turn-writes';
import { type Answer, endingStatus } from './answer-relay';
import type { StoredTurn, TurnEvent } from './chat-turn.types';
import type { SettledCost, TurnLedger } from './turn-ledger.service';
import type { StoredFinding } from './turn-guards.service';

/** Where a turn's messages go: its conversation, under its request id. */
export interface TurnTarget {
  conversation: ConversationEntity;
  requestId?: string;
}

/** The user's side of a turn as stored: the message as sent (redacted where the policy says). */
export interface UserSide {
  content: string;
  prompt?: RenderedPrompt;
  findings: StoredFinding[];
}

/** A finished answer, ready to store with its settlement. */
export interface FinishedAnswer {
  answer: Answer & { responder: Responder };
  latencyMs: number;
  outputFindings: StoredFinding[];
  citations: Citation[];
  steps?: AgentStep[];
  cached?: boolean;
}

/**
 * Stores turns: a finished one with its settlement in one statement (so a message is never
 * stored unpaid, nor a call paid for without its answer), an answer resumed after approvals in
 * place of the waiting one, and a turn that pauses for approvals.
 */
@Injectable()
export class TurnStore {
  constructor(
    private readonly cipher: KeyRingCipher,
    private readonly approvals: ApprovalStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Both messages, the conversation's timestamp and the settlement, in one transaction. */
  @Traced('parley.persist')
  async store(
    ledger: TurnLedger,
    target: TurnTarget,
    user: UserSide,
    finished: FinishedAnswer,
  ): Promise<StoredTurn> {
    let rows!: { user: NewMessage; assistant: NewMessage };
    const { rows: created } = await ledger.settle(endingOf(finished), (cost) => {
      rows = this.messageRows(target, user, { ...answerFields(finished), ...cost });
      return turnWrites(rows.user, rows.assistant, target.conversation.id, this.cipher);
    });
    const at = new Map(created.map((r) => [r.id as string, new Date(r.created_at as string)]));
    const show = (m: NewMessage) =>
      toMessageView({
        ...m,
        createdAt: at.get(m.id)!,
        updatedAt: at.get(m.id)!,
      } as unknown as MessageEntity);
    return { userMessage: show(rows.user), assistantMessage: show(rows.assistant) };
  }

  /** A resumed answer that ended: stored in place of the waiting one, with its settlement. */
  @Traced('parley.persist')
  async storeResumed(
    ledger: TurnLedger,
    conversation: ConversationEntity,
    claim: { messageId: string; state: PausedTurn },
    finished: FinishedAnswer,
  ): Promise<MessageView> {
    const target = { id: claim.messageId, tenantId: conversation.tenantId };
    let update!: MessageUpdate;
    const { rows } = await ledger.settle(endingOf(finished), (cost) => {
      update = { ...answerFields(finished), ...cost };
      return this.approvals.finishWrites(target, update);
    });
    const createdAt = new Date(rows[0]!.created_at as string);
    return this.assistantView(conversation, claim.messageId, update, claim.state, createdAt);
  }

  /** Stores a turn that waits for approvals, and returns what the client is told to decide. */
  async storePause(
    target: TurnTarget,
    user: UserSide,
    state: PausedTurn,
    pause: AgentPause,
  ): Promise<TurnEvent[]> {
    const rows = this.messageRows(target, user, pausedUpdate(pause));
    const userMessage = toMessageView({
      ...rows.user,
      createdAt: this.clock.now(),
    } as unknown as MessageEntity);
    const at = await this.approvals.pause(
      rows.user,
      rows.assistant,
      { ...state, userMessage },
      pause.approvals,
    );
    userMessage.createdAt = at.get(rows.user.id)!.toISOString();
    const assistantMessage = toMessageView({
      ...rows.assistant,
      createdAt: at.get(rows.assistant.id)!,
    } as unknown as MessageEntity);
    return [
      ...this.approvalEvents(rows.assistant.id, pause),
      { type: 'done', userMessage, assistantMessage },
    ];
  }

  /** A resumed answer that pauses again for the next round's calls. */
  async storePauseAgain(
    conversation: ConversationEntity,
    claim: { messageId: string; state: PausedTurn },
    next: PausedTurn,
    pause: AgentPause,
  ): Promise<TurnEvent[]> {
    const update = pausedUpdate(pause);
    await this.approvals.pauseAgain(claim.messageId, update, next, pause.approvals);
    const assistantMessage = this.assistantView(conversation, claim.messageId, update, claim.state);
    return [
      ...this.approvalEvents(claim.messageId, pause),
      { type: 'done', userMessage: claim.state.userMessage, assistantMessage },
    ];
  }

  private approvalEvents(messageId: string, pause: AgentPause): TurnEvent[] {
    const ttl = this.config.tools.approvalTtlSeconds * 1000;
    const expiresAt = new Date(this.clock.now().getTime() + ttl).toISOString();
    return pause.approvals.map((call) => ({
      type: 'approval_required',
      messageId,
      callId: call.id,
      name: call.name,
      arguments: call.arguments,
      expiresAt,
    }));
  }

  private assistantView(
    conversation: ConversationEntity,
    id: string,
    update: MessageUpdate,
    state: PausedTurn,
    createdAt?: Date,
  ): MessageView {
    return toMessageView({
      ...update,
      id,
      conversationId: conversation.id,
      role: 'assistant',
      cached: false,
      promptTemplate: null,
      createdAt: createdAt ?? new Date(state.userMessage.createdAt),
    } as unknown as MessageEntity);
  }

  /** The rows of a turn, in clear (turnWrites seals them): the user's message and the answer. */
  private messageRows(
    target: TurnTarget,
    user: UserSide,
    answer: MessageUpdate & { cached?: boolean },
  ): { user: NewMessage; assistant: NewMessage } {
    const base = {
      tenantId: target.conversation.tenantId,
      conversationId: target.conversation.id,
      requestId: target.requestId ?? null,
      promptTemplate: null,
      promptTemplateVersion: null,
      promptVariant: null,
    };
    return {
      user: {
        ...base,
        ...EMPTY_ANSWER,
        id: newId(),
        role: 'user',
        content: user.content,
        status: 'complete',
        guardrailFindings: user.findings,
        promptTokens: answer.promptTokens,
      },
      assistant: {
        ...base,
        ...answer,
        id: newId(),
        role: 'assistant',
        promptTemplate: user.prompt?.template ?? null,
        promptTemplateVersion: user.prompt?.version ?? null,
        promptVariant: user.prompt?.variant ?? null,
        cached: answer.cached ?? false,
        steps: answer.steps ?? [],
      },
    };
  }
}

/** The answer fields of a user's message: none. */
const EMPTY_ANSWER = {
  citations: [],
  // As PostgreSQL renders numeric(20, 9), so a fresh answer and a listed one look the same.
  costUsd: '0.000000000',
  cached: false,
  model: null,
  provider: null,
  completionTokens: 0,
  latencyMs: null,
  firstTokenMs: null,
  finishReason: null,
  steps: [] as unknown[],
};

const endingOf = ({ answer, latencyMs, cached }: FinishedAnswer) => ({
  responder: answer.responder,
  text: answer.text,
  usage: answer.usage,
  status: endingStatus(answer.status),
  latencyMs,
  cacheHit: cached,
});

/** The stored fields of a finished answer, but for what the ledger says it cost. */
const answerFields = (
  f: FinishedAnswer,
): Omit<MessageUpdate, keyof SettledCost> & {
  cached?: boolean;
} => ({
  content: f.answer.text,
  status: f.answer.status,
  model: f.answer.responder.model,
  provider: f.answer.responder.provider,
  latencyMs: f.latencyMs,
  firstTokenMs: f.answer.firstTokenMs,
  finishReason: f.answer.finishReason,
  citations: f.citations,
  guardrailFindings: f.outputFindings,
  steps: f.steps ?? [],
  cached: f.cached,
});

/** The stored fields of an answer that waits: what the model said beside its calls. */
const pausedUpdate = (pause: AgentPause): MessageUpdate => {
  const lastModel = pause.steps.findLast((s) => s.kind === 'model');
  return {
    content: pause.text,
    status: 'awaiting_approval',
    model: lastModel?.kind === 'model' ? lastModel.model : null,
    provider: lastModel?.kind === 'model' ? lastModel.provider : null,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: '0.000000000',
    latencyMs: pause.elapsedMs,
    firstTokenMs: null,
    finishReason: 'tool_approval',
    citations: [],
    guardrailFindings: [],
    steps: pause.steps,
  };
};
