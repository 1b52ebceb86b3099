import type { Principal } from '@parley/auth';
import type { MessageView } from '../conversation.views';
import type { AgentPause } from '../agent-steps';
import type { Citation } from '../conversation.views';

/**
 * Everything an answer paused for approvals needs to go on in another request (stored sealed,
 * like message content): whose turn it is (they pay for it, whoever approves), the loop where
 * it stopped, and what the output checks compare the answer with.
 */
export interface PausedTurn {
  v: 1;
  conversationId: string;
  subject: Pick<Principal, 'kind' | 'tenantId' | 'userId' | 'apiKeyId'>;
  requestId?: string;
  model: string;
  maxTokens: number;
  temperature?: number;
  knowledgeBaseIds: string[];
  /** The tools the turn had on. */
  enabled: string[];
  /** The system prompt as sent (with its canary), for the prompt-leak check. */
  system?: string;
  canary?: string;
  citations: Citation[];
  userMessage: MessageView;
  /** Since the turn began, before the pause (reported as the answer's latency). */
  elapsedMs: number;
  loop: Omit<AgentPause, 'kind' | 'approvals'>;
}

/** The turn's principal as the budgets see it: the original caller, not the approver. */
export const payerOf = (turn: PausedTurn): Principal => ({
  ...turn.subject,
  scopes: [],
  superadmin: false,
});
