import type { ConversationEntity } from './entities/conversation.entity';
import type { MessageEntity } from './entities/message.entity';

export interface ConversationView {
  id: string;
  title: string | null;
  model: string;
  promptTemplate: string | null;
  templateVariables: Record<string, string>;
  knowledgeBaseIds: string[];
  tools: string[];
  metadata: Record<string, unknown>;
  ownerUserId: string | null;
  ownerApiKeyId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MessageView {
  id: string;
  conversationId: string;
  role: string;
  content: string;
  status: string;
  model: string | null;
  provider: string | null;
  usage: { promptTokens: number; completionTokens: number };
  costUsd: string;
  cached: boolean;
  latencyMs: number | null;
  firstTokenMs: number | null;
  finishReason: string | null;
  citations: unknown[];
  /** The prompt template, version and A/B variant that produced an assistant message. */
  prompt: { template: string; version: string | null; variant: string | null } | null;
  createdAt: string;
}

export const toConversationView = (c: ConversationEntity): ConversationView => ({
  id: c.id,
  title: c.title,
  model: c.model,
  promptTemplate: c.promptTemplate,
  templateVariables: c.templateVariables,
  knowledgeBaseIds: c.knowledgeBaseIds,
  tools: c.tools ?? [],
  metadata: c.metadata,
  ownerUserId: c.ownerUserId,
  ownerApiKeyId: c.ownerApiKeyId,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

/** `open` turns stored content into text (it decrypts when encryption at rest is on). */
export const toMessageView = (
  m: MessageEntity,
  open: (content: string) => string = (c) => c,
): MessageView => ({
  id: m.id,
  conversationId: m.conversationId,
  role: m.role,
  content: open(m.content),
  status: m.status,
  model: m.model,
  provider: m.provider,
  usage: { promptTokens: m.promptTokens, completionTokens: m.completionTokens },
  costUsd: m.costUsd,
  cached: m.cached,
  latencyMs: m.latencyMs,
  firstTokenMs: m.firstTokenMs,
  finishReason: m.finishReason,
  citations: m.citations,
  prompt: m.promptTemplate
    ? { template: m.promptTemplate, version: m.promptTemplateVersion, variant: m.promptVariant }
    : null,
  createdAt: m.createdAt.toISOString(),
});

/** A passage as it is cited on an answer: `n` is its number in the prompt ([n]). */
export interface Citation {
  n: number;
  knowledgeBaseId: string;
  documentId: string;
  chunkId: string;
  title: string;
  start: number;
  end: number;
  score: number;
  /** Left out of the prompt (n is 0): the input guardrails found a prompt injection in it. */
  withheld?: 'prompt_injection';
}
