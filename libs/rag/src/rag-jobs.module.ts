import { Module } from '@nestjs/common';
import { CostCoreModule } from '@parley/cost';
import { LlmModule } from '@parley/llm';
import { vectorStoreProvider } from './adapters/vector-store.provider';
import { IngestProcessor } from './documents/ingest.processor';
import { LostIngestionsProcessor } from './documents/lost-ingestions.processor';
import { StatisticsRefresher } from './documents/statistics-refresher.service';
import { Embedder } from './embedding/embedder.service';
import { VectorStore } from './ports/vector-store.port';

/**
 * The jobs of retrieval (document ingestion) with what they need (embeddings, the vector
 * store), for the api's in-process workers and apps/worker.
 */
@Module({
  imports: [LlmModule, CostCoreModule],
  providers: [
    IngestProcessor,
    LostIngestionsProcessor,
    Embedder,
    StatisticsRefresher,
    vectorStoreProvider,
  ],
  exports: [Embedder, VectorStore, LlmModule],
})
export class RagJobsModule {}
