import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  type VectorHit,
  type VectorPoint,
  type VectorQuery,
  VectorStore,
} from '../ports/vector-store.port';

const BATCH = 500;
const HNSW_MAX_DIMENSIONS = 2000;

/** `[0.1,0.2,…]`, pgvector's text form. */
const literal = (v: number[]) => `[${v.join(',')}]`;

/** A vector size as an SQL literal: it is part of the index expression, so it cannot be a parameter. */
function dimsOf(vector: number[]): number {
  const d = vector.length;
  if (!Number.isInteger(d) || d < 1 || d > 16_000)
    throw new Error(`a vector of ${d} dimensions cannot be stored (pgvector takes 1 to 16000)`);
  return d;
}

/**
 * The nearest chunks of one tenant's knowledge base, in one statement. The function's own SET
 * clause turns on pgvector's iterative index scan (≥ 0.8) for this call only, so the scope
 * filters cannot starve the result list, without a transaction (which on the embedded PGlite
 * would hold its single session across round trips). The vector size is spliced in as a number:
 * it is part of the per-size index expression.
 */
const NEAREST_CHUNKS_FUNCTION = `
  CREATE OR REPLACE FUNCTION parley_nearest_chunks(
    q text, d integer, t uuid, k uuid, docs uuid[], n integer, ef integer
  ) RETURNS TABLE (chunk_id uuid, distance float8)
  LANGUAGE plpgsql
  SET hnsw.iterative_scan = 'relaxed_order'
  AS $fn$
  BEGIN
    PERFORM set_config('hnsw.ef_search', ef::text, true);
    RETURN QUERY EXECUTE format(
      'SELECT v.chunk_id, (v.embedding::vector(%1$s) <=> $1::vector(%1$s))::float8
         FROM kb_vectors v
        WHERE v.dims = %1$s AND v.tenant_id = $2 AND v.knowledge_base_id = $3
          AND ($4::uuid[] IS NULL OR v.document_id = ANY($4))
        ORDER BY v.embedding::vector(%1$s) <=> $1::vector(%1$s)
        LIMIT $5', d::integer)
      USING q, t, k, docs, n;
  END
  $fn$`;

/**
 * Chunk vectors in pgvector, in the same database as the chunks. Vectors of every size share one
 * table (`dims` says which) with a partial HNSW index (cosine) per size, created the first time
 * that size is written, so a migration never has to know the embedding model.
 */
export class PgvectorStore extends VectorStore {
  readonly name = 'pgvector';
  private readonly logger = new Logger('VectorStore');
  private readonly indexed = new Set<number>();

  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /** Whether the server can load pgvector (PGlite can; many servers cannot). */
  static async available(dataSource: DataSource): Promise<boolean> {
    const rows: unknown[] = await dataSource.query(
      `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
    );
    return rows.length > 0;
  }

  async init(): Promise<void> {
    if (!(await PgvectorStore.available(this.dataSource)))
      throw new Error(
        'VECTOR_STORE is pgvector, but this PostgreSQL server has no pgvector extension. Install it on the server (e.g. the postgresql-<version>-pgvector package), or set VECTOR_STORE=qdrant with QDRANT_URL, or VECTOR_STORE=none for lexical search only.',
      );
    try {
      await this.once(`CREATE EXTENSION IF NOT EXISTS vector`);
    } catch (error) {
      throw new Error(
        `pgvector is available on this PostgreSQL server, but it could not be enabled (${(error as Error).message}). Have an administrator run CREATE EXTENSION vector in this database, or set VECTOR_STORE=qdrant or none.`,
        { cause: error },
      );
    }
    const [{ version }]: { version: string }[] = await this.dataSource.query(
      `SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'`,
    );
    const [major, minor] = version.split('.').map(Number);
    if (major! === 0 && minor! < 8)
      throw new Error(
        `pgvector ${version} is too old: Parley needs 0.8 or newer (iterative index scans keep tenant-filtered searches complete). Run ALTER EXTENSION vector UPDATE after upgrading the package, or set VECTOR_STORE=qdrant or none.`,
      );
    await this.once(`
      CREATE TABLE IF NOT EXISTS kb_vectors (
        chunk_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        knowledge_base_id uuid NOT NULL,
        document_id uuid NOT NULL,
        dims integer NOT NULL,
        embedding vector NOT NULL
      )`);
    await this.once(
      `CREATE INDEX IF NOT EXISTS kb_vectors_scope ON kb_vectors (knowledge_base_id, tenant_id, document_id)`,
    );
    await this.dataSource.query(`SELECT '[1]'::vector`); // loads the library, so its settings exist
    try {
      await this.dataSource.query(NEAREST_CHUNKS_FUNCTION);
    } catch (error) {
      // Two instances replacing the function at once: "tuple concurrently updated". Once more.
      if ((error as { code?: string }).code !== 'XX000') throw error;
      await this.dataSource.query(NEAREST_CHUNKS_FUNCTION);
    }
  }

  async upsert(points: VectorPoint[]): Promise<void> {
    for (const d of new Set(points.map((p) => dimsOf(p.vector)))) await this.ensureIndex(d);
    for (let i = 0; i < points.length; i += BATCH) {
      const batch = points.slice(i, i + BATCH);
      await this.dataSource.query(
        `INSERT INTO kb_vectors (chunk_id, tenant_id, knowledge_base_id, document_id, dims, embedding)
         SELECT x.c, x.t, x.k, x.d, x.n, x.v::vector
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[])
                  AS x(c, t, k, d, n, v)
         ON CONFLICT (chunk_id) DO UPDATE SET
           tenant_id = excluded.tenant_id, knowledge_base_id = excluded.knowledge_base_id,
           document_id = excluded.document_id, dims = excluded.dims, embedding = excluded.embedding`,
        [
          batch.map((p) => p.chunkId),
          batch.map((p) => p.tenantId),
          batch.map((p) => p.knowledgeBaseId),
          batch.map((p) => p.documentId),
          batch.map((p) => p.vector.length),
          batch.map((p) => literal(p.vector)),
        ],
      );
    }
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    const rows: { chunk_id: string; distance: number }[] = await this.dataSource.query(
      `SELECT chunk_id, distance FROM parley_nearest_chunks($1, $2, $3, $4, $5, $6, $7)`,
      [
        literal(query.vector),
        dimsOf(query.vector),
        query.tenantId,
        query.knowledgeBaseId,
        query.documentIds ?? null,
        query.topK,
        Math.min(1000, Math.max(40, query.topK * 2)),
      ],
    );
    // relaxed_order may return neighbours slightly out of order.
    return rows
      .map((r) => ({ chunkId: r.chunk_id, score: 1 - Number(r.distance) }))
      .sort((a, b) => b.score - a.score);
  }

  async deleteDocument(
    tenantId: string,
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM kb_vectors WHERE tenant_id = $1 AND knowledge_base_id = $2 AND document_id = $3`,
      [tenantId, knowledgeBaseId, documentId],
    );
  }

  async deleteKnowledgeBase(tenantId: string, knowledgeBaseId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM kb_vectors WHERE tenant_id = $1 AND knowledge_base_id = $2`,
      [tenantId, knowledgeBaseId],
    );
  }

  async count(tenantId: string, knowledgeBaseId: string): Promise<number> {
    const [row]: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM kb_vectors WHERE tenant_id = $1 AND knowledge_base_id = $2`,
      [tenantId, knowledgeBaseId],
    );
    return row!.n;
  }

  /** The HNSW index for one vector size, built (or extended) by the ingestion job, never at boot. */
  private async ensureIndex(d: number): Promise<void> {
    if (this.indexed.has(d)) return;
    if (d > HNSW_MAX_DIMENSIONS) {
      // pgvector's HNSW takes at most 2000 dimensions of `vector`: such vectors are searched
      // exactly (slower on large knowledge bases; EMBEDDING_DIMENSIONS can ask for fewer).
      this.logger.warn(
        `${d}-dimension vectors are beyond HNSW's ${HNSW_MAX_DIMENSIONS}: they are searched without an index; set EMBEDDING_DIMENSIONS to ${HNSW_MAX_DIMENSIONS} or fewer for indexed search`,
      );
      this.indexed.add(d);
      return;
    }
    await this.once(
      `CREATE INDEX IF NOT EXISTS kb_vectors_hnsw_${d} ON kb_vectors
         USING hnsw ((embedding::vector(${d})) vector_cosine_ops) WHERE dims = ${d}`,
    );
    this.indexed.add(d);
    this.logger.log(`HNSW index for ${d}-dimension vectors is in place`);
  }

  /** DDL that several instances may run at once: losing the race to create it is fine. */
  private async once(sql: string): Promise<void> {
    try {
      await this.dataSource.query(sql);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Unique violations and "already exists" from a concurrent CREATE.
      if (!['23505', '42P07', '42710'].includes(code ?? '')) throw error;
    }
  }
}
