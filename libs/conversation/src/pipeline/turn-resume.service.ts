import { Injectable, Logger } from '@nestjs/common';
import { GEN_AI, tracedGenerator } from '@parley/core';
import { ToolRunner } from '@parley/tools';
import { type AgentStep, type ApprovalDecision, pauseLoop } from '../agent-steps';
import { ApprovalStore } from '../approvals/approval.store';
import { type PausedTurn, payerOf } from '../approvals/paused-turn';
import type { ConversationEntity } from '../entities/conversation.entity';
import { AgentLoop, answerEvents } from './agent-loop.service';
import { cutOff, emptyAnswer, relay } from './answer-relay';
import type { TurnEvent } from './chat-turn.types';
import { citedIn } from './retrieval-context.service';
import { TurnGuards } from './turn-guards.service';
import { TurnLedgers } from './turn-ledger.service';
import { TurnStore } from './turn.store';

/** A pause whose calls have all been decided, as ApprovalStore.decide claimed it. */
export interface ClaimedPause {
  messageId: string;
  state: PausedTurn;
  decisions: Record<string, ApprovalDecision>;
}

/**
 * Goes on with an answer whose high-risk calls have all been decided: runs the approved calls,
 * tells the model about the declined ones, and finishes the loop as the turn's owner (their
 * budgets pay, whoever approved), storing the answer in place of the waiting one. It may pause
 * again for the next round's calls.
 */
@Injectable()
export class TurnResume {
  private readonly logger = new Logger('Chat');

  constructor(
    private readonly guards: TurnGuards,
    private readonly toolRunner: ToolRunner,
    private readonly agent: AgentLoop,
    private readonly approvals: ApprovalStore,
    private readonly ledgers: TurnLedgers,
    private readonly store: TurnStore,
  ) {}

  resume(
    conversation: ConversationEntity,
    claim: ClaimedPause,
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    return tracedGenerator(
      'parley.chat.resume',
      { attributes: { [GEN_AI.conversationId]: conversation.id } },
      () => this.resumeTurn(conversation, claim, signal),
    );
  }

  /** The output checks and the tools; failing here (before anything ran) ends the answer. */
  private prepare(conversation: ConversationEntity, { messageId, state }: ClaimedPause) {
    return Promise.all([
      this.guards.resume(conversation.tenantId, state.system, state.canary),
      this.toolRunner.definitions(conversation.tenantId, state.enabled, { skipMissing: true }),
    ]).catch(async (error: unknown) => {
      await this.approvals.fail(messageId, 'failed', 'error');
      throw error;
    });
  }

  private async *resumeTurn(
    conversation: ConversationEntity,
    claim: ClaimedPause,
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    const { state, messageId } = claim;
    const started = Date.now() - state.elapsedMs;
    const [guard, tools] = await this.prepare(conversation, claim);
    const ledger = this.ledgers.open({
      principal: payerOf(state),
      requestId: state.requestId,
      conversationId: conversation.id,
    });
    const answer = emptyAnswer();
    let steps: AgentStep[] | undefined;
    const finish = () =>
      this.store.storeResumed(ledger, conversation, claim, {
        answer: { ...answer, responder: answer.responder! },
        latencyMs: Date.now() - started,
        outputFindings: guard.outputFindings,
        citations: citedIn(answer.text, state.citations),
        steps,
      });
    try {
      const result = yield* this.agent.run({
        principal: payerOf(state),
        conversationId: conversation.id,
        model: state.model,
        messages: state.loop.messages,
        maxTokens: state.maxTokens,
        temperature: state.temperature,
        tools,
        enabled: state.enabled,
        knowledgeBaseIds: state.knowledgeBaseIds,
        ledger,
        resume: { ...state.loop, decisions: claim.decisions },
        signal: AbortSignal.any([signal, guard.abort.signal]),
      });
      if (result.kind === 'paused') {
        const elapsedMs = Date.now() - started;
        const next: PausedTurn = { ...state, elapsedMs, loop: pauseLoop(result) };
        return yield* await this.store.storePauseAgain(conversation, claim, next, result);
      }
      ({ steps } = result);
      yield* relay(guard.guard(answerEvents(result.final)), answer, started);
    } catch (error) {
      cutOff(answer, error, this.logger, conversation.id);
      if (answer.responder) await finish();
      else {
        // What the loop still held is settled; the answer ends here, with what it did so far.
        await ledger.release(error);
        await this.approvals.fail(
          messageId,
          answer.status as 'failed' | 'aborted',
          answer.finishReason,
        );
      }
      throw error;
    }
    yield { type: 'done', userMessage: state.userMessage, assistantMessage: await finish() };
  }
}
