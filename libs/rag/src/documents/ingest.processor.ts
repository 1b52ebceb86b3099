import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, AppError } from '@parley/core';
import { newId } from '@parley/database';
import { countTextTokens } from '@parley/llm';
import {
  type JobProcessor,
  type QueueJob,
  QueueProcessor,
  type QueueResults,
  whyStopped,
  outboxHoldsJobFor,
} from '@parley/queue';
import { DataSource } from 'typeorm';
import { type Chunk, chunkText } from '../chunking/chunker';
import { Embedder } from '../embedding/embedder.service';
import { VectorStore } from '../ports/vector-store.port';
import { REFRESH_STATS } from './documents.service';
import { StatisticsRefresher } from './statistics-refresher.service';

/** Tokens are counted as the common embedding models do (cl100k). */
const countTokens = (text: string) => countTextTokens('text-embedding-3-small', text);

interface ClaimedDocument {
  id: string;
  tenant_id: string;
  knowledge_base_id: string;
  content: string;
  language: string;
  chunk_tokens: number;
  chunk_overlap: number;
  embedding_model: string | null;
  embedding_dimensions: number | null;
  embedding_signature: string | null;
}

/** A reason the document itself cannot be ingested: retrying would not help. */
class DocumentRejected extends Error {}

/**
 * Ingests one document: chunks it, writes the chunks with their text-search postings (replacing
 * any earlier ones, so a retried job is harmless), embeds them (cached by content, metered by the
 * cost service) and writes the vectors; only then is the document `ready` and the knowledge
 * base's version moved on. A document that cannot be ingested (no text, budget exhausted, model
 * not priced) is marked `failed` with the reason; anything else is thrown so BullMQ retries
 * with backoff, and on the last attempt the document is marked `failed` with what went wrong.
 */
@Injectable()
@QueueProcessor('rag')
export class IngestProcessor implements JobProcessor<'rag'> {
  private readonly logger = new Logger('Ingest');

  constructor(
    private readonly dataSource: DataSource,
    private readonly embedder: Embedder,
    private readonly vectors: VectorStore,
    private readonly statistics: StatisticsRefresher,
    private readonly config: AppConfig,
  ) {}

  async process(job: QueueJob<'rag'>, signal: AbortSignal): Promise<QueueResults['rag']> {
    const { documentId } = job.data;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      return await this.ingest(documentId, signal);
    } catch (thrown) {
      const error = whyStopped(signal, thrown);
      const rejected = error instanceof DocumentRejected || error instanceof AppError;
      if (!rejected && !lastAttempt) throw error;
      const reason = rejected
        ? (error as Error).message
        : `Ingestion failed after ${job.attemptsMade + 1} attempts: ${(error as Error).message}. Re-ingest the document to try again.`;
      await this.fail(documentId, reason);
      return { status: 'failed', chunks: 0 };
    }
  }

  private async ingest(documentId: string, signal: AbortSignal): Promise<QueueResults['rag']> {
    const [doc]: ClaimedDocument[] = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE kb_documents SET status = 'processing', updated_at = now() WHERE id = $1
         RETURNING id, tenant_id, knowledge_base_id, content
       )
       SELECT c.*, kb.language, kb.chunk_tokens, kb.chunk_overlap, kb.embedding_model,
              kb.embedding_dimensions, kb.embedding_signature
         FROM claimed c JOIN knowledge_bases kb ON kb.id = c.knowledge_base_id`,
      [documentId],
    );
    if (!doc) return { status: 'failed', chunks: 0 }; // deleted meanwhile
    const chunks = chunkText(doc.content, {
      maxTokens: doc.chunk_tokens,
      overlapTokens: doc.chunk_overlap,
      countTokens,
    });
    if (chunks.length === 0) throw new DocumentRejected('The document has no text to index.');
    // Embedded before anything is replaced: a failed embedding never leaves new chunks without
    // vectors in search.
    const vectors = await this.embed(doc, chunks, signal);
    signal.throwIfAborted();
    const ids = await this.writeChunks(doc, chunks);
    if (vectors) await this.writeVectors(doc, ids, vectors);
    const stillThere = await this.dataSource.transaction(async (m) => {
      const rows: unknown[] = await m.query(
        `UPDATE kb_documents SET status = 'ready', error = NULL, chunk_count = $2, updated_at = now()
          WHERE id = $1 RETURNING 1`,
        [documentId, chunks.length],
      );
      if (rows.length > 0) await m.query(REFRESH_STATS, [doc.knowledge_base_id]);
      return rows.length > 0;
    });
    if (!stillThere) {
      // Deleted while it was being ingested: take back the vectors just written.
      await this.vectors.deleteDocument(doc.tenant_id, doc.knowledge_base_id, documentId);
      return { status: 'failed', chunks: 0 };
    }
    await this.statistics.documentIngested(
      this.vectors.name === 'pgvector' ? 'kb_vectors' : undefined,
    );
    this.logger.log(`document ${documentId}: ${chunks.length} chunks`);
    return { status: 'ready', chunks: chunks.length };
  }

  /** Replaces the document's chunks and postings in one transaction; returns the new chunk ids. */
  private async writeChunks(doc: ClaimedDocument, chunks: Chunk[]): Promise<string[]> {
    const ids = chunks.map(() => newId());
    await this.dataSource.transaction(async (m) => {
      await m.query('DELETE FROM kb_chunks WHERE document_id = $1', [doc.id]);
      await m.query(
        `INSERT INTO kb_chunks (id, tenant_id, knowledge_base_id, document_id, ordinal, start_offset,
           end_offset, heading, text, tokens, tsv, length)
         SELECT x.id, $8, $9, $10, x.ordinal, x.s, x.e, x.heading, x.text, x.tokens, v.tsv,
                (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(v.tsv) u)
           FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::int[])
                  AS x(id, ordinal, s, e, heading, text, tokens),
                LATERAL (SELECT to_tsvector($11::regconfig, x.text) AS tsv) v`,
        [
          ids,
          chunks.map((c) => c.ordinal),
          chunks.map((c) => c.start),
          chunks.map((c) => c.end),
          chunks.map((c) => c.heading ?? null),
          chunks.map((c) => c.text),
          chunks.map((c) => c.tokens),
          doc.tenant_id,
          doc.knowledge_base_id,
          doc.id,
          doc.language,
        ],
      );
      await m.query(
        `INSERT INTO kb_postings (knowledge_base_id, lexeme, chunk_id, tf, length)
         SELECT c.knowledge_base_id, u.lexeme, c.id, coalesce(array_length(u.positions, 1), 1), c.length
           FROM kb_chunks c, unnest(c.tsv) u WHERE c.document_id = $1`,
        [doc.id],
      );
    });
    return ids;
  }

  /**
   * The chunks' vectors, or undefined when there is no vector store or embedding model
   * (retrieval is then lexical only). A knowledge base keeps the model and vector size its first
   * document was embedded with: vectors of another model are not comparable, so a model that
   * changed since fails the document with what to do instead.
   */
  private async embed(
    doc: ClaimedDocument,
    chunks: Chunk[],
    signal: AbortSignal,
  ): Promise<number[][] | undefined> {
    const model = this.embedder.modelFor(doc.embedding_model);
    if (this.vectors.name === 'none' || !model) return undefined;
    const signature = this.embedder.signature(model);
    if (!signature)
      throw new DocumentRejected(
        `The embedding model "${model}" of this knowledge base is not configured any more; configure it again, or create a knowledge base with another model.`,
      );
    if (doc.embedding_signature !== null && doc.embedding_signature !== signature)
      throw new DocumentRejected(
        `This knowledge base was embedded with ${doc.embedding_signature}, but the embedding model is now ${signature}; their vectors cannot be mixed. Create a new knowledge base for the new model.`,
      );
    const vectors = await this.embedder.embed(
      { tenantId: doc.tenant_id },
      model,
      chunks.map((c) =>
        c.heading && !c.text.includes(c.heading) ? `${c.heading}\n${c.text}` : c.text,
      ),
      signal,
    );
    const size = vectors[0]!.length;
    if (vectors.some((v) => v.length !== size) || (doc.embedding_dimensions ?? size) !== size)
      throw new DocumentRejected(
        `The embedding model answered with vectors of ${[...new Set(vectors.map((v) => v.length))].join(' and ')} dimensions, but this knowledge base holds ${doc.embedding_dimensions ?? size}-dimension vectors.`,
      );
    if (doc.embedding_signature === null)
      await this.dataSource.query(
        `UPDATE knowledge_bases SET embedding_dimensions = $2, embedding_signature = $3
          WHERE id = $1 AND embedding_signature IS NULL`,
        [doc.knowledge_base_id, size, signature],
      );
    return vectors;
  }

  /** Replaces the document's vectors with those of its new chunks. */
  private async writeVectors(
    doc: ClaimedDocument,
    ids: string[],
    vectors: number[][],
  ): Promise<void> {
    await this.vectors.deleteDocument(doc.tenant_id, doc.knowledge_base_id, doc.id);
    await this.vectors.upsert(
      ids.map((chunkId, i) => ({
        chunkId,
        tenantId: doc.tenant_id,
        knowledgeBaseId: doc.knowledge_base_id,
        documentId: doc.id,
        vector: vectors[i]!,
      })),
    );
  }

  /** Marks the document failed and removes what a partial run wrote, so nothing half-indexed is searchable. */
  /**
   * Every document reaches ready or failed within a bound: one pending or processing with no
   * progress for RAG_LOST_AFTER_MINUTES lost its job (a worker gone with its retries, a queue
   * backend that lost it) and is failed with a reason that says to re-ingest it. One whose
   * ingestion still waits in the outbox (the queue was down) is not lost.
   */
  async failLost(): Promise<number> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT d.id FROM kb_documents d
        WHERE d.status IN ('pending', 'processing')
          AND d.updated_at < now() - make_interval(mins => $1::int)
          AND NOT ${outboxHoldsJobFor('d.id')}
        LIMIT 500`,
      [this.config.rag.lostAfterMinutes],
    );
    for (const { id } of rows)
      await this.fail(
        id,
        'Ingestion stopped making progress (its job was lost); re-ingest the document to try again.',
      );
    if (rows.length > 0) this.logger.warn(`failed ${rows.length} lost document ingestions`);
    return rows.length;
  }

  private async fail(documentId: string, error: string): Promise<void> {
    const [doc]: { tenant_id: string; knowledge_base_id: string }[] =
      await this.dataSource.transaction(async (m) => {
        const rows: { tenant_id: string; knowledge_base_id: string }[] = await m.query(
          `UPDATE kb_documents SET status = 'failed', error = $2, chunk_count = 0, updated_at = now()
            WHERE id = $1 RETURNING tenant_id, knowledge_base_id`,
          [documentId, error],
        );
        const removed: unknown[] = await m.query(
          `WITH gone AS (DELETE FROM kb_chunks WHERE document_id = $1 RETURNING 1) SELECT * FROM gone`,
          [documentId],
        );
        if (rows[0] && removed.length > 0)
          await m.query(REFRESH_STATS, [rows[0].knowledge_base_id]);
        return rows;
      });
    if (doc)
      await this.vectors
        .deleteDocument(doc.tenant_id, doc.knowledge_base_id, documentId)
        .catch((e: Error) =>
          this.logger.warn(`could not delete vectors of ${documentId}: ${e.message}`),
        );
  }
}
