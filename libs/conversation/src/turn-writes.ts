import type { KeyRingCipher } from '@parley/core';
import type { AlongsideWrites } from '@parley/cost';
import type { MessageEntity } from './entities/message.entity';
import { type MessageKey, sealContent, sealSteps } from './message-seal';

/**
 * The writes of a turn, to commit with its settlement: both messages and the conversation's
 * timestamp; the database fills in only the timestamps. Messages come in clear and are sealed
 * here, where each one's id and tenant are known.
 */
export function turnWrites(
  user: NewMessage,
  assistant: NewMessage,
  conversationId: string,
  cipher: KeyRingCipher,
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
    params: [...messageValues(user, cipher), ...messageValues(assistant, cipher), conversationId],
    returning: 'turn_messages',
  };
}

/** What finishing (or pausing again) an answer that waited for approvals changes. */
export type MessageUpdate = Pick<
  NewMessage,
  | 'content'
  | 'status'
  | 'model'
  | 'provider'
  | 'promptTokens'
  | 'completionTokens'
  | 'costUsd'
  | 'latencyMs'
  | 'firstTokenMs'
  | 'finishReason'
  | 'citations'
  | 'guardrailFindings'
  | 'steps'
>;

/** Updates a stored answer in place (and the conversation's timestamp), sealing it anew. */
export function messageUpdate(
  target: MessageKey,
  m: MessageUpdate,
  cipher: KeyRingCipher,
): AlongsideWrites {
  const id = target.id;
  const values: [string, unknown][] = [
    ['content', sealContent(cipher, target, m.content)],
    ['status', m.status],
    ['model', m.model],
    ['provider', m.provider],
    ['prompt_tokens', m.promptTokens],
    ['completion_tokens', m.completionTokens],
    ['cost_usd', m.costUsd],
    ['latency_ms', m.latencyMs],
    ['first_token_ms', m.firstTokenMs],
    ['finish_reason', m.finishReason],
    ['citations', JSON.stringify(m.citations)],
    ['guardrail_findings', JSON.stringify(m.guardrailFindings)],
    ['steps', JSON.stringify(sealSteps(cipher, target, m.steps ?? []))],
  ];
  const set = values.map(([column], i) => `${column} = $${i + 1}`).join(', ');
  return {
    ctes: [
      `turn_messages AS (
         UPDATE messages SET ${set}, updated_at = now() WHERE id = $${values.length + 1}
         RETURNING id, created_at, conversation_id)`,
      `turn_conversation AS (UPDATE conversations SET updated_at = now()
         WHERE id IN (SELECT conversation_id FROM turn_messages))`,
    ],
    params: [...values.map(([, v]) => v), id],
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

function messageValues(m: NewMessage, cipher: KeyRingCipher): unknown[] {
  return [
    m.id,
    m.tenantId,
    m.conversationId,
    m.role,
    sealContent(cipher, m, m.content),
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
    JSON.stringify(sealSteps(cipher, m, m.steps ?? [])),
  ];
}
