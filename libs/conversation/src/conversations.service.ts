import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type Principal } from '@parley/auth';
import {
  AppConfig,
  decodeCursor,
  KeyRingCipher,
  NotFoundError,
  type Page,
  toPage,
  ValidationFailedError,
} from '@parley/core';
import { newId } from '@parley/database';
import { ModelRouter } from '@parley/llm';
import { KnowledgeBaseAccess, KnowledgeBasesService } from '@parley/rag';
import { ToolRunner } from '@parley/tools';
import { type FindOptionsWhere, IsNull, LessThan, MoreThan, type Repository } from 'typeorm';
import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { PromptTemplates } from './templates/prompt-templates.service';
import {
  toConversationView,
  toMessageView,
  type ConversationView,
  type MessageView,
} from './conversation.views';
import { openContent, openSteps, sealContent } from './message-seal';

/** The latest messages of a conversation as stored (content sealed), oldest first. */
export type StoredHistory = { id: string; role: 'user' | 'assistant'; content: string }[];

/** A conversations row as PostgreSQL returns it, with the history aggregated next to it. */
interface ConversationRow {
  id: string;
  paused: boolean;
  tenant_id: string;
  owner_user_id: string | null;
  owner_api_key_id: string | null;
  title: string | null;
  model: string;
  prompt_template: string | null;
  template_variables: Record<string, string>;
  knowledge_base_ids: string[];
  tools: string[];
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  history: StoredHistory;
}

/**
 * Conversations belong to a tenant and to whoever created them (a user or an API key). Admins
 * see every conversation of their tenant; anyone else only their own. Anything else is 404.
 */
@Injectable()
export class ConversationsService {
  constructor(
    @InjectRepository(ConversationEntity)
    private readonly conversations: Repository<ConversationEntity>,
    @InjectRepository(MessageEntity) private readonly messages: Repository<MessageEntity>,
    private readonly router: ModelRouter,
    private readonly config: AppConfig,
    private readonly cipher: KeyRingCipher,
    private readonly templates: PromptTemplates,
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly knowledgeBaseAccess: KnowledgeBaseAccess,
    private readonly toolRunner: ToolRunner,
  ) {}

  async create(
    principal: Principal,
    input: {
      title?: string;
      model?: string;
      metadata?: Record<string, unknown>;
      promptTemplate?: string;
      templateVariables?: Record<string, string>;
      knowledgeBaseIds?: string[];
      tools?: string[];
    },
  ): Promise<ConversationView> {
    const model = input.model ?? this.config.conversation.defaultModel;
    const templateVariables = input.templateVariables ?? {};
    if (Object.values(templateVariables).some((v) => typeof v !== 'string')) {
      throw new ValidationFailedError([
        { field: 'templateVariables', messages: ['every template variable must be a string'] },
      ]);
    }
    if (input.promptTemplate) this.templates.validate(input.promptTemplate, templateVariables);
    else if (input.templateVariables) {
      throw new ValidationFailedError([
        { field: 'templateVariables', messages: ['templateVariables need a promptTemplate'] },
      ]);
    }
    // Fails fast with UNKNOWN_MODEL rather than at the first message.
    if (input.model) this.router.resolve(model);
    const knowledgeBaseIds = await this.checkKnowledgeBases(principal, input.knowledgeBaseIds);
    const tools = await this.checkTools(principal, input.tools);
    const entity = this.conversations.create({
      id: newId(),
      tenantId: principal.tenantId,
      ownerUserId: principal.userId ?? null,
      ownerApiKeyId: principal.apiKeyId ?? null,
      title: input.title ?? null,
      model,
      promptTemplate: input.promptTemplate ?? null,
      templateVariables,
      knowledgeBaseIds,
      tools,
      metadata: input.metadata ?? {},
    });
    // TypeORM's deep-partial type cannot express a free-form jsonb object.
    await this.conversations.insert(entity as never);
    return toConversationView(await this.conversations.findOneByOrFail({ id: entity.id }));
  }

  async list(
    principal: Principal,
    query: { cursor?: string; limit: number },
  ): Promise<Page<ConversationView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.conversations.find({
      where: { ...this.visibleTo(principal), ...(after ? { id: LessThan(after) } : {}) },
      order: { id: 'DESC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, toConversationView);
  }

  async get(principal: Principal, id: string): Promise<ConversationEntity> {
    // One definition of who may see a conversation: the turn query, without history.
    return (await this.getForTurn(principal, id, 0)).conversation;
  }

  async update(
    principal: Principal,
    id: string,
    patch: {
      title?: string;
      model?: string;
      metadata?: Record<string, unknown>;
      knowledgeBaseIds?: string[];
      tools?: string[];
    },
  ): Promise<ConversationView> {
    const conversation = await this.get(principal, id);
    if (patch.model) this.router.resolve(patch.model);
    const knowledgeBaseIds =
      patch.knowledgeBaseIds && (await this.checkKnowledgeBases(principal, patch.knowledgeBaseIds));
    const tools =
      patch.tools && (await this.checkTools(principal, patch.tools, conversation.tools));
    await this.conversations.update(
      { id: conversation.id },
      {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.model !== undefined ? { model: patch.model } : {}),
        ...(patch.metadata !== undefined ? { metadata: patch.metadata as never } : {}),
        ...(knowledgeBaseIds !== undefined ? { knowledgeBaseIds } : {}),
        ...(tools !== undefined ? { tools } : {}),
      },
    );
    return toConversationView(await this.get(principal, id));
  }

  /**
   * Knowledge bases a conversation may use: those of the tenant the caller may read (404 for
   * any other, as the knowledge base API answers). Each turn checks again and skips those its
   * caller may no longer read.
   */
  private async checkKnowledgeBases(principal: Principal, ids: string[] = []): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return unique;
    const actor = await this.knowledgeBaseAccess.forPrincipal(principal);
    for (const id of unique) await this.knowledgeBases.get(actor, id);
    return unique;
  }

  /**
   * Tools a conversation may enable: built-ins and the tenant's enabled tools (400 otherwise),
   * each newly added one only if the caller's role may enable it (403 TOOL_ENABLE_FORBIDDEN).
   * Tools already on the conversation may stay, whoever enabled them.
   */
  private async checkTools(
    principal: Principal,
    names: string[] = [],
    already: string[] = [],
  ): Promise<string[]> {
    const unique = [...new Set(names)];
    await this.toolRunner.definitions(principal.tenantId, unique);
    await this.toolRunner.assertMayEnable(
      principal,
      unique.filter((n) => !already.includes(n)),
    );
    return unique;
  }

  /** Soft delete: the conversation disappears from the API; rows stay for audit and usage. */
  async remove(principal: Principal, id: string): Promise<void> {
    const conversation = await this.get(principal, id);
    await this.conversations.softDelete({ id: conversation.id });
  }

  async listMessages(
    principal: Principal,
    id: string,
    query: { cursor?: string; limit: number },
  ): Promise<Page<MessageView>> {
    const conversation = await this.get(principal, id);
    const after = decodeCursor(query.cursor);
    const rows = await this.messages.find({
      where: { conversationId: conversation.id, ...(after ? { id: MoreThan(after) } : {}) },
      order: { id: 'ASC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, (m) =>
      toMessageView(m, (c) => openContent(this.cipher, m, c)),
    );
  }

  /**
   * A voice answer the caller talked over: the turn's assistant message (found by the turn's
   * request id, stored complete or aborted by the pipeline) becomes `interrupted` and keeps
   * only what was spoken, which is what the caller heard and the next turn's history shows.
   * Returns the message id, or undefined when the turn stored no answer.
   */
  async recordInterrupted(
    conversationId: string,
    requestId: string,
    spoken: string,
  ): Promise<string | undefined> {
    // Found first: what was spoken is sealed to the message's own id and tenant.
    const [target]: { id: string; tenant_id: string }[] = await this.messages.query(
      `SELECT id, tenant_id FROM messages
        WHERE conversation_id = $1 AND request_id = $2 AND role = 'assistant'
          AND status IN ('complete', 'aborted')`,
      [conversationId, requestId],
    );
    if (!target) return undefined;
    const sealed = sealContent(this.cipher, { tenantId: target.tenant_id, id: target.id }, spoken);
    const rows: { id: string }[] = await this.messages.query(
      `WITH m AS (UPDATE messages SET status = 'interrupted', content = $2
                   WHERE id = $1 AND status IN ('complete', 'aborted') RETURNING id) SELECT id FROM m`,
      [target.id, sealed],
    );
    return rows[0]?.id;
  }

  /** An answer's execution history (model turns and tool calls); [] for a plain answer. */
  async steps(principal: Principal, id: string, messageId: string): Promise<unknown[]> {
    const conversation = await this.get(principal, id);
    const message = await this.messages.findOneBy({
      id: messageId,
      conversationId: conversation.id,
    });
    if (!message) throw new NotFoundError('The message');
    return openSteps(this.cipher, message, message.steps);
  }

  /**
   * The conversation with its latest complete messages (stored form, oldest first), in one
   * query: the hot path of every chat turn. Same visibility as get(); 404 otherwise.
   */
  async getForTurn(
    principal: Principal,
    id: string,
    historyLimit: number,
  ): Promise<{
    conversation: ConversationEntity;
    history: StoredHistory;
    /** An answer of the conversation waits for tool-call approvals. */
    paused: boolean;
  }> {
    const owner =
      principal.kind === 'user' && principal.role === 'admin'
        ? ''
        : principal.kind === 'user'
          ? 'AND c.owner_user_id = $4'
          : 'AND c.owner_api_key_id = $4';
    const params: unknown[] = [id, principal.tenantId, historyLimit];
    if (owner) params.push(principal.kind === 'user' ? principal.userId : principal.apiKeyId);
    const rows: ConversationRow[] = await this.conversations.query(
      `SELECT c.*, COALESCE((
         SELECT json_agg(json_build_object('id', h.id, 'role', h.role, 'content', h.content) ORDER BY h.id)
           FROM (SELECT id, role, content FROM messages m
                  WHERE m.conversation_id = c.id AND m.status IN ('complete', 'interrupted') AND m.role IN ('user', 'assistant')
                  ORDER BY m.id DESC LIMIT $3) h
       ), '[]') AS history,
       EXISTS (SELECT 1 FROM agent_pauses p WHERE p.conversation_id = c.id) AS paused
       FROM conversations c
       WHERE c.id = $1 AND c.tenant_id = $2 AND c.deleted_at IS NULL ${owner}`,
      params,
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('Conversation');
    const conversation = Object.assign(new ConversationEntity(), {
      id: row.id,
      tenantId: row.tenant_id,
      ownerUserId: row.owner_user_id,
      ownerApiKeyId: row.owner_api_key_id,
      title: row.title,
      model: row.model,
      promptTemplate: row.prompt_template,
      templateVariables: row.template_variables,
      knowledgeBaseIds: row.knowledge_base_ids,
      tools: row.tools,
      metadata: row.metadata,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      deletedAt: null,
    });
    return { conversation, history: row.history, paused: row.paused };
  }

  /**
   * The turn a caller stored under `requestId` (both messages), if it got that far: a retried
   * job (a voice turn) asks before sending the message again.
   */
  async turnByRequest(
    tenantId: string,
    conversationId: string,
    requestId: string,
  ): Promise<{ userMessage: MessageEntity; assistantMessage: MessageEntity } | undefined> {
    const rows = await this.messages.find({
      where: { tenantId, conversationId, requestId },
      order: { id: 'ASC' },
    });
    const userMessage = rows.find((m) => m.role === 'user');
    const assistantMessage = rows.find((m) => m.role === 'assistant');
    if (!userMessage || !assistantMessage) return undefined;
    assistantMessage.content = openContent(this.cipher, assistantMessage, assistantMessage.content);
    return { userMessage, assistantMessage };
  }

  private visibleTo(principal: Principal): FindOptionsWhere<ConversationEntity> {
    const base = { tenantId: principal.tenantId, deletedAt: IsNull() };
    if (principal.kind === 'user' && principal.role === 'admin') return base;
    return principal.kind === 'user'
      ? { ...base, ownerUserId: principal.userId }
      : { ...base, ownerApiKeyId: principal.apiKeyId };
  }
}
