import { Injectable } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { CostService, type CostSubject } from '@parley/cost';
import { countTextTokens, LlmGateway, ModelRouter } from '@parley/llm';
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
  private readonly recentQueries = new LRUCache<string, number[]>({ max: 2000 });

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

  /** Checks a model name can embed (for knowledge-base settings); throws UNKNOWN_MODEL. */
  check(model: string): void {
    this.router.embeddingTarget(model);
  }

  async embed(subject: CostSubject, model: string, texts: string[]): Promise<number[][]> {
    const target = this.router.embeddingTarget(model)!;
    const cacheModel = `${target.provider}/${target.model}${this.dimensionsSuffix()}`;
    const hashes = texts.map(sha256);
    const found = await this.cached(subject.tenantId, cacheModel, hashes);
    const missing = new Map<string, string>(); // hash hex → text, each distinct text once
    texts.forEach((text, i) => {
      const hex = hashes[i]!.toString('hex');
      if (!found.has(hex)) missing.set(hex, text);
    });
    const entries = [...missing.entries()];
    for (let i = 0; i < entries.length; i += this.config.rag.embedBatchSize) {
      const batch = entries.slice(i, i + this.config.rag.embedBatchSize);
      const vectors = await this.paidEmbedding(
        subject,
        model,
        target.model,
        batch.map(([, text]) => text),
      );
      batch.forEach(([hex], j) => found.set(hex, vectors[j]!));
      await this.remember(
        subject.tenantId,
        cacheModel,
        batch.map(([hex]) => hex),
        vectors,
      );
    }
    return hashes.map((h) => found.get(h.toString('hex'))!);
  }

  async embedQuery(subject: CostSubject, model: string, text: string): Promise<number[]> {
    const key = `${subject.tenantId}\u0000${model}\u0000${text}`;
    const hit = this.recentQueries.get(key);
    if (hit) return hit;
    // Queries skip the database cache: a repeat is caught here, and most questions are new.
    const [vector] = await this.paidEmbedding(
      subject,
      model,
      this.router.embeddingTarget(model)!.model,
      [text],
    );
    this.recentQueries.set(key, vector!);
    return vector!;
  }

  /** One embedding request, reserved before and settled after like any paid call. */
  private async paidEmbedding(
    subject: CostSubject,
    model: string,
    pricedModel: string,
    texts: string[],
  ): Promise<number[][]> {
    const admission = await this.cost.admitUnits({
      subject,
      kind: 'embedding',
      model: pricedModel,
      quantity: texts.reduce((n, t) => n + countTextTokens(pricedModel, t), 0),
    });
    try {
      const result = await this.llm.embedWith(model, texts);
      await this.cost.settle(admission, {
        provider: result.provider,
        model: result.model,
        promptTokens: result.promptTokens,
        status: 'complete',
      });
      return result.vectors;
    } catch (error) {
      await this.cost.settle(admission, { provider: null, model: pricedModel, status: 'failed' });
      throw error;
    }
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

  private dimensionsSuffix(): string {
    const d = this.router.embeddingDimensions;
    return d ? `@${d}` : '';
  }
}
