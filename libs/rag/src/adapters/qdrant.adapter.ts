import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';

import {
  VectorStore,
  type VectorHit,
  type VectorPoint,
  type VectorQuery,
} from '../ports/vector-store.port';

export interface QdrantVectorStoreOptions {
  url: string;
  apiKey?: string;
  /** Collections are named `${collectionPrefix}_${vectorSize}`; default `parley_chunks`. */
  collectionPrefix?: string;
}

/** 256 × 1536 floats is ~4 MB of JSON, well under Qdrant's 32 MB default request limit. */
const UPSERT_BATCH = 256;
/** Boot must not hang for the client's default 300 s when the server does not answer. */
const REQUEST_TIMEOUT_MS = 10_000;
const INIT_TIMEOUT_MS = 10_000;
const INDEXED_FIELDS = ['tenant_id', 'knowledge_base_id', 'document_id'] as const;

type Filter = Schemas['Filter'];

/**
 * Chunk vectors in Qdrant, one collection per vector size (so changing the embedding model
 * never mixes dimensions), multitenant by payload: every point carries tenant, knowledge base
 * and document ids, and every read and delete filters on them.
 */
export class QdrantVectorStore extends VectorStore {
  readonly name = 'qdrant';

  private readonly client: QdrantClient;
  private readonly prefix: string;
  /** Collections known to exist, so upserts and searches skip the existence check. */
  private readonly ready = new Set<string>();
  /** Creations in flight, so concurrent upserts in this process create a collection once. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(
    private readonly options: QdrantVectorStoreOptions,
    client?: QdrantClient,
  ) {
    super();
    this.prefix = options.collectionPrefix ?? 'parley_chunks';
    // The compatibility probe would fire an unawaited request at construction; init() is the
    // one place that talks to the server at boot and reports failure.
    this.client =
      client ??
      new QdrantClient({
        url: options.url,
        apiKey: options.apiKey,
        checkCompatibility: false,
        // A hung Qdrant fails a search in seconds (and hybrid answers lexically), not minutes.
        timeout: REQUEST_TIMEOUT_MS,
      });
  }

  async init(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer in ${INIT_TIMEOUT_MS / 1000} s`)),
        INIT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.client.getCollections(), timeout]);
    } catch (error) {
      throw new Error(
        `Qdrant at ${this.safeUrl()} did not answer (${this.reason(error)}); ` +
          'check QDRANT_URL and QDRANT_API_KEY, or set VECTOR_STORE=pgvector.',
        // The client's errors carry the response, never the request headers with the key.
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    // The Query API (1.10) and tenant-optimised payload indexes (1.11) are used.
    const { version } = await this.client.versionInfo();
    const [major, minor] = version.split('.').map(Number);
    if (major! < 1 || (major === 1 && minor! < 11))
      throw new Error(
        `Qdrant at ${this.safeUrl()} is version ${version}; Parley needs 1.11 or newer. Upgrade Qdrant, or set VECTOR_STORE=pgvector.`,
      );
  }

  async upsert(points: VectorPoint[]): Promise<void> {
    const bySize = new Map<number, VectorPoint[]>();
    for (const point of points) {
      if (point.vector.length === 0) throw new Error(`Chunk ${point.chunkId} has an empty vector`);
      const group = bySize.get(point.vector.length) ?? [];
      group.push(point);
      bySize.set(point.vector.length, group);
    }
    for (const [size, group] of bySize) {
      const collection = await this.ensureCollection(size);
      for (let i = 0; i < group.length; i += UPSERT_BATCH) {
        // wait: true so a finished ingestion job is searchable at once; the chunk id is the
        // point id, so a retried job replaces rather than duplicates.
        await this.client.upsert(collection, {
          wait: true,
          points: group.slice(i, i + UPSERT_BATCH).map((p) => ({
            id: p.chunkId,
            vector: p.vector,
            payload: {
              tenant_id: p.tenantId,
              knowledge_base_id: p.knowledgeBaseId,
              document_id: p.documentId,
            },
          })),
        });
      }
    }
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.topK <= 0 || query.vector.length === 0) return [];
    // An empty list is "none of these documents", not "no restriction".
    if (query.documentIds && query.documentIds.length === 0) return [];
    const collection = this.collectionName(query.vector.length);
    if (!(await this.exists(collection))) return [];

    const filter = this.scope(query.tenantId, query.knowledgeBaseId);
    if (query.documentIds) {
      filter.must.push({ key: 'document_id', match: { any: query.documentIds } });
    }
    const result = await this.client.query(collection, {
      query: query.vector,
      filter,
      limit: query.topK,
      with_payload: false,
      with_vector: false,
    });
    // Cosine score in Qdrant is already similarity (higher is closer), as the port wants.
    return result.points.map((p) => ({ chunkId: String(p.id), score: p.score }));
  }

  async deleteDocument(
    tenantId: string,
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<void> {
    const filter = this.scope(tenantId, knowledgeBaseId);
    filter.must.push({ key: 'document_id', match: { value: documentId } });
    await this.deleteWhere(filter);
  }

  async deleteKnowledgeBase(tenantId: string, knowledgeBaseId: string): Promise<void> {
    await this.deleteWhere(this.scope(tenantId, knowledgeBaseId));
  }

  async count(tenantId: string, knowledgeBaseId: string): Promise<number> {
    const filter = this.scope(tenantId, knowledgeBaseId);
    let total = 0;
    for (const collection of await this.collections()) {
      total += (await this.client.count(collection, { filter, exact: true })).count;
    }
    return total;
  }

  private collectionName(size: number): string {
    return `${this.prefix}_${size}`;
  }

  /** This store's collections: `${prefix}_<digits>`, so `parley_chunks_x_8` is not ours. */
  private async collections(): Promise<string[]> {
    const { collections } = await this.client.getCollections();
    const ours = new RegExp(`^${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_\\d+$`);
    return collections.map((c) => c.name).filter((name) => ours.test(name));
  }

  private async deleteWhere(filter: Filter): Promise<void> {
    // A knowledge base may hold vectors of several sizes after an embedding-model change.
    for (const collection of await this.collections()) {
      await this.client.delete(collection, { wait: true, filter });
    }
  }

  private scope(
    tenantId: string,
    knowledgeBaseId: string,
  ): Filter & { must: Schemas['Condition'][] } {
    return {
      must: [
        { key: 'tenant_id', match: { value: tenantId } },
        { key: 'knowledge_base_id', match: { value: knowledgeBaseId } },
      ],
    };
  }

  private async exists(collection: string): Promise<boolean> {
    if (this.ready.has(collection)) return true;
    const { exists } = await this.client.collectionExists(collection);
    if (exists) this.ready.add(collection);
    return exists;
  }

  private async ensureCollection(size: number): Promise<string> {
    const collection = this.collectionName(size);
    if (this.ready.has(collection)) return collection;
    let pending = this.creating.get(collection);
    if (!pending) {
      pending = this.create(collection, size).finally(() => this.creating.delete(collection));
      this.creating.set(collection, pending);
    }
    await pending;
    return collection;
  }

  private async create(collection: string, size: number): Promise<void> {
    if (await this.exists(collection)) return;
    try {
      await this.client.createCollection(collection, { vectors: { size, distance: 'Cosine' } });
    } catch (error) {
      // Another api or worker process created it between our check and our create.
      if (!isAlreadyExists(error)) throw error;
    }
    // Both racers create the indexes (the winner may have died before it did); reports differ
    // on whether Qdrant accepts a duplicate index, so "already exists" is fine here too.
    // is_tenant lets Qdrant co-locate each tenant's points (its multitenancy guide).
    for (const field of INDEXED_FIELDS) {
      try {
        await this.client.createPayloadIndex(collection, {
          wait: true,
          field_name: field,
          field_schema: field === 'tenant_id' ? { type: 'keyword', is_tenant: true } : 'keyword',
        });
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
    this.ready.add(collection);
  }

  /** The URL without user info, for messages. */
  private safeUrl(): string {
    try {
      const url = new URL(this.options.url);
      url.username = '';
      url.password = '';
      return url.toString().replace(/\/$/, '');
    } catch {
      return this.options.url;
    }
  }

  /** A short cause for an operator: HTTP status, socket error code, or message; never the key. */
  private reason(error: unknown): string {
    // Duck-typed: fetch's errors come from another realm under Jest, so instanceof Error fails.
    const { status, message, cause } = (error ?? {}) as {
      status?: unknown;
      message?: unknown;
      cause?: { code?: unknown; message?: unknown };
    };
    const text = typeof message === 'string' ? message : '';
    let reason: string;
    if (typeof status === 'number') reason = `HTTP ${status}${text ? ` ${text}` : ''}`;
    else if (typeof cause?.code === 'string') reason = cause.code;
    else if (typeof cause?.message === 'string') reason = cause.message;
    else reason = text || String(error);
    const key = this.options.apiKey;
    return key ? reason.split(key).join('***') : reason;
  }
}

/** Qdrant answers 409 Conflict (before 1.8: 400 "... already exists!") for a duplicate. */
function isAlreadyExists(error: unknown): boolean {
  const { status, data, message } = (error ?? {}) as {
    status?: unknown;
    data?: unknown;
    message?: unknown;
  };
  if (status === 409) return true;
  const text = `${typeof message === 'string' ? message : ''} ${JSON.stringify(data ?? '')}`;
  return /already exists/i.test(text);
}
