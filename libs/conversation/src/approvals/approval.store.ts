import { Injectable } from '@nestjs/common';
import { AuditService, type Principal } from '@parley/auth';
import { AppConfig, Clock, KeyRingCipher, NotFoundError } from '@parley/core';
import {
  ApprovalExpiredError,
  ApprovalAlreadyDecidedError,
  ApprovalPendingError,
} from '../conversation.errors';
import { newId } from '@parley/database';
import type { ToolCall } from '@parley/llm';
import type { AlongsideWrites } from '@parley/cost';
import { DataSource } from 'typeorm';
import type { ApprovalDecision } from '../agent-steps';
import { turnWrites, type NewMessage, type MessageUpdate, messageUpdate } from '../turn-writes';
import type { MessageKey } from '../message-seal';
import type { PausedTurn } from './paused-turn';

export interface ApprovalView {
  callId: string;
  messageId: string;
  name: string;
  arguments: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  reason: string | null;
  decidedAt: string | null;
  /** Until when a pending call may be decided. */
  expiresAt: string | null;
  createdAt: string;
}

/** What deciding one call led to: more calls still wait, or the answer may go on. */
export type DecisionResult =
  | { kind: 'waiting'; approval: ApprovalView; pending: string[] }
  | {
      kind: 'resume';
      approval: ApprovalView;
      messageId: string;
      state: PausedTurn;
      decisions: Record<string, ApprovalDecision>;
    };

/** A pause that is `resuming` longer than an answer may take was cut off (a restart). */
const RESUME_GRACE_MS = 60_000;

/**
 * The stored side of approvals: an answer paused for a person (its loop state sealed like
 * message content), one row per call to decide, and the claim that lets exactly one request
 * carry the answer on once every call is decided.
 */
@Injectable()
export class ApprovalStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: KeyRingCipher,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  /** A turn that waits for approvals: both messages, the pause and its calls, in one statement. */
  async pause(
    user: NewMessage,
    assistant: NewMessage,
    state: PausedTurn,
    approvals: ToolCall[],
  ): Promise<Map<string, Date>> {
    const writes = turnWrites(user, assistant, assistant.conversationId, this.cipher);
    const params = [...writes.params];
    const $ = (v: unknown) => `$${params.push(v)}`;
    const ctes = [...writes.ctes, ...this.pauseCtes(assistant, state, approvals, $, 'insert')];
    const rows: { id: string; created_at: string }[] = await this.dataSource.query(
      `WITH ${ctes.join(',\n')} SELECT id, created_at FROM turn_messages`,
      params,
    );
    return new Map(rows.map((r) => [r.id, new Date(r.created_at)]));
  }

  /** A resumed answer that pauses again: the message, the pause's state and the new calls. */
  async pauseAgain(
    messageId: string,
    assistant: MessageUpdate,
    state: PausedTurn,
    approvals: ToolCall[],
  ): Promise<void> {
    const update = messageUpdate(
      { id: messageId, tenantId: state.subject.tenantId },
      assistant,
      this.cipher,
    );
    const params = [...update.params];
    const $ = (v: unknown) => `$${params.push(v)}`;
    const ctes = [
      ...update.ctes,
      ...this.pauseCtes(
        { id: messageId, tenantId: state.subject.tenantId, conversationId: state.conversationId },
        state,
        approvals,
        $,
        'update',
      ),
    ];
    await this.dataSource.query(`WITH ${ctes.join(',\n')} SELECT 1`, params);
  }

  private pauseCtes(
    message: { id: string; tenantId: string; conversationId: string },
    state: PausedTurn,
    approvals: ToolCall[],
    $: (v: unknown) => string,
    how: 'insert' | 'update',
  ): string[] {
    const expires = new Date(
      this.clock.now().getTime() + this.config.tools.approvalTtlSeconds * 1000,
    ).toISOString();
    // The paused turn and each call's arguments are what the model and the caller said: sealed,
    // bound to their rows.
    const sealed = this.cipher.seal(JSON.stringify(state), pauseContext(message));
    const pause =
      how === 'insert'
        ? `pause AS (INSERT INTO agent_pauses (message_id, tenant_id, conversation_id, state, status, expires_at)
             VALUES (${$(message.id)}, ${$(message.tenantId)}, ${$(message.conversationId)}, ${$(sealed)}, 'waiting', ${$(expires)}))`
        : `pause AS (UPDATE agent_pauses SET state = ${$(sealed)}, status = 'waiting',
             expires_at = ${$(expires)}, updated_at = now() WHERE message_id = ${$(message.id)})`;
    const values = approvals.map((c) => {
      const id = newId();
      const args = this.cipher.seal(c.arguments, { tenantId: message.tenantId, id });
      return `(${$(id)}, ${$(message.tenantId)}, ${$(message.conversationId)}, ${$(message.id)}, ${$(c.id)}, ${$(c.name)}, ${$(args)}, 'pending')`;
    });
    return [
      pause,
      `pause_calls AS (INSERT INTO tool_approvals
         (id, tenant_id, conversation_id, message_id, call_id, tool_name, arguments, status)
         VALUES ${values.join(', ')})`,
    ];
  }

  /** The calls of a conversation's answers that waited for approval, newest first. */
  async list(conversationId: string): Promise<ApprovalView[]> {
    const rows: ApprovalRow[] = await this.dataSource.query(
      `SELECT a.*, p.expires_at FROM tool_approvals a
         LEFT JOIN agent_pauses p ON p.message_id = a.message_id AND a.status = 'pending'
        WHERE a.conversation_id = $1 ORDER BY a.created_at DESC, a.call_id LIMIT 200`,
      [conversationId],
    );
    return rows.map((r) => this.view(r));
  }

  /**
   * Records a person's decision on a call (with its audit entry), then claims the pause if no
   * call of it is left pending: exactly one request gets `resume`. Repeating the decision
   * already made is allowed (a client's retry), and may claim a pause left waiting.
   */
  async decide(
    principal: Principal,
    conversationId: string,
    callId: string,
    decision: ApprovalDecision,
  ): Promise<DecisionResult> {
    await this.expireStale(conversationId);
    const [row]: ApprovalRow[] = await this.dataSource.query(
      `SELECT a.*, p.expires_at FROM tool_approvals a
         LEFT JOIN agent_pauses p ON p.message_id = a.message_id
        WHERE a.conversation_id = $1 AND a.call_id = $2 ORDER BY a.created_at DESC LIMIT 1`,
      [conversationId, callId],
    );
    if (!row) throw new NotFoundError(`Tool call ${callId} awaiting approval`);
    const status = decision.decision;
    if (row.status === 'expired')
      throw new ApprovalExpiredError(callId, this.config.tools.approvalTtlSeconds);
    if (row.status !== 'pending' && row.status !== status)
      throw new ApprovalAlreadyDecidedError(callId, row.status);
    if (row.status === 'pending') {
      const decided = await this.dataSource.transaction(async (manager) => {
        const updated: ApprovalRow[] = await manager.query(
          `WITH d AS (UPDATE tool_approvals SET status = $2, reason = $3, decided_at = now(),
                  decided_by_user_id = $4, decided_by_api_key_id = $5
                WHERE id = $1 AND status = 'pending' RETURNING id) SELECT * FROM d`,
          [
            row.id,
            status,
            decision.reason ?? null,
            principal.userId ?? null,
            principal.apiKeyId ?? null,
          ],
        );
        if (updated.length === 0) return false;
        await this.audit.record(
          status === 'approved' ? 'tool.call_approved' : 'tool.call_rejected',
          {
            tenantId: principal.tenantId,
            targetType: 'tool_call',
            targetId: callId,
            metadata: {
              conversationId,
              messageId: row.message_id,
              tool: row.tool_name,
              ...(decision.reason ? { reason: decision.reason } : {}),
            },
          },
          manager,
        );
        return true;
      });
      // Someone else decided it first: their decision stands unless it was the same.
      if (!decided) return this.decide(principal, conversationId, callId, decision);
    }
    const all: ApprovalRow[] = await this.dataSource.query(
      `SELECT a.*, NULL AS expires_at FROM tool_approvals a WHERE a.message_id = $1`,
      [row.message_id],
    );
    const approval = this.view({
      ...all.find((a) => a.call_id === callId)!,
      expires_at: row.expires_at,
    });
    const pending = all.filter((a) => a.status === 'pending').map((a) => a.call_id);
    if (pending.length > 0) return { kind: 'waiting', approval, pending };
    const [claimed]: { state: string }[] = await this.dataSource.query(
      `WITH c AS (UPDATE agent_pauses SET status = 'resuming', updated_at = now()
                   WHERE message_id = $1 AND status = 'waiting' RETURNING state) SELECT state FROM c`,
      [row.message_id],
    );
    // Another request holds the pause (or it has ended): nothing waits on this one.
    if (!claimed) return { kind: 'waiting', approval, pending: [] };
    const decisions: Record<string, ApprovalDecision> = {};
    for (const a of all)
      if (a.status === 'approved' || a.status === 'rejected')
        decisions[a.call_id] = {
          decision: a.status,
          ...(a.reason ? { reason: a.reason } : {}),
        };
    return {
      kind: 'resume',
      approval,
      messageId: row.message_id,
      state: JSON.parse(
        this.cipher.open(
          claimed.state,
          pauseContext({ id: row.message_id, tenantId: row.tenant_id }),
        ),
      ) as PausedTurn,
      decisions,
    };
  }

  /**
   * Who asked for a call: the principal of the turn it belongs to (read from its paused answer,
   * the same call row decide() takes). Undefined when there is no such call or its answer no
   * longer waits (a decision then changes nothing).
   */
  async requesterOf(
    conversationId: string,
    callId: string,
  ): Promise<PausedTurn['subject'] | undefined> {
    const [row]: { message_id: string; tenant_id: string; state: string | null }[] =
      await this.dataSource.query(
        `SELECT a.message_id, a.tenant_id, p.state FROM tool_approvals a
           LEFT JOIN agent_pauses p ON p.message_id = a.message_id
          WHERE a.conversation_id = $1 AND a.call_id = $2 ORDER BY a.created_at DESC LIMIT 1`,
        [conversationId, callId],
      );
    if (!row?.state) return undefined;
    const state = JSON.parse(
      this.cipher.open(row.state, pauseContext({ id: row.message_id, tenantId: row.tenant_id })),
    ) as PausedTurn;
    return state.subject;
  }

  /**
   * Before a new turn: a pause still waiting refuses it (409); one past its time, or cut off
   * mid-resume by a restart, ends its answer first.
   */
  async assertNoneWaiting(conversationId: string): Promise<void> {
    await this.expireStale(conversationId);
    const [waiting]: { message_id: string; expires_at: string }[] = await this.dataSource.query(
      `SELECT message_id, expires_at FROM agent_pauses WHERE conversation_id = $1`,
      [conversationId],
    );
    if (waiting)
      throw new ApprovalPendingError(
        conversationId,
        waiting.message_id,
        new Date(waiting.expires_at),
      );
  }

  /** A resumed answer that ended: the message as it finished and the pause gone, or neither. */
  finishWrites(message: MessageKey, assistant: MessageUpdate): AlongsideWrites {
    const messageId = message.id;
    const update = messageUpdate(message, assistant, this.cipher);
    const params = [...update.params];
    const $ = (v: unknown) => `$${params.push(v)}`;
    return {
      ctes: [
        ...update.ctes,
        `pause_done AS (DELETE FROM agent_pauses WHERE message_id = ${$(messageId)})`,
      ],
      params,
      returning: 'turn_messages',
    };
  }

  /**
   * A resumed answer that ended before the model answered (an upstream failure, a spent
   * budget, a disconnect): stored as failed or aborted; its rounds are already settled.
   */
  async fail(messageId: string, status: 'failed' | 'aborted', finishReason: string): Promise<void> {
    await this.dataSource.query(
      `WITH p AS (DELETE FROM agent_pauses WHERE message_id = $1)
       UPDATE messages SET status = $2, finish_reason = $3, updated_at = now() WHERE id = $1`,
      [messageId, status, finishReason],
    );
  }

  private async expireStale(conversationId: string): Promise<void> {
    const graceMs = this.config.tools.wallClockMs + RESUME_GRACE_MS;
    await this.dataSource.query(
      `WITH p AS (
         DELETE FROM agent_pauses
          WHERE conversation_id = $1
            AND ((status = 'waiting' AND expires_at < now())
              OR (status = 'resuming' AND updated_at < now() - make_interval(secs => $2)))
          RETURNING message_id, status),
       a AS (UPDATE tool_approvals SET status = 'expired'
              WHERE message_id IN (SELECT message_id FROM p) AND status = 'pending')
       UPDATE messages m SET status = 'failed', updated_at = now(),
              finish_reason = CASE p.status WHEN 'waiting' THEN 'tool_approval_expired' ELSE 'interrupted' END
         FROM p WHERE m.id = p.message_id`,
      [conversationId, graceMs / 1000],
    );
  }

  /** A call as the API shows it, its arguments unsealed. */
  private view(r: ApprovalRow): ApprovalView {
    return toView({
      ...r,
      arguments: this.cipher.open(r.arguments, { tenantId: r.tenant_id, id: r.id }),
    });
  }
}

const pauseContext = (m: MessageKey) => ({ tenantId: m.tenantId, id: `${m.id}:pause` });

interface ApprovalRow {
  id: string;
  tenant_id: string;
  message_id: string;
  call_id: string;
  tool_name: string;
  arguments: string;
  status: ApprovalView['status'];
  reason: string | null;
  decided_at: string | null;
  expires_at: string | null;
  created_at: string;
}

const iso = (v: string | null) => (v ? new Date(v).toISOString() : null);

const toView = (r: ApprovalRow): ApprovalView => ({
  callId: r.call_id,
  messageId: r.message_id,
  name: r.tool_name,
  arguments: r.arguments,
  status: r.status,
  reason: r.reason,
  decidedAt: iso(r.decided_at),
  expiresAt: r.status === 'pending' ? iso(r.expires_at) : null,
  createdAt: new Date(r.created_at).toISOString(),
});
