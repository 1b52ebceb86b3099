import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, decodeCursor, NotFoundError, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { JobOutbox } from '@parley/queue';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { KnowledgeBaseActor } from '../knowledge-bases/knowledge-base-access.service';
import { KnowledgeBasesService } from '../knowledge-bases/knowledge-bases.service';
import { VectorStore } from '../ports/vector-store.port';
import { DocumentBusyError, DocumentTooLargeError, refuseNul } from '../rag.errors';

export type DocumentStatus = 'pending' | 'processing' | 'ready' | 'failed';

export interface DocumentView {
  id: string;
  knowledgeBaseId: string;
  title: string;
  contentType: string;
  sizeBytes: number;
  checksum: string;
  metadata: Record<string, unknown>;
  status: DocumentStatus;
  /** Why ingestion failed, in words a person can act on. */
  error: string | null;
  chunkCount: number;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  knowledge_base_id: string;
  title: string;
  content_type: string;
  size_bytes: number;
  checksum: string;
  metadata: Record<string, unknown>;
  status: DocumentStatus;
  error: string | null;
  chunk_count: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, knowledge_base_id, title, content_type, size_bytes, checksum, metadata, status, error, chunk_count, created_at, updated_at';

const toView = (r: Row): DocumentView => ({
  id: r.id,
  knowledgeBaseId: r.knowledge_base_id,
  title: r.title,
  contentType: r.content_type,
  sizeBytes: r.size_bytes,
  checksum: r.checksum,
  metadata: r.metadata,
  status: r.status,
  error: r.error,
  chunkCount: r.chunk_count,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/**
 * Documents of a knowledge base. Adding one stores it and queues its ingestion (202, status
 * `pending`); the same content twice in one knowledge base is stored and ingested once.
 * Reading them needs read access to the knowledge base; adding, re-ingesting and deleting them
 * needs write access.
 */
@Injectable()
export class DocumentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly outbox: JobOutbox,
    private readonly vectors: VectorStore,
  ) {}

  private readonly logger = new Logger('Documents');

  async add(
    actor: KnowledgeBaseActor,
    knowledgeBaseId: string,
    input: {
      title: string;
      text: string;
      contentType?: string;
      metadata?: Record<string, unknown>;
    },
  ): Promise<{ document: DocumentView; duplicate: boolean }> {
    await this.knowledgeBases.require(actor, knowledgeBaseId, 'write');
    const tenantId = actor.tenantId;
    // PostgreSQL text cannot hold NUL; in a document it carries no meaning, so it is dropped.
    input = { ...input, text: input.text.replaceAll('\u0000', '') };
    refuseNul('metadata', input.metadata);
    const size = Buffer.byteLength(input.text, 'utf8');
    if (size > this.config.rag.maxDocumentBytes)
      throw new DocumentTooLargeError(this.config.rag.maxDocumentBytes);
    const checksum = createHash('sha256').update(input.text).digest('hex');
    // The document and its ingestion job commit together (the outbox).
    let staged: string | undefined;
    const rows: Row[] = await this.dataSource.transaction(async (m) => {
      const inserted: Row[] = await m.query(
        `INSERT INTO kb_documents (id, tenant_id, knowledge_base_id, title, content_type, size_bytes, checksum, content, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (knowledge_base_id, checksum) DO NOTHING
       RETURNING ${COLUMNS}`,
        [
          newId(),
          tenantId,
          knowledgeBaseId,
          input.title,
          input.contentType ?? 'text/plain',
          size,
          checksum,
          input.text,
          JSON.stringify(input.metadata ?? {}),
        ],
      );
      if (inserted[0]) staged = await this.stageIngestion(m, inserted[0].id);
      return inserted;
    });
    if (rows.length === 0) {
      const [existing]: Row[] = await this.dataSource.query(
        `SELECT ${COLUMNS} FROM kb_documents WHERE knowledge_base_id = $1 AND checksum = $2`,
        [knowledgeBaseId, checksum],
      );
      return { document: toView(existing!), duplicate: true };
    }
    await this.outbox.dispatch([staged!]);
    return { document: toView(rows[0]!), duplicate: false };
  }

  async list(
    actor: KnowledgeBaseActor,
    knowledgeBaseId: string,
    query: { cursor?: string; limit: number },
  ): Promise<Page<DocumentView>> {
    await this.knowledgeBases.get(actor, knowledgeBaseId);
    const tenantId = actor.tenantId;
    const after = decodeCursor(query.cursor);
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM kb_documents
        WHERE knowledge_base_id = $1 AND tenant_id = $2 AND ($3::uuid IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [knowledgeBaseId, tenantId, after ?? null, query.limit + 1],
    );
    return toPage(rows, query.limit, toView);
  }

  async get(actor: KnowledgeBaseActor, knowledgeBaseId: string, id: string): Promise<DocumentView> {
    await this.knowledgeBases.get(actor, knowledgeBaseId);
    return this.find(actor.tenantId, knowledgeBaseId, id);
  }

  private async find(tenantId: string, knowledgeBaseId: string, id: string): Promise<DocumentView> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM kb_documents WHERE id = $1 AND knowledge_base_id = $2 AND tenant_id = $3`,
      [id, knowledgeBaseId, tenantId],
    );
    if (rows.length === 0) throw new NotFoundError('The document');
    return toView(rows[0]!);
  }

  /** Deletes the document and its chunks; the knowledge base's version moves on. */
  async remove(actor: KnowledgeBaseActor, knowledgeBaseId: string, id: string): Promise<void> {
    await this.knowledgeBases.require(actor, knowledgeBaseId, 'write');
    const tenantId = actor.tenantId;
    await this.dataSource.transaction(async (m) => {
      const gone: unknown[] = await m.query(
        `WITH gone AS (
           DELETE FROM kb_documents WHERE id = $1 AND knowledge_base_id = $2 AND tenant_id = $3 RETURNING 1
         ) SELECT * FROM gone`,
        [id, knowledgeBaseId, tenantId],
      );
      if (gone.length === 0) throw new NotFoundError('The document');
      await m.query(REFRESH_STATS, [knowledgeBaseId]);
    });
    // After the commit: search joins vectors to chunks, so a vector left by a failure here is
    // never returned; it only wastes space until the knowledge base is deleted.
    await this.vectors
      .deleteDocument(tenantId, knowledgeBaseId, id)
      .catch((e: Error) =>
        this.logger.warn(`could not delete the vectors of document ${id}: ${e.message}`),
      );
  }

  /** Queues the document for ingestion again (after a failure, or to re-chunk it). */
  async reingest(
    actor: KnowledgeBaseActor,
    knowledgeBaseId: string,
    id: string,
  ): Promise<DocumentView> {
    await this.knowledgeBases.require(actor, knowledgeBaseId, 'write');
    const tenantId = actor.tenantId;
    // Only a finished document is queued again: two jobs on one document would interleave.
    let staged: string | undefined;
    const rows: Row[] = await this.dataSource.transaction(async (m) => {
      const again: Row[] = await m.query(
        `WITH again AS (
           UPDATE kb_documents SET status = 'pending', error = NULL, updated_at = now()
            WHERE id = $1 AND knowledge_base_id = $2 AND tenant_id = $3 AND status IN ('ready', 'failed')
            RETURNING ${COLUMNS}
         ) SELECT * FROM again`,
        [id, knowledgeBaseId, tenantId],
      );
      if (again[0]) staged = await this.stageIngestion(m, id);
      return again;
    });
    if (rows.length === 0) {
      const current = await this.find(tenantId, knowledgeBaseId, id); // 404 when it is not there
      if (current.status === 'pending') return current; // already queued
      throw new DocumentBusyError();
    }
    await this.outbox.dispatch([staged!]);
    return toView(rows[0]!);
  }

  /** The ingestion job's intent, in the transaction that made the document pending. */
  private stageIngestion(m: EntityManager, documentId: string): Promise<string> {
    // A job id of its own per ingestion: a document ingested again is a new job.
    return this.outbox.stage(m, {
      kind: 'job',
      queue: 'rag',
      data: { kind: 'ingest', documentId },
      options: { jobId: newId() },
    });
  }
}

/** Recomputes a knowledge base's chunk statistics (for BM25) and moves its version on. */
export const REFRESH_STATS = `
  UPDATE knowledge_bases kb SET
    chunk_count = s.n, total_length = s.total, version = kb.version + 1, updated_at = now()
  FROM (SELECT count(*)::int AS n, coalesce(sum(length), 0)::bigint AS total
          FROM kb_chunks WHERE knowledge_base_id = $1) s
  WHERE kb.id = $1`;
