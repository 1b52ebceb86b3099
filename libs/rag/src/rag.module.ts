import { Module } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { DocumentsService } from './documents/documents.service';
import { KnowledgeBasesController } from './knowledge-bases.controller';
import { RagJobsModule } from './rag-jobs.module';
import { KnowledgeBasesService } from './knowledge-bases/knowledge-bases.service';
import { SearchService } from './search/search.service';

/** Knowledge bases, documents, ingestion and search. */
@Module({
  imports: [AuthModule, RagJobsModule],
  controllers: [KnowledgeBasesController],
  providers: [KnowledgeBasesService, DocumentsService, SearchService],
  exports: [KnowledgeBasesService, SearchService],
})
export class RagModule {}
