import { BaseEntity } from '@parley/database';
import { Column, Entity } from 'typeorm';

export type MessageRole = 'system' | 'user' | 'assistant';
export type MessageStatus = 'complete' | 'aborted' | 'failed' | 'awaiting_approval' | 'interrupted';

@Entity('messages')
export class MessageEntity extends BaseEntity {
  @Column('uuid', { name: 'tenant_id' })
  tenantId: string;

  @Column('uuid', { name: 'conversation_id' })
  conversationId: string;

  @Column('text')
  role: MessageRole;

  @Column('text')
  content: string;

  @Column('text')
  status: MessageStatus;

  @Column('text', { nullable: true })
  model: string | null;

  @Column('text', { nullable: true })
  provider: string | null;

  @Column('integer', { name: 'prompt_tokens', default: 0 })
  promptTokens: number;

  @Column('integer', { name: 'completion_tokens', default: 0 })
  completionTokens: number;

  /** Exact decimal, as a string (design: money is never a float). */
  @Column('numeric', { name: 'cost_usd', precision: 20, scale: 9, default: 0 })
  costUsd: string;

  @Column('integer', { name: 'latency_ms', nullable: true })
  latencyMs: number | null;

  @Column('integer', { name: 'first_token_ms', nullable: true })
  firstTokenMs: number | null;

  @Column('text', { name: 'finish_reason', nullable: true })
  finishReason: string | null;

  @Column('jsonb', { default: [] })
  citations: unknown[];

  @Column('jsonb', { name: 'guardrail_findings', default: [] })
  guardrailFindings: unknown[];

  @Column('text', { name: 'prompt_template', nullable: true })
  promptTemplate: string | null;

  @Column('text', { name: 'prompt_template_version', nullable: true })
  promptTemplateVersion: string | null;

  /** Served from the response cache (no model call, no cost). */
  @Column('boolean', { default: false })
  cached: boolean;

  @Column('text', { name: 'prompt_variant', nullable: true })
  promptVariant: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  /** An agent answer's execution history: model turns and tool calls, in order. */
  @Column('jsonb', { default: [] })
  steps: unknown[];
}
