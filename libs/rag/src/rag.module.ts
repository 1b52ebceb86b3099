import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { QueueService } from '@parley/queue';
import { AuthModule } from '@parley/auth';
import { DocumentsService } from './documents/documents.service';
import {
  KnowledgeBaseSettingsController,
  KnowledgeBasesController,
} from './knowledge-bases.controller';
import { KnowledgeBaseAccess } from './knowledge-bases/knowledge-base-access.service';
import { RagJobsModule } from './rag-jobs.module';
import { KnowledgeBasesService } from './knowledge-bases/knowledge-bases.service';
import { SearchService } from './search/search.service';
import { DocumentExtractionService } from './extraction/document-extraction.service';

/** Knowledge bases, documents, ingestion and search. */
@Module({
  imports: [AuthModule, RagJobsModule],
  controllers: [KnowledgeBasesController, KnowledgeBaseSettingsController],
  providers: [
    KnowledgeBasesService,
    KnowledgeBaseAccess,
    DocumentsService,
    SearchService,
    DocumentExtractionService,
  ],
  // RagJobsModule: its Embedder meters /v1/embeddings too.
  exports: [KnowledgeBasesService, KnowledgeBaseAccess, SearchService, RagJobsModule],
})
export class RagModule implements OnApplicationBootstrap {
  constructor(private readonly queues: QueueService) {}

  async onApplicationBootstrap(): Promise<void> {
    // The sweep that fails lost ingestions; one schedule however many instances start.
    await this.queues.queue('rag.maintenance').upsertJobScheduler(
      'rag-lost-documents',
      { every: 15 * 60_000 },
      {
        name: 'sweep',
        data: { kind: 'sweep' },
        opts: { removeOnComplete: 100, removeOnFail: 100 },
      },
    );
  }
}
