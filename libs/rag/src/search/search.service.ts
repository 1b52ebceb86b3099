import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KnowledgeBasesService } from '../knowledge-bases/knowledge-bases.service';

export interface SearchResult {
  chunkId: string;
  documentId: string;
  title: string;
  metadata: Record<string, unknown>;
  ordinal: number;
  start: number;
  end: number;
  text: string;
  score: number;
}

export interface SearchResponse {
  /** The mode that actually ran: lexical until vector search lands. */
  mode: 'lexical';
  results: SearchResult[];
}

/** BM25 parameters of the classic settings for short documents (as in Anserini). */
const K1 = 0.9;
const B = 0.4;

/**
 * Lexical search with BM25 computed in SQL from PostgreSQL's text-search vectors: the query's
 * lexemes (stemmed and stop-worded in the knowledge base's language), their document
 * frequencies from the GIN index, each chunk's term frequencies from its tsvector, and the
 * knowledge base's average chunk length. (`ts_rank` has no inverse document frequency.)
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly knowledgeBases: KnowledgeBasesService,
  ) {}

  async search(
    tenantId: string,
    knowledgeBaseId: string,
    input: { query: string; topK: number; minScore?: number },
  ): Promise<SearchResponse> {
    const kb = await this.knowledgeBases.get(tenantId, knowledgeBaseId);
    const rows: (Omit<SearchResult, 'score'> & { score: number })[] = await this.dataSource.query(
      `WITH terms AS (
         SELECT DISTINCT u.lexeme FROM unnest(to_tsvector($3::regconfig, $4)) u
       ), stats AS (
         SELECT chunk_count::float8 AS n,
                CASE WHEN chunk_count > 0 THEN total_length::float8 / chunk_count ELSE 1 END AS avgdl
           FROM knowledge_bases WHERE id = $1 AND tenant_id = $2
       ), query AS (
         SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS q FROM terms
       ), df AS (
         SELECT t.lexeme, count(c.id)::float8 AS df
           FROM terms t LEFT JOIN kb_chunks c
             ON c.knowledge_base_id = $1 AND c.tsv @@ to_tsquery('simple', quote_literal(t.lexeme))
          GROUP BY t.lexeme
       ), scored AS (
         SELECT c.id, sum(
                  ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
                  * tf.tf * ($5::float8 + 1) / (tf.tf + $5::float8 * (1 - $6::float8 + $6::float8 * c.length / s.avgdl))
                ) AS score
           FROM kb_chunks c
           CROSS JOIN stats s
           CROSS JOIN LATERAL (
             SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS tf
               FROM unnest(c.tsv) u WHERE u.lexeme IN (SELECT lexeme FROM terms)
           ) tf
           JOIN df ON df.lexeme = tf.lexeme
          WHERE c.knowledge_base_id = $1 AND c.tenant_id = $2 AND c.tsv @@ (SELECT q FROM query)
          GROUP BY c.id
          ORDER BY score DESC
          LIMIT $7
       )
       SELECT c.id AS "chunkId", c.document_id AS "documentId", d.title, d.metadata, c.ordinal,
              c.start_offset AS start, c.end_offset AS "end", c.text, s.score
         FROM scored s JOIN kb_chunks c ON c.id = s.id JOIN kb_documents d ON d.id = c.document_id
        ORDER BY s.score DESC, c.id`,
      [knowledgeBaseId, tenantId, kb.language, input.query, K1, B, input.topK],
    );
    const results = rows
      .map((r) => ({ ...r, score: Math.round(Number(r.score) * 10_000) / 10_000 }))
      .filter((r) => input.minScore === undefined || r.score >= input.minScore);
    return { mode: 'lexical', results };
  }
}
