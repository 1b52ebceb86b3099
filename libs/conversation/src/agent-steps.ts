import type { ChatMessage, FinishReason, Responder, TokenUsage, ToolCall } from '@parley/llm';
import type { ToolOutcome } from '@parley/tools';

/**
 * The agent's vocabulary: what a loop records, streams, returns and is resumed with. Its own
 * file so that the approvals (which store pauses) and the pipeline (which runs them) both
 * depend on it rather than on each other.
 */

/** One entry of an agent answer's execution history. */
export type AgentStep =
  | {
      kind: 'model';
      round: number;
      provider: string;
      model: string;
      promptTokens: number;
      completionTokens: number;
      costUsd: string;
      durationMs: number;
      toolCalls: { id: string; name: string }[];
    }
  | {
      kind: 'tool';
      round: number;
      callId: string;
      name: string;
      arguments: string;
      status: ToolOutcome['status'];
      code?: string;
      attempts: number;
      durationMs: number;
      /** What the model was given (cut to TOOLS_MAX_RESULT_CHARS). */
      result: string;
      /** Input guardrails on the result: `block` withholds it from the model. */
      guardrail?: { decision: string; findings: string[] };
      /** For a high-risk call: what the person decided. */
      approval?: ApprovalDecision;
    }
  | { kind: 'limit'; round: number; reason: 'max_iterations' | 'wall_clock' };

/** A person's decision on a high-risk call. */
export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  reason?: string;
}

/** Streamed to clients while the agent works. */
export type AgentEvent =
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | {
      type: 'tool_result';
      id: string;
      name: string;
      status: ToolOutcome['status'];
      result: string;
    };

/** The model's last round, to be streamed, guarded and stored like any answer. */
export interface AgentFinal {
  kind: 'final';
  final: { responder: Responder; text: string; usage?: TokenUsage; finishReason: FinishReason };
  /** The prompt of the final round (the turn's window, the calls and their results). */
  messages: ChatMessage[];
  steps: AgentStep[];
}

/**
 * Where a loop stopped to wait for a person: the round (settled) whose calls include
 * high-risk ones. Nothing is reserved; `resume` with the decisions carries on from here.
 */
export interface AgentPause {
  kind: 'paused';
  round: number;
  /** The prompt before this round's calls. */
  messages: ChatMessage[];
  /** What the model said beside its calls, and every call of the round. */
  text: string;
  calls: ToolCall[];
  /** The calls that wait for approval (the others run once those are decided). */
  approvals: ToolCall[];
  steps: AgentStep[];
  /** Time the loop had taken (waiting for a person does not count against the wall clock). */
  elapsedMs: number;
}

export type AgentResult = AgentFinal | AgentPause;

/** How a paused loop goes on: its pause, with a decision for each call that waited. */
export type AgentResume = Omit<AgentPause, 'kind' | 'approvals'> & {
  decisions: Record<string, ApprovalDecision>;
};

/** The loop part of a pause, as stored. */
export const pauseLoop = ({ kind: _kind, approvals: _approvals, ...loop }: AgentPause) => loop;
