import type { Principal } from '@parley/auth';
import type { Responder } from '@parley/llm';
import type { AgentEvent } from '../agent-steps';
import type { MessageView } from '../conversation.views';
import type { StoredHistory } from '../conversations.service';
import type { ConversationEntity } from '../entities/conversation.entity';

/** A new message for a conversation, as every caller (HTTP, WebSocket, voice) sends it. */
export interface TurnRequest {
  content: string;
  model?: string;
  maxTokens?: number;
  temperature?: number;
  /** Stored on both messages and the ledger row. */
  requestId?: string;
}

/** A turn as the pipeline runs it: the request with the conversation and its memory loaded. */
export interface TurnInput extends TurnRequest {
  principal: Principal;
  conversation: ConversationEntity;
  /** The latest complete messages as stored, oldest first. */
  history: StoredHistory;
  /** An earlier answer of the conversation is paused for approvals. */
  paused?: boolean;
}

/** What a turn streams to its caller, ending with `done` (or an error). */
export type TurnEvent =
  | AgentEvent
  | {
      type: 'approval_required';
      messageId: string;
      callId: string;
      name: string;
      arguments: string;
      expiresAt: string;
    }
  | { type: 'start'; responder: Responder }
  | { type: 'delta'; text: string }
  | { type: 'done'; userMessage: MessageView; assistantMessage: MessageView };

/** Both messages of a finished (or paused) turn, as stored. */
export type StoredTurn = { userMessage: MessageView; assistantMessage: MessageView };
