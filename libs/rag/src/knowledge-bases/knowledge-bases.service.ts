import { Injectable, Logger } from '@nestjs/common';
import { ActingUsers, AuditService } from '@parley/auth';
import { AppConfig, decodeCursor, NotFoundError, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { ModelRouter } from '@parley/llm';
import { DataSource } from 'typeorm';
import { VectorStore } from '../ports/vector-store.port';
import { invalid, KnowledgeBaseForbiddenError, KnowledgeBaseNameTakenError } from '../rag.errors';
import {
  DEFAULT_KNOWLEDGE_BASE_ACCESS,
  type KnowledgeBaseAccessSetting,
  type KnowledgeBaseActor,
  type KnowledgeBasePermission,
  LEVEL,
  permissionOf,
} from './knowledge-base-access.service';

export interface KnowledgeBaseView {
  id: string;
  name: string;
  description: string;
  language: string;
  chunkTokens: number;
  chunkOverlap: number;
  /** The embedding model (alias or `provider/model`); null means EMBEDDING_MODEL. */
  embeddingModel: string | null;
  /** The size of its vectors, fixed by the first document embedded; null before that. */
  embeddingDimensions: number | null;
  /** The `provider/model` its vectors came from, fixed with the size. */
  embeddingSignature: string | null;
  /** Changes whenever the content changes (the chat response cache keys on it). */
  version: number;
  chunkCount: number;
  /** What everyone in the tenant may do: `private`, `tenant:read` or `tenant:write`. */
  access: KnowledgeBaseAccessSetting;
  /** Who created it (for an API key, the key's creator); null for one made before owners. */
  ownerUserId: string | null;
  /** What the caller may do with it: `read`, `write` (documents) or `manage`. */
  permission: KnowledgeBasePermission;
  createdAt: string;
  updatedAt: string;
}

export interface KnowledgeBaseGrantView {
  userId: string;
  permission: KnowledgeBasePermission;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  description: string;
  language: string;
  chunk_tokens: number;
  chunk_overlap: number;
  embedding_model: string | null;
  embedding_dimensions: number | null;
  embedding_signature: string | null;
  version: number;
  chunk_count: number;
  access: KnowledgeBaseAccessSetting;
  owner_user_id: string | null;
  created_at: Date;
  updated_at: Date;
  /** The caller's level (0–3), capped. */
  level: number;
}

const COLUMNS =
  'kb.id, kb.name, kb.description, kb.language, kb.chunk_tokens, kb.chunk_overlap, kb.embedding_model, kb.embedding_dimensions, kb.embedding_signature, kb.version, kb.chunk_count, kb.access, kb.owner_user_id, kb.created_at, kb.updated_at';

/**
 * The caller's level on `kb` (0 nothing, 1 read, 2 write, 3 manage): admins manage
 * everything; otherwise the best of the tenant-wide `access`, ownership and a grant; then cut
 * to the caller's cap (an API key's scopes). `user`, `admin` and `cap` are SQL parameters.
 */
const levelSql = (user: string, admin: string, cap: string) => `LEAST(${cap}::int,
  CASE WHEN ${admin}::boolean THEN 3 ELSE GREATEST(
    CASE kb.access WHEN 'tenant:write' THEN 2 WHEN 'tenant:read' THEN 1 ELSE 0 END,
    CASE WHEN kb.owner_user_id = ${user}::uuid THEN 3 ELSE 0 END,
    (SELECT CASE g.permission WHEN 'manage' THEN 3 WHEN 'write' THEN 2 ELSE 1 END
       FROM kb_grants g WHERE g.knowledge_base_id = kb.id AND g.user_id = ${user}::uuid)
  ) END)`;

const actorParams = (a: KnowledgeBaseActor) => [a.userId ?? null, a.admin, a.cap];

const toView = (r: Row): KnowledgeBaseView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  language: r.language,
  chunkTokens: r.chunk_tokens,
  chunkOverlap: r.chunk_overlap,
  embeddingModel: r.embedding_model,
  embeddingDimensions: r.embedding_dimensions,
  embeddingSignature: r.embedding_signature,
  version: r.version,
  chunkCount: r.chunk_count,
  access: r.access,
  ownerUserId: r.owner_user_id,
  permission: permissionOf(r.level)!,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/**
 * Knowledge bases of a tenant, each with an owner, a tenant-wide `access` and per-user grants.
 * Another tenant's knowledge base, and one the caller may not read, is simply not found; one
 * the caller may read but not change that way is 403 `KNOWLEDGE_BASE_FORBIDDEN`.
 */
@Injectable()
export class KnowledgeBasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly vectors: VectorStore,
    private readonly router: ModelRouter,
    private readonly actingUsers: ActingUsers,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates a knowledge base owned by the actor's user, with `access` given or the tenant's
   * default.
   */
  async create(
    actor: KnowledgeBaseActor,
    input: {
      name: string;
      description?: string;
      language?: string;
      chunkTokens?: number;
      chunkOverlap?: number;
      embeddingModel?: string;
      access?: KnowledgeBaseAccessSetting;
    },
  ): Promise<KnowledgeBaseView> {
    // An unknown model name is refused now (UNKNOWN_MODEL), not at the first ingestion.
    if (input.embeddingModel !== undefined) this.router.embeddingTarget(input.embeddingModel);
    const chunkTokens = input.chunkTokens ?? this.config.rag.chunkTokens;
    const chunkOverlap =
      input.chunkOverlap ?? Math.min(this.config.rag.chunkOverlap, Math.floor(chunkTokens / 2));
    if (chunkOverlap >= chunkTokens)
      throw invalid('chunkOverlap', 'chunkOverlap must be smaller than chunkTokens');
    const access = input.access ?? (await this.defaultAccess(actor.tenantId));
    const rows: Row[] = await this.dataSource.query(
      `WITH kb AS (
         INSERT INTO knowledge_bases (id, tenant_id, name, description, language, chunk_tokens, chunk_overlap, embedding_model, owner_user_id, access)
         VALUES ($4, $5, $6, $7, $8, $9, $10, $11, $1, $12)
         ON CONFLICT (tenant_id, name) DO NOTHING
         RETURNING *
       ) SELECT ${COLUMNS}, ${levelSql('$1', '$2', '$3')} AS level FROM kb`,
      [
        ...actorParams(actor),
        newId(),
        actor.tenantId,
        input.name,
        input.description ?? '',
        input.language ?? 'english',
        chunkTokens,
        chunkOverlap,
        input.embeddingModel ?? null,
        access,
      ],
    );
    if (rows.length === 0) throw new KnowledgeBaseNameTakenError(input.name);
    return toView(rows[0]!);
  }

  /** The knowledge bases the actor may read, newest first. */
  async list(
    actor: KnowledgeBaseActor,
    query: { cursor?: string; limit: number },
  ): Promise<Page<KnowledgeBaseView>> {
    const after = decodeCursor(query.cursor);
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM (
         SELECT ${COLUMNS}, ${levelSql('$1', '$2', '$3')} AS level FROM knowledge_bases kb
          WHERE kb.tenant_id = $4 AND ($5::uuid IS NULL OR kb.id < $5)
       ) visible WHERE level >= 1
        ORDER BY id DESC LIMIT $6`,
      [...actorParams(actor), actor.tenantId, after ?? null, query.limit + 1],
    );
    return toPage(rows, query.limit, toView);
  }

  /** A knowledge base the actor may read; 404 when it may not (or it is not there). */
  get(actor: KnowledgeBaseActor, id: string): Promise<KnowledgeBaseView> {
    return this.require(actor, id, 'read');
  }

  /**
   * A knowledge base the actor may use as `needed`: 404 when it may not even read it, 403
   * `KNOWLEDGE_BASE_FORBIDDEN` (saying what is needed) when it may read but not this.
   */
  async require(
    actor: KnowledgeBaseActor,
    id: string,
    needed: KnowledgeBasePermission,
  ): Promise<KnowledgeBaseView> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS}, ${levelSql('$1', '$2', '$3')} AS level
         FROM knowledge_bases kb WHERE kb.id = $4 AND kb.tenant_id = $5`,
      [...actorParams(actor), id, actor.tenantId],
    );
    const row = rows[0];
    if (!row || row.level < LEVEL.read) throw new NotFoundError('The knowledge base');
    if (row.level < LEVEL[needed])
      throw new KnowledgeBaseForbiddenError(
        needed as 'write' | 'manage',
        permissionOf(row.level) as 'read' | 'write',
      );
    return toView(row);
  }

  /**
   * Of `ids`, the knowledge bases the actor may read, in the order asked; the others (not
   * readable, or not there) are left out.
   */
  async readable(actor: KnowledgeBaseActor, ids: string[]): Promise<KnowledgeBaseView[]> {
    if (ids.length === 0) return [];
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM (
         SELECT ${COLUMNS}, ${levelSql('$1', '$2', '$3')} AS level FROM knowledge_bases kb
          WHERE kb.id = ANY($4::uuid[]) AND kb.tenant_id = $5
       ) visible WHERE level >= 1`,
      [...actorParams(actor), ids, actor.tenantId],
    );
    const byId = new Map(rows.map((r) => [r.id, toView(r)]));
    return [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
  }

  /** Name, description and `access`: needs manage. */
  async update(
    actor: KnowledgeBaseActor,
    id: string,
    patch: { name?: string; description?: string; access?: KnowledgeBaseAccessSetting },
  ): Promise<KnowledgeBaseView> {
    const before = await this.require(actor, id, 'manage');
    try {
      const rows: Row[] = await this.dataSource.query(
        `WITH kb AS (
           UPDATE knowledge_bases SET name = coalesce($6, name), description = coalesce($7, description),
                  access = coalesce($8, access), updated_at = now()
            WHERE id = $4 AND tenant_id = $5 RETURNING *
         ) SELECT ${COLUMNS}, ${levelSql('$1', '$2', '$3')} AS level FROM kb`,
        [
          ...actorParams(actor),
          id,
          actor.tenantId,
          patch.name ?? null,
          patch.description ?? null,
          patch.access ?? null,
        ],
      );
      if (rows.length === 0) throw new NotFoundError('The knowledge base');
      if (patch.access !== undefined && patch.access !== before.access)
        await this.audit.record('knowledge_base.access_changed', {
          tenantId: actor.tenantId,
          targetType: 'knowledge_base',
          targetId: id,
          metadata: { access: patch.access, previous: before.access },
        });
      return toView(rows[0]!);
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new KnowledgeBaseNameTakenError(patch.name!);
      throw error;
    }
  }

  /** Deletes the knowledge base with its documents and chunks: needs manage. */
  async remove(actor: KnowledgeBaseActor, id: string): Promise<void> {
    await this.require(actor, id, 'manage');
    const tenantId = actor.tenantId;
    const rows: unknown[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM knowledge_bases WHERE id = $1 AND tenant_id = $2 RETURNING 1) SELECT * FROM gone`,
      [id, tenantId],
    );
    if (rows.length === 0) throw new NotFoundError('The knowledge base');
    // Search joins vectors to chunks, so vectors left by a failure here are never returned.
    await this.vectors
      .deleteKnowledgeBase(tenantId, id)
      .catch((e: Error) =>
        new Logger('KnowledgeBases').warn(`could not delete the vectors of ${id}: ${e.message}`),
      );
  }

  /** The per-user grants of a knowledge base: needs manage. */
  async grants(actor: KnowledgeBaseActor, id: string): Promise<KnowledgeBaseGrantView[]> {
    await this.require(actor, id, 'manage');
    const rows: {
      user_id: string;
      permission: KnowledgeBasePermission;
      created_at: Date;
      updated_at: Date;
    }[] = await this.dataSource.query(
      `SELECT user_id, permission, created_at, updated_at FROM kb_grants
        WHERE knowledge_base_id = $1 AND tenant_id = $2 ORDER BY created_at, user_id`,
      [id, actor.tenantId],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      permission: r.permission,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  /** Gives a user of the tenant `permission` (replacing any grant they had): needs manage. */
  async grant(
    actor: KnowledgeBaseActor,
    id: string,
    userId: string,
    permission: KnowledgeBasePermission,
  ): Promise<KnowledgeBaseGrantView> {
    await this.require(actor, id, 'manage');
    // A user of another tenant (or a disabled one) is not found, like any other.
    if (!(await this.actingUsers.resolve({ tenantId: actor.tenantId, userId })))
      throw new NotFoundError('The user');
    const [row]: { created_at: Date; updated_at: Date }[] = await this.dataSource.query(
      `INSERT INTO kb_grants (knowledge_base_id, user_id, tenant_id, permission) VALUES ($1, $2, $3, $4)
       ON CONFLICT (knowledge_base_id, user_id)
         DO UPDATE SET permission = excluded.permission, updated_at = now()
       RETURNING created_at, updated_at`,
      [id, userId, actor.tenantId, permission],
    );
    await this.audit.record('knowledge_base.access_changed', {
      tenantId: actor.tenantId,
      targetType: 'knowledge_base',
      targetId: id,
      metadata: { grant: { userId, permission } },
    });
    return {
      userId,
      permission,
      createdAt: new Date(row!.created_at).toISOString(),
      updatedAt: new Date(row!.updated_at).toISOString(),
    };
  }

  /** Takes a user's grant away (they keep what `access` gives everyone): needs manage. */
  async revoke(actor: KnowledgeBaseActor, id: string, userId: string): Promise<void> {
    await this.require(actor, id, 'manage');
    const gone: unknown[] = await this.dataSource.query(
      `WITH gone AS (
         DELETE FROM kb_grants WHERE knowledge_base_id = $1 AND user_id = $2 AND tenant_id = $3 RETURNING 1
       ) SELECT * FROM gone`,
      [id, userId, actor.tenantId],
    );
    if (gone.length === 0) throw new NotFoundError('The grant');
    await this.audit.record('knowledge_base.access_changed', {
      tenantId: actor.tenantId,
      targetType: 'knowledge_base',
      targetId: id,
      metadata: { revoked: { userId } },
    });
  }

  /** The `access` of the tenant's new knowledge bases when their creator gives none. */
  async defaultAccess(tenantId: string): Promise<KnowledgeBaseAccessSetting> {
    const rows: { default_access: KnowledgeBaseAccessSetting }[] = await this.dataSource.query(
      `SELECT default_access FROM kb_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0]?.default_access ?? DEFAULT_KNOWLEDGE_BASE_ACCESS;
  }

  async setDefaultAccess(
    tenantId: string,
    access: KnowledgeBaseAccessSetting,
  ): Promise<KnowledgeBaseAccessSetting> {
    await this.dataSource.query(
      `INSERT INTO kb_settings (tenant_id, default_access) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET default_access = excluded.default_access, updated_at = now()`,
      [tenantId, access],
    );
    await this.audit.record('knowledge_base.settings_updated', {
      tenantId,
      targetType: 'kb_settings',
      targetId: tenantId,
      metadata: { defaultAccess: access },
    });
    return access;
  }
}
