import { Injectable, Logger } from '@nestjs/common';
import { newId } from '@parley/database';
import { countTextTokens } from '@parley/llm';
import { type JobProcessor, type QueueJob, QueueProcessor, type QueueResults } from '@parley/queue';
import { DataSource } from 'typeorm';
import { chunkText } from '../chunking/chunker';
import { REFRESH_STATS } from './documents.service';

/** Tokens are counted as the common embedding models do (cl100k). */
const countTokens = (text: string) => countTextTokens('text-embedding-3-small', text);

/**
 * Ingests one document: chunks it and writes the chunks with their text-search vectors, in
 * one transaction that replaces any earlier chunks (so a retried or repeated job is harmless).
 * A document that cannot be ingested is marked `failed` with the reason; a database error is
 * thrown, and BullMQ retries with backoff.
 */
@Injectable()
@QueueProcessor('rag')
export class IngestProcessor implements JobProcessor<'rag'> {
  private readonly logger = new Logger('Ingest');

  constructor(private readonly dataSource: DataSource) {}

  async process(job: QueueJob<'rag'>): Promise<QueueResults['rag']> {
    const { documentId } = job.data;
    const [doc]: {
      id: string;
      tenant_id: string;
      knowledge_base_id: string;
      content: string;
      language: string;
      chunk_tokens: number;
      chunk_overlap: number;
    }[] = await this.dataSource.query(
      `WITH claimed AS (
         UPDATE kb_documents SET status = 'processing', updated_at = now() WHERE id = $1
         RETURNING id, tenant_id, knowledge_base_id, content
       )
       SELECT c.*, kb.language, kb.chunk_tokens, kb.chunk_overlap
         FROM claimed c JOIN knowledge_bases kb ON kb.id = c.knowledge_base_id`,
      [documentId],
    );
    if (!doc) return { status: 'failed', chunks: 0 }; // deleted meanwhile
    const chunks = chunkText(doc.content, {
      maxTokens: doc.chunk_tokens,
      overlapTokens: doc.chunk_overlap,
      countTokens,
    });
    if (chunks.length === 0) {
      await this.fail(documentId, 'The document has no text to index.');
      return { status: 'failed', chunks: 0 };
    }
    await this.dataSource.transaction(async (m) => {
      await m.query('DELETE FROM kb_chunks WHERE document_id = $1', [documentId]);
      await m.query(
        `INSERT INTO kb_chunks (id, tenant_id, knowledge_base_id, document_id, ordinal, start_offset,
           end_offset, heading, text, tokens, tsv, length)
         SELECT x.id, $8, $9, $10, x.ordinal, x.s, x.e, x.heading, x.text, x.tokens, v.tsv,
                (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(v.tsv) u)
           FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::int[])
                  AS x(id, ordinal, s, e, heading, text, tokens),
                LATERAL (SELECT to_tsvector($11::regconfig, x.text) AS tsv) v`,
        [
          chunks.map(() => newId()),
          chunks.map((c) => c.ordinal),
          chunks.map((c) => c.start),
          chunks.map((c) => c.end),
          chunks.map((c) => c.heading ?? null),
          chunks.map((c) => c.text),
          chunks.map((c) => c.tokens),
          doc.tenant_id,
          doc.knowledge_base_id,
          documentId,
          doc.language,
        ],
      );
      await m.query(
        `INSERT INTO kb_postings (knowledge_base_id, lexeme, chunk_id, tf, length)
         SELECT c.knowledge_base_id, u.lexeme, c.id, coalesce(array_length(u.positions, 1), 1), c.length
           FROM kb_chunks c, unnest(c.tsv) u WHERE c.document_id = $1`,
        [documentId],
      );
      await m.query(
        `UPDATE kb_documents SET status = 'ready', error = NULL, chunk_count = $2, updated_at = now() WHERE id = $1`,
        [documentId, chunks.length],
      );
      await m.query(REFRESH_STATS, [doc.knowledge_base_id]);
    });
    this.logger.log(`document ${documentId}: ${chunks.length} chunks`);
    return { status: 'ready', chunks: chunks.length };
  }

  private async fail(documentId: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE kb_documents SET status = 'failed', error = $2, chunk_count = 0, updated_at = now() WHERE id = $1`,
      [documentId, error],
    );
  }
}
