import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, Metrics } from '@parley/core';
import type { CostSubject } from '@parley/cost';
import { DataSource } from 'typeorm';
import { Embedder } from '../embedding/embedder.service';
import {
  KnowledgeBaseAccess,
  type KnowledgeBaseActor,
} from '../knowledge-bases/knowledge-base-access.service';
import {
  KnowledgeBasesService,
  type KnowledgeBaseView,
} from '../knowledge-bases/knowledge-bases.service';
import { VectorStore } from '../ports/vector-store.port';
import { refuseNul, VectorSearchFailedError, VectorSearchUnavailableError } from '../rag.errors';
import { maximalMarginalRelevance, type Ranked, reciprocalRankFusion } from './fusion';
import { rankLexically } from './lexical-ranker';

export type SearchMode = 'hybrid' | 'lexical' | 'vector';

export interface SearchResult {
  chunkId: string;
  documentId: string;
  title: string;
  metadata: Record<string, unknown>;
  ordinal: number;
  start: number;
  end: number;
  text: string;
  /** BM25 (lexical), cosine similarity (vector), or the fused RRF score (hybrid). */
  score: number;
  /** 1-based ranks in the lexical and vector rankings (hybrid only; absent where not found). */
  ranks?: { lexical?: number; vector?: number };
}

export interface SearchResponse {
  /** The mode that actually ran. */
  mode: SearchMode;
  vectorStore: string;
  /** Why the mode that ran is not the one asked for, when it is not. */
  notice?: string;
  results: SearchResult[];
}

export interface SearchInput {
  query: string;
  topK: number;
  mode?: SearchMode;
  /** Only chunks of documents whose metadata contains all of these key/values. */
  filter?: Record<string, unknown>;
  minScore?: number;
  /** MMR λ in [0, 1]: 1 is plain relevance; lower trades relevance for variety. */
  diversity?: number;
}

const round = (n: number) => Math.round(n * 1_000_000) / 1_000_000;

/**
 * Search over one knowledge base (and the chat's retrieval over several): lexical BM25, vector
 * (cosine, through the VectorStore), or hybrid, which fuses both rankings by reciprocal rank and
 * may then diversify them by MMR. Without a vector store or an embedding model, hybrid runs as
 * lexical and says so; asking for vector search then is an error that says what to configure.
 */
@Injectable()
export class SearchService {
  private readonly logger = new Logger('Search');

  private readonly duration;

  constructor(
    private readonly dataSource: DataSource,
    private readonly knowledgeBases: KnowledgeBasesService,
    private readonly embedder: Embedder,
    private readonly vectors: VectorStore,
    private readonly config: AppConfig,
    private readonly access: KnowledgeBaseAccess,
    metrics: Metrics,
  ) {
    this.duration = metrics.histogram({
      name: 'parley_retrieval_duration_seconds',
      help: 'Search in one knowledge base, ranking and hydration included, by the mode that answered.',
      labelNames: ['mode'],
    });
  }

  /**
   * The passages for a chat turn: the best chunks of several knowledge bases (each ranked in
   * the best mode it supports, merged by reciprocal rank) and a fingerprint of their versions,
   * for the response cache. Only knowledge bases the subject may read now are searched (its
   * user's access, or its API key's creator's, read at this moment); the others are `skipped`.
   */
  async retrieve(
    subject: CostSubject,
    knowledgeBaseIds: string[],
    query: string,
    topK: number,
  ): Promise<{
    passages: (SearchResult & { knowledgeBaseId: string })[];
    versions: string;
    /** Knowledge bases asked for that the subject may not read (any more), or gone. */
    skipped: string[];
  }> {
    const readable = await this.knowledgeBases.readable(
      await this.access.forSubject(subject),
      knowledgeBaseIds,
    );
    const searched = new Set(readable.map((kb) => kb.id));
    const found = await Promise.all(
      readable.map(async (kb) => {
        const { results } = await this.searchIn(subject, kb, { query, topK });
        return { kb, results };
      }),
    );
    const byId = new Map(
      found.flatMap((f) => f.results.map((r) => [r.chunkId, { ...r, knowledgeBaseId: f.kb.id }])),
    );
    const merged = reciprocalRankFusion(
      found.map((f) => f.results.map((r) => ({ id: r.chunkId, score: r.score }))),
      this.config.rag.rrfK,
    );
    return {
      passages: merged.slice(0, topK).map((m) => byId.get(m.id)!),
      versions: found.map((f) => `${f.kb.id}@${f.kb.version}`).join(','),
      skipped: [...new Set(knowledgeBaseIds)].filter((id) => !searched.has(id)),
    };
  }

  /** Search in one knowledge base the actor may read (404 otherwise), charged to `subject`. */
  async search(
    actor: KnowledgeBaseActor,
    subject: CostSubject,
    knowledgeBaseId: string,
    input: SearchInput,
  ): Promise<SearchResponse> {
    const kb = await this.knowledgeBases.get(actor, knowledgeBaseId);
    return this.searchIn(subject, kb, input);
  }

  private async searchIn(
    subject: CostSubject,
    kb: KnowledgeBaseView,
    input: SearchInput,
  ): Promise<SearchResponse> {
    const started = performance.now();
    const response = await this.rank(subject, kb, input);
    this.duration.observe({ mode: response.mode }, (performance.now() - started) / 1000);
    return response;
  }

  private async rank(
    subject: CostSubject,
    kb: KnowledgeBaseView,
    input: SearchInput,
  ): Promise<SearchResponse> {
    const requested = input.mode ?? 'hybrid';
    // An empty filter is no filter; NUL cannot be compared by PostgreSQL's jsonb.
    if (input.filter && Object.keys(input.filter).length === 0)
      input = { ...input, filter: undefined };
    refuseNul('filter', input.filter);
    let unavailable = this.whyNoVectors(kb);
    if (requested === 'vector' && unavailable) throw new VectorSearchUnavailableError(unavailable);
    let mode: SearchMode = unavailable ? 'lexical' : requested;
    const diversify = input.diversity !== undefined && input.diversity < 1;
    // Fusion and MMR choose among more candidates than they return.
    const candidates =
      mode === 'hybrid' || diversify
        ? Math.max(input.topK * (diversify ? 4 : 1), this.config.rag.hybridCandidates)
        : input.topK;

    const vectorRanking =
      mode === 'lexical'
        ? undefined
        : this.rankByVector(subject, kb, input, candidates).catch((error: Error) => {
            // The embedding model or the store failed: hybrid (and chat) carry on lexically.
            this.logger.warn(`vector search failed, answering lexically: ${error.message}`);
            if (mode === 'vector') throw new VectorSearchFailedError();
            mode = 'lexical';
            unavailable =
              'Vector search failed just now (the embedding model or vector store did not answer); results are lexical only.';
            return undefined;
          });
    const [lexical, vector] = await Promise.all([
      mode === 'vector'
        ? undefined
        : rankLexically(this.dataSource, {
            tenantId: subject.tenantId,
            knowledgeBaseId: kb.id,
            language: kb.language,
            query: input.query,
            limit: candidates,
            filter: input.filter,
          }),
      vectorRanking,
    ]);

    let ranked: (Ranked & { ranks?: SearchResult['ranks'] })[];
    if (mode === 'hybrid') {
      ranked = reciprocalRankFusion([lexical!, vector!], this.config.rag.rrfK).map((f) => ({
        id: f.id,
        score: f.score,
        ranks: { lexical: f.ranks[0], vector: f.ranks[1] },
      }));
    } else ranked = (lexical ?? vector)!;

    let results = await this.hydrate(subject.tenantId, kb.id, ranked);
    if (input.minScore !== undefined) results = results.filter((r) => r.score >= input.minScore!);
    results = diversify
      ? maximalMarginalRelevance(results, input.topK, input.diversity!)
      : results.slice(0, input.topK);
    return {
      mode,
      vectorStore: this.vectors.name,
      ...(unavailable && requested !== 'lexical' ? { notice: unavailable } : {}),
      results: results.map((r) => ({ ...r, score: round(r.score) })),
    };
  }

  /** Why this knowledge base cannot be searched by vector, or undefined when it can. */
  private whyNoVectors(kb: KnowledgeBaseView): string | undefined {
    if (this.vectors.name === 'none')
      return 'Vector search is off on this server (no vector store: set VECTOR_STORE, or use a database with pgvector); results are lexical only.';
    const model = this.embedder.modelFor(kb.embeddingModel);
    if (!model)
      return 'No embedding model is configured (EMBEDDING_MODEL), so results are lexical only.';
    const signature = this.embedder.signature(model);
    if (!signature)
      return `The embedding model "${model}" of this knowledge base is not configured any more, so results are lexical only.`;
    if (kb.embeddingSignature === null)
      return 'This knowledge base has no embedded documents yet, so results are lexical only.';
    if (kb.embeddingSignature !== signature)
      return `This knowledge base was embedded with ${kb.embeddingSignature}, but the embedding model is now ${signature}, so results are lexical only. Create a new knowledge base for the new model.`;
    return undefined;
  }

  private async rankByVector(
    subject: CostSubject,
    kb: KnowledgeBaseView,
    input: SearchInput,
    limit: number,
  ): Promise<Ranked[]> {
    const documentIds = input.filter
      ? await this.documentsMatching(kb.id, input.filter)
      : undefined;
    if (documentIds?.length === 0) return [];
    const vector = await this.embedder.embedQuery(
      subject,
      this.embedder.modelFor(kb.embeddingModel)!,
      input.query,
    );
    const hits = await this.vectors.search({
      tenantId: subject.tenantId,
      knowledgeBaseId: kb.id,
      vector,
      topK: limit,
      documentIds,
    });
    return hits.map((h) => ({ id: h.chunkId, score: h.score }));
  }

  private async documentsMatching(
    knowledgeBaseId: string,
    filter: Record<string, unknown>,
  ): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM kb_documents WHERE knowledge_base_id = $1 AND metadata @> $2::jsonb`,
      [knowledgeBaseId, JSON.stringify(filter)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The chunks behind ranked ids, in rank order. Read from Postgres (the source of truth), scoped
   * by tenant and knowledge base, so a stale vector of a deleted chunk never surfaces.
   */
  private async hydrate(
    tenantId: string,
    knowledgeBaseId: string,
    ranked: (Ranked & { ranks?: SearchResult['ranks'] })[],
  ): Promise<SearchResult[]> {
    if (ranked.length === 0) return [];
    const rows: Omit<SearchResult, 'score' | 'ranks'>[] = await this.dataSource.query(
      `SELECT c.id AS "chunkId", c.document_id AS "documentId", d.title, d.metadata, c.ordinal,
              c.start_offset AS start, c.end_offset AS "end", c.text
         FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
        WHERE c.id = ANY($1::uuid[]) AND c.tenant_id = $2 AND c.knowledge_base_id = $3`,
      [ranked.map((r) => r.id), tenantId, knowledgeBaseId],
    );
    const byId = new Map(rows.map((r) => [r.chunkId, r]));
    return ranked.flatMap((r) => {
      const row = byId.get(r.id);
      return row ? [{ ...row, score: r.score, ...(r.ranks ? { ranks: r.ranks } : {}) }] : [];
    });
  }
}
