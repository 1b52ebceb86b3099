import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type Principal } from '@parley/auth';
import {
  AppConfig,
  decodeCursor,
  NotFoundError,
  type Page,
  toPage,
  ValidationFailedError,
} from '@parley/core';
import { newId } from '@parley/database';
import { ModelRouter } from '@parley/llm';
import { type FindOptionsWhere, IsNull, LessThan, MoreThan, type Repository } from 'typeorm';
import { ConversationEntity } from './entities/conversation.entity';
import { MessageEntity } from './entities/message.entity';
import { MessageCipher } from './encryption/message-cipher';
import { PromptTemplates } from './templates/prompt-templates.service';
import {
  toConversationView,
  toMessageView,
  type ConversationView,
  type MessageView,
} from './conversation.views';

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
    private readonly cipher: MessageCipher,
    private readonly templates: PromptTemplates,
  ) {}

  async create(
    principal: Principal,
    input: {
      title?: string;
      model?: string;
      metadata?: Record<string, unknown>;
      promptTemplate?: string;
      templateVariables?: Record<string, string>;
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
    const entity = this.conversations.create({
      id: newId(),
      tenantId: principal.tenantId,
      ownerUserId: principal.userId ?? null,
      ownerApiKeyId: principal.apiKeyId ?? null,
      title: input.title ?? null,
      model,
      promptTemplate: input.promptTemplate ?? null,
      templateVariables,
      knowledgeBaseIds: [],
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
    const conversation = await this.conversations.findOne({
      where: { id, ...this.visibleTo(principal) },
    });
    if (!conversation) throw new NotFoundError('Conversation');
    return conversation;
  }

  async update(
    principal: Principal,
    id: string,
    patch: { title?: string; model?: string; metadata?: Record<string, unknown> },
  ): Promise<ConversationView> {
    const conversation = await this.get(principal, id);
    if (patch.model) this.router.resolve(patch.model);
    await this.conversations.update(
      { id: conversation.id },
      {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.model !== undefined ? { model: patch.model } : {}),
        ...(patch.metadata !== undefined ? { metadata: patch.metadata as never } : {}),
      },
    );
    return toConversationView(await this.get(principal, id));
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
    return toPage(rows, query.limit, (m) => toMessageView(m, (c) => this.cipher.open(c)));
  }

  private visibleTo(principal: Principal): FindOptionsWhere<ConversationEntity> {
    const base = { tenantId: principal.tenantId, deletedAt: IsNull() };
    if (principal.kind === 'user' && principal.role === 'admin') return base;
    return principal.kind === 'user'
      ? { ...base, ownerUserId: principal.userId }
      : { ...base, ownerApiKeyId: principal.apiKeyId };
  }
}
