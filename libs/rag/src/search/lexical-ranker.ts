import type { DataSource } from 'typeorm';
import type { Ranked } from './fusion';

/** BM25 parameters of the classic settings for short documents (as in Anserini). */
const K1 = 0.9;
const B = 0.4;

/**
 * Lexical ranking with BM25 computed in SQL: the query's lexemes (stemmed and stop-worded in
 * the knowledge base's language, as the chunks were), read from the postings table (term
 * frequency and chunk length per lexeme and chunk), with document frequencies counted from the
 * same postings over the whole knowledge base and its average chunk length. (`ts_rank` has no
 * inverse document frequency.) A metadata filter narrows the chunks scored, not the statistics.
 */
export async function rankLexically(
  dataSource: DataSource,
  input: {
    tenantId: string;
    knowledgeBaseId: string;
    language: string;
    query: string;
    limit: number;
    filter?: Record<string, unknown>;
  },
): Promise<Ranked[]> {
  const rows: { id: string; score: number }[] = await dataSource.query(
    `WITH terms AS (
       SELECT DISTINCT u.lexeme FROM unnest(to_tsvector($3::regconfig, $4)) u
     ), stats AS (
       SELECT chunk_count::float8 AS n,
              CASE WHEN chunk_count > 0 THEN total_length::float8 / chunk_count ELSE 1 END AS avgdl
         FROM knowledge_bases WHERE id = $1 AND tenant_id = $2
     ), postings AS (
       SELECT p.lexeme, p.chunk_id, p.tf::float8 AS tf, p.length
         FROM kb_postings p
        WHERE p.knowledge_base_id = $1 AND p.lexeme IN (SELECT lexeme FROM terms)
     ), df AS (
       SELECT lexeme, count(*)::float8 AS df FROM postings GROUP BY lexeme
     ), allowed AS (
       SELECT c.id FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
        WHERE $8::jsonb IS NOT NULL AND c.knowledge_base_id = $1 AND d.metadata @> $8::jsonb
     )
     SELECT p.chunk_id AS id, sum(
              ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
              * p.tf * ($5::float8 + 1) / (p.tf + $5::float8 * (1 - $6::float8 + $6::float8 * p.length / s.avgdl))
            ) AS score
       FROM postings p JOIN df USING (lexeme) CROSS JOIN stats s
      WHERE $8::jsonb IS NULL OR p.chunk_id IN (SELECT id FROM allowed)
      GROUP BY p.chunk_id
      ORDER BY score DESC, p.chunk_id
      LIMIT $7`,
    [
      input.knowledgeBaseId,
      input.tenantId,
      input.language,
      input.query,
      K1,
      B,
      input.limit,
      input.filter ? JSON.stringify(input.filter) : null,
    ],
  );
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
}
