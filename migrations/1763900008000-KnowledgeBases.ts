import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Knowledge bases, their documents and chunks. Chunk text and offsets are the source of truth
 * for citations; `tsv` serves lexical search (BM25 is computed from it at query time, with the
 * per-knowledge-base length statistics kept here). Vectors live behind the VectorStore port.
 */
export class KnowledgeBases1763900008000 implements MigrationInterface {
  name = 'KnowledgeBases1763900008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE knowledge_bases (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        language text NOT NULL DEFAULT 'english',
        embedding_model text,
        chunk_tokens integer NOT NULL CHECK (chunk_tokens BETWEEN 32 AND 8192),
        chunk_overlap integer NOT NULL CHECK (chunk_overlap >= 0),
        version integer NOT NULL DEFAULT 1,
        chunk_count integer NOT NULL DEFAULT 0,
        total_length bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`);
    await q.query(`
      CREATE TABLE kb_documents (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
        title text NOT NULL,
        content_type text NOT NULL,
        size_bytes integer NOT NULL,
        checksum text NOT NULL,
        content text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
        error text,
        chunk_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (knowledge_base_id, checksum)
      )`);
    await q.query(`CREATE INDEX kb_documents_kb ON kb_documents (knowledge_base_id, created_at)`);
    await q.query(`
      CREATE TABLE kb_chunks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
        document_id uuid NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        start_offset integer NOT NULL,
        end_offset integer NOT NULL,
        heading text,
        text text NOT NULL,
        tokens integer NOT NULL,
        tsv tsvector NOT NULL,
        length integer NOT NULL,
        UNIQUE (document_id, ordinal)
      )`);
    await q.query(`CREATE INDEX kb_chunks_tsv ON kb_chunks USING gin (tsv)`);
    await q.query(`CREATE INDEX kb_chunks_kb ON kb_chunks (knowledge_base_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE kb_chunks');
    await q.query('DROP TABLE kb_documents');
    await q.query('DROP TABLE knowledge_bases');
  }
}
