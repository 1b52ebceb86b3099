import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Embeddings: a cache of vectors by content hash per tenant and model, so re-ingestion and
 * identical chunks cost nothing. It is plain `real[]` and needs no extension, so a server
 * without pgvector migrates all the same. The vectors themselves belong to the VectorStore:
 * the pgvector store creates its table and per-size HNSW indexes on demand, Qdrant its
 * collections.
 */
export class KbVectors1763900010000 implements MigrationInterface {
  name = 'KbVectors1763900010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE embedding_cache (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        model text NOT NULL,
        content_hash bytea NOT NULL,
        vector real[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, model, content_hash)
      )`);
    // Which model (provider/model@size) and vector size the knowledge base was embedded with:
    // fixed by its first embedded document, so vectors of two models are never mixed.
    await q.query(`ALTER TABLE knowledge_bases ADD COLUMN embedding_dimensions integer`);
    await q.query(`ALTER TABLE knowledge_bases ADD COLUMN embedding_signature text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE knowledge_bases DROP COLUMN embedding_signature');
    await q.query('ALTER TABLE knowledge_bases DROP COLUMN embedding_dimensions');
    await q.query('DROP TABLE embedding_cache');
  }
}
