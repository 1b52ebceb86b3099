import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, decodeCursor, NotFoundError, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { ModelRouter } from '@parley/llm';
import { DataSource } from 'typeorm';
import { VectorStore } from '../ports/vector-store.port';
import { invalid, KnowledgeBaseNameTakenError } from '../rag.errors';

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
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, name, description, language, chunk_tokens, chunk_overlap, embedding_model, embedding_dimensions, embedding_signature, version, chunk_count, created_at, updated_at';

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
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Knowledge bases of a tenant. Another tenant's knowledge base is simply not found. */
@Injectable()
export class KnowledgeBasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly vectors: VectorStore,
    private readonly router: ModelRouter,
  ) {}

  async create(
    tenantId: string,
    input: {
      name: string;
      description?: string;
      language?: string;
      chunkTokens?: number;
      chunkOverlap?: number;
      embeddingModel?: string;
    },
  ): Promise<KnowledgeBaseView> {
    // An unknown model name is refused now (UNKNOWN_MODEL), not at the first ingestion.
    if (input.embeddingModel !== undefined) this.router.embeddingTarget(input.embeddingModel);
    const chunkTokens = input.chunkTokens ?? this.config.rag.chunkTokens;
    const chunkOverlap =
      input.chunkOverlap ?? Math.min(this.config.rag.chunkOverlap, Math.floor(chunkTokens / 2));
    if (chunkOverlap >= chunkTokens)
      throw invalid('chunkOverlap', 'chunkOverlap must be smaller than chunkTokens');
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO knowledge_bases (id, tenant_id, name, description, language, chunk_tokens, chunk_overlap, embedding_model)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, name) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        newId(),
        tenantId,
        input.name,
        input.description ?? '',
        input.language ?? 'english',
        chunkTokens,
        chunkOverlap,
        input.embeddingModel ?? null,
      ],
    );
    if (rows.length === 0) throw new KnowledgeBaseNameTakenError(input.name);
    return toView(rows[0]!);
  }

  async list(
    tenantId: string,
    query: { cursor?: string; limit: number },
  ): Promise<Page<KnowledgeBaseView>> {
    const after = decodeCursor(query.cursor);
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM knowledge_bases
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [tenantId, after ?? null, query.limit + 1],
    );
    return toPage(rows, query.limit, toView);
  }

  async get(tenantId: string, id: string): Promise<KnowledgeBaseView> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM knowledge_bases WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    if (rows.length === 0) throw new NotFoundError('The knowledge base');
    return toView(rows[0]!);
  }

  async update(
    tenantId: string,
    id: string,
    patch: { name?: string; description?: string },
  ): Promise<KnowledgeBaseView> {
    try {
      const rows: Row[] = await this.dataSource.query(
        `WITH changed AS (
           UPDATE knowledge_bases SET name = coalesce($3, name), description = coalesce($4, description),
                  updated_at = now()
            WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}
         ) SELECT * FROM changed`,
        [id, tenantId, patch.name ?? null, patch.description ?? null],
      );
      if (rows.length === 0) throw new NotFoundError('The knowledge base');
      return toView(rows[0]!);
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new KnowledgeBaseNameTakenError(patch.name!);
      throw error;
    }
  }

  /** Deletes the knowledge base with its documents and chunks. */
  async remove(tenantId: string, id: string): Promise<void> {
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
}
