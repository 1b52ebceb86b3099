import { Injectable } from '@nestjs/common';
import type { Principal } from '@parley/auth';
import { ConversationsService } from '../conversations.service';
import type { ConversationEntity } from '../entities/conversation.entity';
import { ChatPipeline } from './chat-pipeline.service';
import type { TurnEvent, TurnRequest } from './chat-turn.types';
import { type ClaimedPause, TurnResume } from './turn-resume.service';

/** How far back history is read before the memory window's token budget trims it. */
const HISTORY_LIMIT = 200;

/**
 * The one way into a chat turn, for every caller (HTTP, SSE, WebSocket, the OpenAI-compatible
 * route, voice): loads the conversation and its memory in one read, then runs the turn. The
 * generator does nothing until read; every error (a missing conversation included) comes out
 * of it.
 */
@Injectable()
export class ChatTurns {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly pipeline: ChatPipeline,
    private readonly resumer: TurnResume,
  ) {}

  async *send(
    principal: Principal,
    conversationId: string,
    request: TurnRequest,
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    const { conversation, history, paused } = await this.conversations.getForTurn(
      principal,
      conversationId,
      HISTORY_LIMIT,
    );
    yield* this.pipeline.run({ ...request, principal, conversation, history, paused }, signal);
  }

  /** Goes on with an answer whose calls were all decided (ApprovalStore.decide's claim). */
  resume(
    conversation: ConversationEntity,
    claim: ClaimedPause,
    signal: AbortSignal,
  ): AsyncGenerator<TurnEvent> {
    return this.resumer.resume(conversation, claim, signal);
  }
}
