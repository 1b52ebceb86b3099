import type { AlongsideWrites } from '@parley/cost';
import type { MessageEntity } from '../entities/message.entity';

/**
 * The writes of a turn, to commit with its settlement: both messages and the conversation's
 * timestamp; the database fills in only the timestamps.
 */
export function turnWrites(
  user: NewMessage,
  assistant: NewMessage,
  conversationId: string,
): AlongsideWrites {
  const n = MESSAGE_COLUMNS.length;
  const row = (r: number) => `(${MESSAGE_COLUMNS.map((_, i) => `$${r * n + i + 1}`).join(', ')})`;
  return {
    ctes: [
      `turn_messages AS (
         INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')}) VALUES ${row(0)}, ${row(1)}
         RETURNING id, created_at)`,
      `turn_conversation AS (UPDATE conversations SET updated_at = now() WHERE id = $${n * 2 + 1})`,
    ],
    params: [...messageValues(user), ...messageValues(assistant), conversationId],
    returning: 'turn_messages',
  };
}

/** The messages columns a turn writes, in the order of messageValues(). */
const MESSAGE_COLUMNS = [
  'id',
  'tenant_id',
  'conversation_id',
  'role',
  'content',
  'status',
  'model',
  'provider',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'latency_ms',
  'first_token_ms',
  'finish_reason',
  'citations',
  'guardrail_findings',
  'prompt_template',
  'prompt_template_version',
  'prompt_variant',
  'cached',
  'request_id',
  'steps',
];

export type NewMessage = Omit<MessageEntity, 'createdAt' | 'updatedAt' | 'assignId'>;

function messageValues(m: NewMessage): unknown[] {
  return [
    m.id,
    m.tenantId,
    m.conversationId,
    m.role,
    m.content,
    m.status,
    m.model,
    m.provider,
    m.promptTokens,
    m.completionTokens,
    m.costUsd,
    m.latencyMs,
    m.firstTokenMs,
    m.finishReason,
    JSON.stringify(m.citations),
    JSON.stringify(m.guardrailFindings),
    m.promptTemplate,
    m.promptTemplateVersion,
    m.promptVariant,
    m.cached,
    m.requestId,
    JSON.stringify(m.steps ?? []),
  ];
}
