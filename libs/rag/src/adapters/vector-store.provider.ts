import { Logger, type Provider } from '@nestjs/common';
import { AppConfig } from '@parley/core';
import { DataSource } from 'typeorm';
import { type VectorHit, VectorStore } from '../ports/vector-store.port';
import { PgvectorStore } from './pgvector.adapter';
import { QdrantVectorStore } from './qdrant.adapter';

/** No vector store: retrieval is lexical only, and search responses say so. */
export class NoVectorStore extends VectorStore {
  readonly name = 'none';
  async init(): Promise<void> {}
  async upsert(): Promise<void> {}
  async search(): Promise<VectorHit[]> {
    return [];
  }
  async deleteDocument(): Promise<void> {}
  async deleteKnowledgeBase(): Promise<void> {}
  async count(): Promise<number> {
    return 0;
  }
}

/**
 * The store VECTOR_STORE names, checked at boot: `auto` takes pgvector when the database has it
 * and otherwise runs lexical-only, saying so once; an explicit choice that cannot work stops boot.
 */
export const vectorStoreProvider: Provider = {
  provide: VectorStore,
  inject: [AppConfig, DataSource],
  useFactory: async (config: AppConfig, dataSource: DataSource): Promise<VectorStore> => {
    const { vectorStore, qdrant } = config.rag;
    const logger = new Logger('VectorStore');
    let store: VectorStore;
    if (vectorStore === 'qdrant')
      store = new QdrantVectorStore({
        url: qdrant.url!,
        apiKey: qdrant.apiKey,
        collectionPrefix: qdrant.collectionPrefix,
      });
    else if (vectorStore === 'pgvector') store = new PgvectorStore(dataSource);
    else if (vectorStore === 'auto' && (await PgvectorStore.available(dataSource))) {
      // auto: pgvector when it works here; anything in the way (rights, an old version) is
      // said once and retrieval stays lexical, instead of stopping boot.
      const pgvector = new PgvectorStore(dataSource);
      try {
        await pgvector.init();
        return pgvector;
      } catch (error) {
        logger.warn(
          `${(error as Error).message} Retrieval is lexical only (VECTOR_STORE is auto).`,
        );
        return new NoVectorStore();
      }
    } else {
      if (vectorStore === 'auto')
        logger.warn(
          'This database has no pgvector and VECTOR_STORE is auto: retrieval is lexical only. Install pgvector or set VECTOR_STORE=qdrant for vector and hybrid search.',
        );
      store = new NoVectorStore();
    }
    await store.init();
    return store;
  },
};
