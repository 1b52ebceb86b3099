import { BaseEntity } from '@parley/database';
import { Column, DeleteDateColumn, Entity } from 'typeorm';

@Entity('conversations')
export class ConversationEntity extends BaseEntity {
  @Column('uuid', { name: 'tenant_id' })
  tenantId: string;

  @Column('uuid', { name: 'owner_user_id', nullable: true })
  ownerUserId: string | null;

  @Column('uuid', { name: 'owner_api_key_id', nullable: true })
  ownerApiKeyId: string | null;

  @Column('text', { nullable: true })
  title: string | null;

  /** The model alias the conversation uses unless a message names another. */
  @Column('text')
  model: string;

  @Column('text', { name: 'prompt_template', nullable: true })
  promptTemplate: string | null;

  @Column('jsonb', { name: 'template_variables', default: {} })
  templateVariables: Record<string, string>;

  @Column('uuid', { name: 'knowledge_base_ids', array: true, default: () => "'{}'" })
  knowledgeBaseIds: string[];

  /** Tools the model may call in this conversation (built-ins and the tenant's tools). */
  @Column('text', { array: true, default: () => "'{}'" })
  tools: string[];

  @Column('jsonb', { default: {} })
  metadata: Record<string, unknown>;

  @DeleteDateColumn({ type: 'timestamptz', name: 'deleted_at' })
  deletedAt: Date | null;
}
