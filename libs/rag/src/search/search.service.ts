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
 * Lexical search with BM25 computed in SQL: the query's lexemes (stemmed and stop-worded in
 * the knowledge base's language, as the chunks were), read from the postings table (term
 * frequency and chunk length per lexeme and chunk), with document frequencies counted from the
 * same postings and the knowledge base's average chunk length. (`ts_rank` has no inverse
 * document frequency.)
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly knowledgeBases: KnowledgeBasesService,
  ) {}

  /**
   * The passages for a chat turn: the best chunks of several knowledge bases (merged by score)
   * and a fingerprint of their versions, for the response cache.
   */
  async retrieve(
    tenantId: string,
    knowledgeBaseIds: string[],
    query: string,
    topK: number,
  ): Promise<{ passages: (SearchResult & { knowledgeBaseId: string })[]; versions: string }> {
    const found = await Promise.all(
      knowledgeBaseIds.map(async (id) => ({
        id,
        version: (await this.knowledgeBases.get(tenantId, id)).version,
        results: (await this.search(tenantId, id, { query, topK })).results,
      })),
    );
    const passages = found
      .flatMap((f) => f.results.map((r) => ({ ...r, knowledgeBaseId: f.id })))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    return { passages, versions: found.map((f) => `${f.id}@${f.version}`).join(',') };
  }

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
       ), postings AS (
         SELECT p.lexeme, p.chunk_id, p.tf::float8 AS tf, p.length
           FROM kb_postings p
          WHERE p.knowledge_base_id = $1 AND p.lexeme IN (SELECT lexeme FROM terms)
       ), df AS (
         SELECT lexeme, count(*)::float8 AS df FROM postings GROUP BY lexeme
       ), scored AS (
         SELECT p.chunk_id AS id, sum(
                  ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
                  * p.tf * ($5::float8 + 1) / (p.tf + $5::float8 * (1 - $6::float8 + $6::float8 * p.length / s.avgdl))
                ) AS score
           FROM postings p JOIN df USING (lexeme) CROSS JOIN stats s
          GROUP BY p.chunk_id
          ORDER BY score DESC
          LIMIT $7
       )
       SELECT c.id AS "chunkId", c.document_id AS "documentId", d.title, d.metadata, c.ordinal,
              c.start_offset AS start, c.end_offset AS "end", c.text, s.score
         FROM scored s JOIN kb_chunks c ON c.id = s.id JOIN kb_documents d ON d.id = c.document_id
        WHERE c.tenant_id = $2
        ORDER BY s.score DESC, c.id`,
      [knowledgeBaseId, tenantId, kb.language, input.query, K1, B, input.topK],
    );
    const results = rows
      .map((r) => ({ ...r, score: Math.round(Number(r.score) * 10_000) / 10_000 }))
      .filter((r) => input.minScore === undefined || r.score >= input.minScore);
    return { mode: 'lexical', results };
  }
}
