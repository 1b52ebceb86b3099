import { Injectable } from '@nestjs/common';
import { ActingUsers, type Principal } from '@parley/auth';
import { ApprovalByApiKeyError, SelfApprovalError } from '../conversation.errors';
import { ApprovalStore } from './approval.store';
import type { PausedTurn } from './paused-turn';

/**
 * Who may approve a high-risk tool call. Deciding at all takes access to the conversation (its
 * owner or a tenant admin of the same tenant; anyone else gets 404 before this). Approving takes
 * more: a person (an API key may reject, never approve), and another person than the one whose
 * turn asked for the call — for a turn sent with an API key, another than the key's creator.
 * Rejecting stays open to everyone who may use the conversation, the one who asked included.
 */
@Injectable()
export class ApprovalRules {
  constructor(
    private readonly approvals: ApprovalStore,
    private readonly actingUsers: ActingUsers,
  ) {}

  async assertMayDecide(
    approver: Principal,
    conversationId: string,
    callId: string,
    decision: 'approved' | 'rejected',
  ): Promise<void> {
    if (decision !== 'approved') return;
    if (approver.kind !== 'user' || !approver.userId) throw new ApprovalByApiKeyError();
    const requester = await this.approvals.requesterOf(conversationId, callId);
    // No call, or nothing waits on it any more: decide() answers that (404, 409, or a repeat).
    if (!requester) return;
    const refusal = await this.selfApproval(approver.userId, requester);
    if (refusal) throw new SelfApprovalError(refusal);
  }

  private async selfApproval(
    approverId: string,
    requester: PausedTurn['subject'],
  ): Promise<'user' | 'own-key' | 'unknown-key' | undefined> {
    if (requester.kind === 'user') return requester.userId === approverId ? 'user' : undefined;
    const creator = await this.actingUsers.resolve({
      tenantId: requester.tenantId,
      apiKeyId: requester.apiKeyId,
    });
    if (!creator) return 'unknown-key';
    return creator.userId === approverId ? 'own-key' : undefined;
  }
}
