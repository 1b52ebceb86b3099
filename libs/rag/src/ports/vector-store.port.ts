/** One chunk's embedding, with the ids every search and delete filters on. */
export interface VectorPoint {
  chunkId: string;
  tenantId: string;
  knowledgeBaseId: string;
  documentId: string;
  vector: number[];
}

export interface VectorQuery {
  tenantId: string;
  knowledgeBaseId: string;
  vector: number[];
  topK: number;
  /** Only these documents (a metadata filter already resolved to ids); absent means all. */
  documentIds?: string[];
}

/** A nearest chunk; `score` is cosine similarity in [-1, 1], higher is closer. */
export interface VectorHit {
  chunkId: string;
  score: number;
}

/**
 * Where chunk embeddings live and are searched (cosine distance). Chunk text and offsets stay in
 * Postgres, the source of truth for citations; a store holds only ids and vectors. Every call
 * is scoped by tenant and knowledge base, so a store can never return another tenant's chunk.
 * Writes are idempotent: upserting a chunk id again replaces its vector.
 *
 * The abstract class is also the DI token.
 */
export abstract class VectorStore {
  /** `pgvector`, `qdrant` or `none`, reported by search responses. */
  abstract readonly name: string;

  /** Checks the store can be used (called at boot); throws a message an operator can act on. */
  abstract init(): Promise<void>;

  abstract upsert(points: VectorPoint[]): Promise<void>;

  abstract search(query: VectorQuery): Promise<VectorHit[]>;

  /** Removes every vector of a document (before re-ingestion, or when it is deleted). */
  abstract deleteDocument(
    tenantId: string,
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<void>;

  abstract deleteKnowledgeBase(tenantId: string, knowledgeBaseId: string): Promise<void>;

  /** How many vectors a knowledge base has. */
  abstract count(tenantId: string, knowledgeBaseId: string): Promise<number>;
}
