import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { CostService, type CostSubject } from '@parley/cost';
import { countTextTokens, type EmbeddingResult, LlmGateway, ModelRouter } from '@parley/llm';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Embeddings for retrieval, through the LLM gateway and the cost service. Vectors are cached by
 * content hash per tenant and model (the `embedding_cache` table), so re-ingesting a document or
 * ingesting a chunk that exists elsewhere costs nothing; only misses are sent, in batches, each
 * batch admitted against the budgets and settled to the tokens the provider reports. Query
 * vectors are kept only in a small in-process LRU, so a repeated question costs nothing.
 */
@Injectable()
export class Embedder {
  private readonly recentQueries = new LRUCache<string, Promise<number[]>>({ max: 2000 });

  constructor(
    private readonly dataSource: DataSource,
    private readonly llm: LlmGateway,
    private readonly router: ModelRouter,
    private readonly cost: CostService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The embedding model a knowledge base uses: its own, else EMBEDDING_MODEL; undefined when
   * none is configured (retrieval is then lexical only).
   */
  modelFor(knowledgeBaseModel: string | null | undefined): string | undefined {
    if (!this.router.hasProviders) return undefined;
    return knowledgeBaseModel ?? this.config.llm.embeddingModel;
  }

  /**
   * What `model` resolves to now, as `provider/model` (plus `@size` with EMBEDDING_DIMENSIONS):
   * the cache key of its vectors, and what a knowledge base is pinned to. Undefined when the
   * name no longer resolves (removed from the configuration).
   */
  signature(model: string): string | undefined {
    try {
      const target = this.router.embeddingTarget(model);
      if (!target) return undefined;
      const d = this.router.embeddingDimensions;
      return `${target.provider}/${target.model}${d ? `@${d}` : ''}`;
    } catch {
      return undefined;
    }
  }

  async embed(
    subject: CostSubject,
    model: string,
    texts: string[],
    signal?: AbortSignal,
  ): Promise<number[][]> {
    const signature = this.signature(model)!;
    const hashes = texts.map(sha256);
    const found = await this.cached(subject.tenantId, signature, hashes);
    const missing = new Map<string, string>(); // hash hex → text, each distinct text once
    texts.forEach((text, i) => {
      const hex = hashes[i]!.toString('hex');
      if (!found.has(hex)) missing.set(hex, text);
    });
    const entries = [...missing.entries()];
    for (let i = 0; i < entries.length; i += this.config.rag.embedBatchSize) {
      const batch = entries.slice(i, i + this.config.rag.embedBatchSize);
      const { vectors } = await this.embedMetered(
        subject,
        model,
        batch.map(([, text]) => text),
        { signal },
      );
      batch.forEach(([hex], j) => found.set(hex, vectors[j]!));
      await this.remember(
        subject.tenantId,
        signature,
        batch.map(([hex]) => hex),
        vectors,
      );
    }
    return hashes.map((h) => found.get(h.toString('hex'))!);
  }

  /**
   * A query's vector. Queries skip the database cache: a repeat is caught by the in-process LRU
   * (which also holds calls in flight, so one question searched over several knowledge bases is
   * embedded and paid for once), and most questions are new.
   */
  embedQuery(subject: CostSubject, model: string, text: string): Promise<number[]> {
    const key = `${subject.tenantId}\u0000${this.signature(model)}\u0000${text}`;
    let vector = this.recentQueries.get(key);
    if (!vector) {
      vector = this.embedMetered(subject, model, [text]).then((r) => r.vectors[0]!);
      this.recentQueries.set(key, vector);
      vector.catch(() => this.recentQueries.delete(key));
    }
    return vector;
  }

  /**
   * One embedding request, reserved before and settled after like any paid call (also what
   * /v1/embeddings answers with): what answered, the vectors, and the tokens.
   */
  async embedMetered(
    subject: CostSubject,
    model: string,
    texts: string[],
    options: { signal?: AbortSignal; requestId?: string } = {},
  ): Promise<EmbeddingResult> {
    const priced = this.router.embeddingTarget(model)!.model;
    const admission = await this.cost.admitUnits({
      subject,
      requestId: options.requestId,
      kind: 'embedding',
      model: priced,
      quantity: texts.reduce((n, t) => n + countTextTokens(priced, t), 0),
    });
    let result: EmbeddingResult;
    try {
      result = await this.llm.embedWith(model, texts, options.signal);
    } catch (error) {
      await this.cost.settle(admission, { provider: null, model: priced, status: 'failed' });
      throw error;
    }
    await this.cost.settle(admission, {
      provider: result.provider,
      model: result.model,
      promptTokens: result.promptTokens,
      status: 'complete',
    });
    return result;
  }

  private async cached(
    tenantId: string,
    model: string,
    hashes: Buffer[],
  ): Promise<Map<string, number[]>> {
    const rows: { content_hash: Buffer; vector: number[] }[] = await this.dataSource.query(
      `SELECT content_hash, vector FROM embedding_cache
        WHERE tenant_id = $1 AND model = $2 AND content_hash = ANY($3::bytea[])`,
      [tenantId, model, hashes],
    );
    return new Map(rows.map((r) => [r.content_hash.toString('hex'), r.vector.map(Number)]));
  }

  private async remember(
    tenantId: string,
    model: string,
    hexes: string[],
    vectors: number[][],
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO embedding_cache (tenant_id, model, content_hash, vector)
       SELECT $1, $2, decode(x.h, 'hex'), x.v::real[]
         FROM unnest($3::text[], $4::text[]) AS x(h, v)
       ON CONFLICT DO NOTHING`,
      [tenantId, model, hexes, vectors.map((v) => `{${v.join(',')}}`)],
    );
  }
}
